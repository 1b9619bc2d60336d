"""Two steps of Ariadne and one baseline with the real local model (slow: loads the GGUF)."""
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
    assert final["llm_calls"] >= 2 and final["prompt_tokens"] > 0 and final["completion_tokens"] > 0
    steps = [json.loads(line) for line in log.read_text().splitlines()][1:-1]
    assert all(1 <= s["llm_calls"] <= 3 for s in steps)
    # the grammar-constrained reply is one of the admissible commands, so no fallback was needed
    assert final["agent_stats"]["action_fallbacks"] == 0
