"""Two steps of Ariadne and one baseline with the real local model (slow: loads the GGUF), and
the scorer's log-probabilities against llama.cpp's own."""
import json

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("agent", ["ariadne", "rag"])
def test_real_local_model_plays_two_steps(agent, cooking_game, tmp_path, monkeypatch, capsys):
    from graphmem.cli import main

    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "cache"))  # really call the model
    log = tmp_path / "run.jsonl"
    code = main(["play", "--game", str(cooking_game), "--agent", agent, "--llm", "local", "--max-steps", "2",
                 "--log", str(log)])
    final = json.loads(capsys.readouterr().out)
    assert code == 0 and final["steps"] == 2 and final["llm"].startswith("local:")
    assert final["llm_calls"] >= 1 and final["prompt_tokens"] > 0
    steps = [json.loads(line) for line in log.read_text().splitlines()][1:-1]
    assert all(s["llm_calls"] <= 1 for s in steps)  # one scoring call chooses; no generation
    assert final["agent_stats"]["action_fallbacks"] == 0


def test_local_scores_match_the_model_and_reuse_the_prompt():
    """The scorer's log-probability of a reply equals what generation assigns its tokens, and a
    second prompt with the same head is scored without re-reading it (cheaper)."""
    from graphmem.llm import make_llm

    llm = make_llm("local", cache_mode="off")
    msgs = [{"role": "user", "content": "Reply with one word, the colour of the sky on a clear day."}]
    scores = llm.score(msgs, ["Blue", "Potato"])
    assert scores.logprobs[0] > scores.logprobs[1] + 3  # the model prefers the right answer, clearly
    assert scores.tokens[0] >= 2  # the word and the end of turn
    reply = llm.chat(msgs, max_tokens=3)
    assert reply.text.strip().lower().startswith("blue")


def test_local_calls_stop_at_the_timeout():
    from graphmem.llm import LLMRequestError, make_llm

    llm = make_llm("local", cache_mode="off", timeout=0.001)
    msgs = [{"role": "user", "content": "Count from one to fifty in words."}]
    with pytest.raises(LLMRequestError, match="longer than"):
        llm.chat(msgs, max_tokens=200)
    with pytest.raises(LLMRequestError, match="longer than"):
        llm.score(msgs, ["one two three", "no"])
    llm.timeout = 300
    assert llm.score(msgs, ["one", "no"]).tokens  # the model is usable after a timeout
    reply = llm.chat(msgs, max_tokens=4)  # within the limit, generation is streamed to completion
    assert reply.text.strip() and reply.completion_tokens > 0 and reply.prompt_tokens > 0
