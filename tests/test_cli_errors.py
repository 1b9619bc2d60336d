"""The CLI's error boundary: bad input, faults and a second writer end in one clear line (exit 2),
a bug in a short message plus a trace file (exit 1), never a bare traceback or a silent loss."""
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphmem.testing.chat_server import ChatServer
from graphmem.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_corpus.json"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv) -> str:
    """argparse's own refusal: exit 2 with a usage line."""
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    assert exc.value.code == 2
    return capsys.readouterr().err


@pytest.fixture(autouse=True)
def _crash_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_CRASH_DIR", str(tmp_path / "crashes"))


def test_a_bug_is_a_short_message_and_a_trace_file(tmp_path, capsys, monkeypatch):
    from graphmem.extract.offline import OfflineExtractor

    def boom(self, texts, n_process=1):
        raise KeyError("surprise")

    monkeypatch.setattr(OfflineExtractor, "extract_many", boom)
    code, out, err = run(capsys, "extract", "There is a key.")
    assert code == 1 and out == "" and "Traceback" not in err
    assert "internal error (KeyError: 'surprise')" in err and len(err.splitlines()) == 1
    (trace,) = (tmp_path / "crashes").iterdir()
    assert trace.name.startswith("graphmem-extract-") and str(trace) in err
    assert "Traceback" in trace.read_text() and "boom" in trace.read_text()
    code, _, err = run(capsys, "-v", "extract", "There is a key.")
    assert code == 1 and "Traceback (most recent call last)" in err and "in boom" in err


def test_user_errors_are_one_line_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "cypher", "--graph", str(tmp_path / "none.json"), "MATCH (a) RETURN a")
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("graphmem cypher: error:")


# --- data loss ---------------------------------------------------------------------------------

HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from graphmem.util.filelock import FileLock
lock = FileLock({path!r}).acquire()
open({ready!r}, "w").close()
time.sleep(120)
"""


@pytest.fixture
def held(tmp_path):
    """Hold the lock of a file from another process, as a concurrent writer would."""
    procs = []

    def hold(path: Path) -> subprocess.Popen:
        ready = tmp_path / f"ready{len(procs)}"
        proc = subprocess.Popen([sys.executable, "-c", HOLDER.format(root=str(ROOT), path=str(path),
                                                                      ready=str(ready))])
        procs.append(proc)
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists()
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_a_graph_file_through_a_symlink_is_locked_and_saved_as_itself(tmp_path, capsys, held):
    real, link = tmp_path / "g.json", tmp_path / "link.json"
    assert run(capsys, "build", str(SAMPLE), "--out", str(real))[0] == 0
    link.symlink_to(real)
    proc = held(real)
    code, _, err = run(capsys, "add", "--graph", str(link), str(SAMPLE))
    assert code == 2 and f"pid {proc.pid}" in err
    proc.kill()
    proc.wait()
    corpus = tmp_path / "more.json"
    corpus.write_text(json.dumps([{"title": "Oslo", "text": "Oslo is the capital of Norway."}]))
    code, out, _ = run(capsys, "add", "--graph", str(link), str(corpus))
    assert code == 0 and json.loads(out)["added"] == 1
    assert link.is_symlink() and "Oslo" in real.read_text()


def test_a_loop_of_links_is_a_clear_error(tmp_path, capsys):
    a, b = tmp_path / "a.gmem", tmp_path / "b.gmem"
    a.symlink_to(b)
    b.symlink_to(a)
    for argv in (["cypher", "--graph", str(a), "RETURN 1"], ["add", "--graph", str(a), str(SAMPLE)]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and "cannot follow the links of" in err and out == ""


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_the_graph_stays_whole(tmp_path, capsys, monkeypatch):
    import errno

    import graphmem.util.atomicfile

    out = tmp_path / "g.json"
    assert run(capsys, "build", str(SAMPLE), "--out", str(out))[0] == 0
    before = out.read_bytes()
    corpus = tmp_path / "more.json"
    corpus.write_text(json.dumps([{"title": "Oslo", "text": "Oslo is the capital of Norway."}]))

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(graphmem.util.atomicfile.os, "fsync", full)
    code, _, err = run(capsys, "add", "--graph", str(out), str(corpus))
    assert code == 2 and "No space left on device" in err and "is unchanged" in err and "bug" not in err
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.slow
def test_a_second_build_into_the_same_file_fails_clearly(tmp_path, capsys, held):
    out = tmp_path / "g.json"
    proc = held(out)
    code, stdout, err = run(capsys, "build", str(SAMPLE), "--out", str(out))
    assert code == 2 and stdout == "" and f"being written by another graphmem process (pid {proc.pid})" in err
    assert not out.exists()
    proc.kill()
    proc.wait()
    code, _, _ = run(capsys, "build", str(SAMPLE), "--out", str(out))
    assert code == 0 and not (tmp_path / ".g.json.lock").exists()


@pytest.mark.slow
def test_build_into_an_existing_graph_needs_append_or_force(tmp_path, capsys):
    out = tmp_path / "g.json"
    one = tmp_path / "one.json"
    one.write_text(json.dumps([{"title": "Oslo", "text": "Oslo is the capital of Norway."}]))
    assert run(capsys, "build", str(one), "--out", str(out))[0] == 0
    before = out.read_bytes()
    code, _, err = run(capsys, "build", str(SAMPLE), "--out", str(out))
    assert code == 2 and "--append" in err and "--force" in err and out.read_bytes() == before
    code, stdout, _ = run(capsys, "build", str(SAMPLE), "--out", str(out), "--append")
    assert code == 0 and json.loads(stdout)["episodes"] == 6
    code, stdout, _ = run(capsys, "build", str(one), "--out", str(out), "--force")
    assert code == 0 and json.loads(stdout)["episodes"] == 1


def test_play_never_overwrites_a_log_and_resume_only_appends(cooking_game, tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    base = ["play", "--game", str(cooking_game), "--agent", "walkthrough", "--log", str(log)]
    assert run(capsys, *base, "--max-steps", "3")[0] == 0
    finished = log.read_bytes()
    code, _, err = run(capsys, *base, "--max-steps", "3")
    assert code == 2 and "already holds a run" in err and log.read_bytes() == finished
    code, out, _ = run(capsys, *base, "--force")
    assert code == 0 and json.loads(out)["won"] and log.read_bytes() != finished
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:3]) + lines[3][:20])  # two steps, then a torn line
    inode = log.stat().st_ino
    code, out, _ = run(capsys, *base, "--resume")
    assert code == 0 and json.loads(out)["resumed_steps"] == 2
    # Appended in place after the kept lines: the torn one is cut off, nothing before it rewritten.
    assert log.stat().st_ino == inode and log.read_bytes().startswith(b"".join(lines[:3]))
    assert [json.loads(line)["type"] for line in log.read_bytes().splitlines()][-1] == "final"


def test_a_second_play_on_a_log_in_use_fails_clearly(cooking_game, tmp_path, capsys, held):
    log = tmp_path / "run.jsonl"
    held(log)
    code, _, err = run(capsys, "play", "--game", str(cooking_game), "--agent", "walkthrough", "--log", str(log),
                       "--force")
    assert code == 2 and "run log" in err and "another graphmem process" in err


# --- hang -------------------------------------------------------------------------------------

@pytest.mark.slow  # waits out LLM deadlines
def test_llm_timeout_bounds_each_call(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "cache"))
    with ChatServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        for _ in range(4):
            server.stall(5.0)
        started = time.monotonic()
        code, _, err = run(capsys, "--llm", "openai:m", "--llm-timeout", "1", "extract", "--extractor", "llm",
                           "A key is here.")
        # Not a timing test: without the deadline the first stall alone would take its 5 s.
        assert code == 2 and "1 s deadline" in err and time.monotonic() - started < 5.0
        monkeypatch.setenv("GRAPHMEM_LLM_TIMEOUT", "0.5")
        server.script.clear()
        server.stall(5.0).stall(5.0)
        code, _, err = run(capsys, "--llm", "openai:m", "extract", "--extractor", "llm", "A cup is here.")
        assert code == 2 and "0.5 s deadline" in err
        server.raw(b"<html>bad gateway</html>", "text/html").raw(b"{}").raw(b"[]").raw(b"").raw(b"")
        code, _, err = run(capsys, "--llm", "openai:m", "--llm-timeout", "30", "extract", "--extractor", "llm",
                           "A box is here.")
        assert code == 2 and "sent no chat completion" in err and "Traceback" not in err
    assert "--llm-timeout" in usage_error(capsys, "--llm-timeout", "0", "extract", "x")


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("content,needle", [
    (json.dumps([{"title": "x", "text": [1, 2]}]), "text must be a string or a list of strings"),
    ("[" * 50_000 + "]" * 50_000, "too deeply"),
    (json.dumps({"A": {"b": 1}}), "text must be a string"),
    (b"\xff\xfe[\x00", "not UTF-8"),
])
def test_bad_corpora_are_clear_errors(tmp_path, capsys, content, needle):
    src = tmp_path / "c.json"
    src.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, _, err = run(capsys, "build", str(src), "--out", str(tmp_path / "g.json"))
    assert code == 2 and needle in err and not (tmp_path / "g.json").exists()


@pytest.mark.slow
def test_bom_corpus_and_non_utf8_stdin_are_read(tmp_path, capsys, monkeypatch):
    src = tmp_path / "c.json"
    src.write_bytes(b"\xef\xbb\xbf" + json.dumps(["The knife is on the table."]).encode())
    code, out, _ = run(capsys, "build", str(src), "--out", str(tmp_path / "g.json"))
    assert code == 0 and json.loads(out)["triples"] == 1
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"The caf\xe9 door is open.")))
    code, out, err = run(capsys, "extract", "-")
    assert code == 0 and "not UTF-8" in err and [t[1:] for t in json.loads(out)] == [["is", "open"]]


@pytest.mark.slow
def test_long_passages_are_parsed_in_pieces(monkeypatch):
    from graphmem.extract import offline

    monkeypatch.setattr(offline, "MAX_CHARS", 60)
    ext = offline.OfflineExtractor()
    ext.nlp.max_length = 100  # what E088 guards, made small
    text = "The knife is on the table. " * 5 + "\n\nThere is a key in the box. " * 3
    assert ext.extract(text) == [("knife", "on", "table"), ("key", "in", "box")]


@pytest.mark.parametrize("argv", [
    ["eval-qa", "--data", "d", "--damping", "5"],
    ["eval-qa", "--data", "d", "--synonym-threshold", "7"],
    ["ask", "--graph", "g", "q", "--damping", "1"],
    ["ask", "--graph", "g", "q", "--name-bridge-weight", "-0.1"],
    ["build", "c", "--out", "g", "--batch-size", "0"],
    ["build", "c", "--out", "g", "--batch-size", "-1"],
    ["build", "c", "--out", "g", "--limit", "0"],
    ["build", "c", "--out", "g", "--limit", "-2"],
    ["eval-qa", "--data", "d", "--limit", "0"],
    ["play", "--game", "g", "--agent", "walkthrough", "--seed", "-5"],
    ["play", "--game", "g", "--agent", "walkthrough", "--max-steps", "-1"],
    ["eval-memory", "--game", "g", "--seed", "-5"],
    ["eval-agents", "--games", "g", "--agents", "walkthrough", "--runs", "0"],
    ["recall", "--graph", "g", "q", "--width", "-1"],
    ["recall", "--graph", "g", "q", "--depth", "-1"],
    ["view", "--graph", "g", "--out", "v.html", "--max-edges", "-5"],
    ["ask", "--graph", "g", "q", "--k", "0"],
    ["eval-qa", "--data", "d", "--damping", "nan"],
])
def test_out_of_range_numbers_are_refused(capsys, argv):
    err = usage_error(capsys, *argv)
    assert "out of range" in err or "expected" in err


def test_recall_config_refuses_negative_counts():
    from graphmem.errors import ConfigError
    from graphmem.retrieve import RecallConfig

    with pytest.raises(ConfigError, match="width"):
        RecallConfig(width=-1)


@pytest.mark.parametrize("spec,needle", [("tw-treasure_hunter:level=999", "within [1-30]"),
                                         ("custom:world_size=0", "world_size"),
                                         ("tw-cooking:recipe=1,bogus=2", "Bad spec")])
def test_bad_generator_specs_are_clear_errors(spec, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_TW_CACHE", str(tmp_path))
    code, _, err = run(capsys, "eval-memory", "--game", spec)
    assert code == 2 and needle in err


@pytest.mark.parametrize("body", [b"not a game", b"\x08" + b"\x00" * 100, b""])
def test_a_z8_that_is_not_a_game_is_a_clear_error(body, tmp_path, capsys):
    game = tmp_path / "bad.z8"
    game.write_bytes(body)
    code, _, err = run(capsys, "play", "--game", str(game), "--agent", "walkthrough")
    assert code == 2 and "not a playable game" in err


def test_eval_memory_without_a_walkthrough_is_a_clear_error(tiny_world, capsys):
    code, _, err = run(capsys, "eval-memory", "--game", str(tiny_world))
    assert code == 2 and "no walkthrough" in err


@pytest.mark.slow
def test_unwritable_outputs_fail_before_the_work(tmp_path, capsys, cooking_game):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    started = time.monotonic()
    code, _, err = run(capsys, "build", str(SAMPLE), "--out", str(blocker / "dir" / "x.json"))
    assert code == 2 and "is a file, not a folder" in err and time.monotonic() - started < 2
    graph = tmp_path / "g.json"
    assert run(capsys, "build", str(SAMPLE), "--out", str(graph))[0] == 0
    code, _, err = run(capsys, "view", "--graph", str(graph), "--out", str(tmp_path))
    assert code == 2 and "is a folder" in err
    code, _, err = run(capsys, "eval-agents", "--games", str(cooking_game), "--agents", "walkthrough",
                       "--out", str(blocker))
    assert code == 2 and "is a file" in err
    code, _, err = run(capsys, "play", "--game", str(cooking_game), "--agent", "walkthrough", "--log", str(tmp_path))
    assert code == 2 and "is a folder" in err


# --- wrong results -------------------------------------------------------------------------------

def test_split_games_keeps_commas_inside_generator_specs(tmp_path):
    from graphmem_environments.textworld import split_games

    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps({"cook": {"game": "cook.z8"}}))
    assert split_games("tw-cooking:recipe=1,take=1,go=1,cut") == ["tw-cooking:recipe=1,take=1,go=1,cut"]
    assert split_games("tw-cooking:recipe=1,take=1,cook,games/a.z8,custom:world_size=2,nb_objects=3",
                       tasks=tasks) == ["tw-cooking:recipe=1,take=1", "cook", "games/a.z8",
                                        "custom:world_size=2,nb_objects=3"]
    assert split_games("a.z8,b.z8;tw-treasure_hunter:level=2;tw-cooking:recipe=1") == [
        "a.z8", "b.z8", "tw-treasure_hunter:level=2", "tw-cooking:recipe=1"]
    assert split_games("cook_1,cook_2") == ["cook_1", "cook_2"]


@pytest.mark.slow  # plays the cooking game
def test_eval_agents_plays_the_spec_it_was_given(tw_cache, tmp_path, capsys, monkeypatch):
    from graphmem_environments.textworld import parse_spec

    monkeypatch.setenv("GRAPHMEM_TW_CACHE", str(tw_cache))  # the conftest's cooking game, generated once
    spec = "tw-cooking:recipe=1,take=1,go=1,cut"
    code, out, _ = run(capsys, "eval-agents", "--games", spec, "--agents", "walkthrough", "--seed", "1",
                       "--out", str(tmp_path / "eval"), "--json")
    result = json.loads(out)
    assert code == 0 and [r["game"] for r in result["rows"]] == [spec]
    assert result["runs"][0]["task"] == f"{parse_spec(spec).canonical}@1"
    assert result["rows"][0]["normalized_mean"] == 1.0
