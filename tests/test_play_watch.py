"""Watching long runs: progress bars (on a terminal or with -v, never with --quiet), `play
--print-steps` lines as steps happen, and `play --view` writing the view of the final memory."""
import json
import re

import pytest

from graphmem.cli import main
from graphmem.testing.chat_server import ChatServer

BAR = re.compile(r"\d+/\d+ \[[0-9:]+<[0-9:?]+, +[0-9.?]+(?:s/)?(step|run|passage)")  # count, ETA, rate


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_play_prints_steps_and_writes_the_view_of_its_memory(cooking_game, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "cache"))
    view = tmp_path / "views" / "memory.html"

    def last_option(body):
        schema = body["response_format"]["json_schema"]["schema"]
        return ("reply", (json.dumps({"action": schema["properties"]["action"]["enum"][-1]}),), {})

    with ChatServer(choose=last_option) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        code, out, err = run(capsys, "--llm", "openai:test-model", "play", "--game", str(cooking_game),
                             "--agent", "ariadne", "--max-steps", "30", "--print-steps", "--view", str(view))
    final = json.loads(out)  # stdout holds the result alone
    assert code == 0 and final["won"]
    lines = [line for line in err.splitlines() if line.startswith("step ")]
    assert len(lines) == final["steps"]
    assert re.match(r"step +1  score \d+/\d+  tokens \d+\+\d+ +[0-9.]+ s  > \S", lines[0])
    assert f"score {final['score']:g}/{final['max_score']:g}" in lines[-1]
    assert not BAR.search(err)  # stderr is no terminal here: no bar
    page = view.read_text(encoding="utf-8")
    data = json.loads(re.search(r"const D = (\{.*?\});\n", page).group(1))
    assert data["kind"] == "game"
    kinds = dict(data["entities"])
    assert kinds["kitchen"] == "room" and any(k == "thing" for k in kinds.values())
    assert len([f for f in data["facts"] if f[4] is None]) == final["agent_stats"]["memory_size"]


def test_view_needs_an_agent_with_a_graph_memory(cooking_game, tmp_path, capsys):
    code, _, err = run(capsys, "play", "--game", str(cooking_game), "--agent", "walkthrough",
                       "--view", str(tmp_path / "v.html"))
    assert code == 2 and "has none (use --agent ariadne)" in err
    assert not (tmp_path / "v.html").exists()


def test_progress_bars_show_with_verbose_and_never_with_quiet(cooking_game, tmp_path, capsys):
    base = ["play", "--game", str(cooking_game), "--agent", "walkthrough"]
    code, out, err = run(capsys, "-v", *base)
    assert code == 0 and BAR.search(err) and BAR.search(err).group(1) == "step"
    assert json.loads(out)["won"]
    code, _, err = run(capsys, "-v", *base, "--quiet")
    assert code == 0 and not BAR.search(err)
    code, _, err = run(capsys, "-v", "eval-agents", "--games", str(cooking_game), "--agents", "walkthrough",
                       "--runs", "2", "--out", str(tmp_path / "eval"), "--json")
    assert code == 0 and "run" in {m.group(1) for m in BAR.finditer(err)}


def test_on_record_sees_every_record_as_the_log_does(cooking_game, tmp_path):
    from graphmem_agents.evaluate import play

    seen = []
    final = play(str(cooking_game), "walkthrough", log_path=tmp_path / "run.jsonl", on_record=seen.append)
    logged = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert seen == logged and seen[-1]["type"] == "final" and final["steps"] == len(seen) - 2


@pytest.mark.slow
def test_build_shows_a_passage_bar_unless_quiet(tmp_path, capsys):
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps(["Ulm is a city in Germany.", "Warsaw is the capital of Poland."]))
    code, out, err = run(capsys, "-v", "build", str(corpus), "--out", str(tmp_path / "a.json"))
    assert code == 0 and json.loads(out)["passages"] == 2
    assert BAR.search(err) and BAR.search(err).group(1) == "passage"
    code, out, err = run(capsys, "-v", "build", str(corpus), "--out", str(tmp_path / "b.json"), "--quiet")
    assert code == 0 and json.loads(out)["passages"] == 2 and not BAR.search(err)
