"""`graphmem play` and `graphmem eval-agents` end to end on generated games; resume after a kill."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphmem.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def read_log(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


@pytest.mark.parametrize("game", [pytest.param("cooking_game", marks=pytest.mark.slow), "hunter_game"])
def test_walkthrough_agent_reaches_the_max_score(game, request, tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    code, out, _ = run(capsys, "play", "--game", str(request.getfixturevalue(game)), "--agent", "walkthrough",
                       "--log", str(log))
    final = json.loads(out)
    assert code == 0 and final["won"] and final["normalized"] == 1.0 and final["score"] == final["max_score"]
    for key in ("score", "max_score", "normalized", "steps", "won", "llm_calls", "prompt_tokens",
                "completion_tokens", "seconds"):
        assert key in final
    lines = read_log(log)
    assert lines[0]["type"] == "start" and lines[-1] == {k: v for k, v in final.items() if k != "wall_seconds"}
    assert [r["step"] for r in lines[1:-1]] == list(range(1, final["steps"] + 1))
    assert lines[-2]["normalized"] == 1.0 and all("observation" in r for r in lines[1:-1])


def test_resume_from_a_torn_log_continues_it(cooking_game, tmp_path, capsys):
    full, cut = tmp_path / "full.jsonl", tmp_path / "cut.jsonl"
    base = ["play", "--game", str(cooking_game), "--agent", "walkthrough"]
    code, out, _ = run(capsys, *base, "--log", str(full))
    reference = json.loads(out)
    lines = full.read_text().splitlines()
    cut.write_text("\n".join(lines[:4]) + "\n" + lines[4][:25])  # 3 steps, then a line cut mid-write
    code, out, _ = run(capsys, *base, "--log", str(cut), "--resume")
    resumed = json.loads(out)
    assert code == 0 and resumed["resumed_steps"] == 3 and resumed["replay_mismatches"] == 0
    assert {k: resumed[k] for k in ("score", "steps", "won")} == {k: reference[k] for k in ("score", "steps", "won")}
    assert [r.get("action") for r in read_log(cut)] == [r.get("action") for r in read_log(full)]
    code, out, _ = run(capsys, *base, "--log", str(cut), "--resume")  # a finished run is not replayed
    assert code == 0 and json.loads(out)["resumed_steps"] == 3


def test_resume_refuses_another_runs_log(cooking_game, hunter_game, tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    run(capsys, "play", "--game", str(cooking_game), "--agent", "walkthrough", "--log", str(log), "--max-steps", "2")
    code, _, err = run(capsys, "play", "--game", str(hunter_game), "--agent", "walkthrough", "--log", str(log),
                       "--resume")
    assert code == 2 and "cannot resume" in err


def test_play_usage_errors(cooking_game, capsys):
    code, _, err = run(capsys, "play", "--game", str(cooking_game), "--agent", "walkthrough", "--resume")
    assert code == 2 and "--resume needs --log" in err
    code, _, err = run(capsys, "play", "--game", str(cooking_game), "--agent", "nobody")
    assert code == 2 and "unknown agent 'nobody'" in err


def test_eval_agents_table_and_reuse_of_finished_runs(cooking_game, tmp_path, capsys):
    argv = ["eval-agents", "--games", str(cooking_game), "--agents", "walkthrough", "--runs", "2",
            "--out", str(tmp_path)]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("| game | agent | runs | normalized mean | best |")
    assert "| walkthrough | 2 | 1.000 | 1.000 | 2 |" in out
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["rows"][0]["normalized_mean"] == 1.0 and len(result["runs"]) == 2
    assert result["rows"][0]["loops"] == 0 and all(r["loops"] == {"two_cycles": 0, "long_repeats": 0}
                                                  for r in result["runs"])
    assert (tmp_path / "results.md").read_text().strip() == out.strip()
    logs = {p.name: p.read_text() for p in (tmp_path / "logs").iterdir()}
    assert len(logs) == 2
    code, out2, _ = run(capsys, *argv, "--json")  # finished runs are taken from their logs
    assert code == 0 and [r["seconds"] for r in json.loads(out2)["runs"]] == [r["seconds"] for r in result["runs"]]
    assert {p.name: p.read_text() for p in (tmp_path / "logs").iterdir()} == logs


# --- resume after a real kill: Ariadne with scripted replies through a response cache ------------

KILLED_RUN = """
import sys, time, json
sys.path[:0] = [{root!r}, {tests!r}]
from scripted_llm import ScriptedChat
from agent_script import choose
from graphmem_agents.evaluate import play
calls = 0
def script(messages, schema):
    global calls
    calls += 1
    if calls == {stall_at}:
        open({marker!r}, "w").close()
        time.sleep(600)  # killed here, in the middle of a step
    return choose(messages, schema)
play({game!r}, "ariadne", ScriptedChat(script, cache_path={cache!r}), max_steps=8, log_path={log!r})
"""


@pytest.mark.slow
def test_resume_after_kill_rebuilds_the_agent_from_the_cache(tiny_world, tmp_path):
    from agent_script import choose
    from graphmem_agents.evaluate import play
    from scripted_llm import ScriptedChat

    log, marker, cache = tmp_path / "run.jsonl", tmp_path / "stalled", tmp_path / "cache.sqlite"
    code = KILLED_RUN.format(root=str(ROOT), tests=str(ROOT / "tests"), stall_at=4, marker=str(marker),
                             game=str(tiny_world), cache=str(cache), log=str(log))
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), "the run never reached its 4th LLM call"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed = read_log(log)
    done = len(killed) - 1  # the steps logged before the kill (calls 1-3; a walk's step makes none)
    assert [r["type"] for r in killed] == ["start"] + ["step"] * done and done >= 3
    killed_calls = sum(r["llm_calls"] for r in killed[1:])

    resumed_llm = ScriptedChat(choose, cache_path=cache)
    resumed = play(str(tiny_world), "ariadne", resumed_llm, max_steps=8, log_path=log, resume=True)
    reference_llm = ScriptedChat(choose)
    reference = play(str(tiny_world), "ariadne", reference_llm, max_steps=8)

    assert resumed["resumed_steps"] == done and resumed["replay_mismatches"] == 0
    assert resumed["cached"] == 0 and resumed_llm.usage.snapshot().cached == killed_calls  # replay: cache only
    assert len(resumed_llm.requests) == len(reference_llm.requests) - killed_calls  # only steps after the kill
    lines = read_log(log)
    assert [r["step"] for r in lines[1:-1]] == list(range(1, 9))
    assert lines[1:done + 1] == killed[1:]  # the log continues the killed one
    for key in ("score", "steps", "won", "normalized"):
        assert resumed[key] == reference[key]
    assert resumed["agent_stats"]["memory_size"] == reference["agent_stats"]["memory_size"]
    assert resumed["live_steps"] == 8  # the killed process ran steps 1-3 live, this one 4-8

    again = play(str(tiny_world), "ariadne", ScriptedChat(choose, cache_path=cache), max_steps=8)
    assert again["cached"] == reference["llm_calls"] and again["llm_calls"] == 0 and again["live_steps"] == 0


def test_llm_options_work_before_and_after_the_command():
    from graphmem.cli import build_parser

    parse = build_parser().parse_args
    args = parse(["--llm", "openai:x", "play", "--game", "g", "--agent", "rag"])
    assert (args.llm, args.llm_cache) == ("openai:x", "on")  # the global value is kept
    args = parse(["play", "--game", "g", "--agent", "rag", "--llm", "local", "--replay"])
    assert (args.llm, args.llm_cache) == ("local", "replay")
    args = parse(["--no-cache", "eval-agents", "--games", "g", "--agents", "rag"])
    assert (args.llm, args.llm_cache) == (None, "off")
