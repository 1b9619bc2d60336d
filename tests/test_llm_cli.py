"""`graphmem --llm ... extract --extractor llm`: through the real openai client to a scripted server."""
import json

import pytest

from graphmem.testing.chat_server import ChatServer
from graphmem.cli import main

OBSERVATION = "You are in a kitchen. A closed fridge is here."
REPLY = json.dumps({"triples": [["fridge", "in", "kitchen"], ["fridge", "is", "closed"]]})


@pytest.fixture
def server(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "cache"))
    with ChatServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        yield srv


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_llm_extract_json_reports_tokens_and_cache(server, capsys):
    server.reply(REPLY, prompt_tokens=321, completion_tokens=25)
    argv = ["--llm", "openai:m", "extract", "--extractor", "llm", "--json", OBSERVATION]
    code, out, _ = run(capsys, *argv)
    first = json.loads(out)
    assert code == 0 and first == {
        "model": "openai:m", "triples": [["fridge", "in", "kitchen"], ["fridge", "is", "closed"]],
        "prompt_tokens": 321, "completion_tokens": 25, "cached": False, "ok": True}
    code, out, _ = run(capsys, *argv)
    assert code == 0 and json.loads(out)["cached"] is True and len(server.requests) == 1


def test_llm_extract_plain_prints_the_json_triples(server, capsys):
    server.reply(REPLY)
    code, out, _ = run(capsys, "--llm", "openai:m", "--no-cache", "extract", "--extractor", "llm", OBSERVATION)
    assert code == 0 and json.loads(out) == [["fridge", "in", "kitchen"], ["fridge", "is", "closed"]]


def test_replay_miss_and_bad_spec_are_clear_errors(server, capsys):
    code, _, err = run(capsys, "--llm", "openai:m", "--replay", "extract", "--extractor", "llm", OBSERVATION)
    assert code == 2 and "replay mode: no recorded reply" in err and server.requests == []
    code, _, err = run(capsys, "--llm", "gpt", "extract", "--extractor", "llm", OBSERVATION)
    assert code == 2 and "unknown LLM spec 'gpt'" in err


@pytest.mark.slow
def test_play_with_an_openai_compatible_server(cooking_game, monkeypatch, tmp_path, capsys):
    """Ariadne through the real openai client: every choice is a JSON reply whose schema enumerates
    the candidates (the server answers the last one, so the graph's priors must still lead)."""
    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "cache"))

    def last_option(body):
        schema = body["response_format"]["json_schema"]["schema"]
        return ("reply", (json.dumps({"action": schema["properties"]["action"]["enum"][-1]}),), {})

    with ChatServer(choose=last_option) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        code, out, _ = run(capsys, "--llm", "openai:test-model", "play", "--game", str(cooking_game),
                           "--agent", "ariadne", "--max-steps", "30")
    final = json.loads(out)
    assert code == 0 and final["llm"] == "openai:test-model"
    assert final["llm_calls"] == len(srv.requests) >= 1 and final["agent_stats"]["action_fallbacks"] == 0
    assert final["won"] and final["normalized"] == 1.0
