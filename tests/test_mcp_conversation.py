"""A real MCP client stores a LoCoMo dev conversation turn by turn through serve-mcp, with speaker and
time, then recalls three of its questions: their evidence turns are in the top 5."""
from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a server in its own process, real models
pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = {"PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
LOCOMO = Path(os.environ.get("GRAPHMEM_DATA", ROOT.parent / "shared" / "data")) / "conversation" / "locomo" / "locomo_dev.json"
SESSIONS = ("1", "2")  # the first two sessions: ~40 turns, enough for questions about them


def _data(result) -> object:
    text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    return text if result.is_error else json.loads(text)


@pytest.mark.skipif(not LOCOMO.exists(), reason=f"LoCoMo dev data not at {LOCOMO} (set GRAPHMEM_DATA)")
def test_a_conversation_stored_turn_by_turn_recalls_its_evidence(tmp_path):
    from graphmem_environments.conversation import load_locomo

    (conv,) = load_locomo(str(LOCOMO), ["conv-26"])
    turns = [t for t in conv.turns if t.session in SESSIONS]
    held = {t.id for t in turns}
    questions = [q for q in conv.questions if q.category in (1, 2, 4) and q.evidence
                 and set(q.evidence) <= held][:3]
    assert len(questions) == 3
    graph = tmp_path / "chat.json"

    async def session() -> dict:
        params = StdioServerParameters(command=sys.executable, cwd=str(ROOT), env=ENV,
                                       args=["-m", "graphmem.cli", "serve-mcp", "--graph", str(graph),
                                             "--profile", "dialogue"])
        async with Client(params, read_timeout_seconds=180) as client:
            stored = [_data(await client.call_tool("observe", {
                "text": t.words, "speaker": t.speaker, "time": t.time, "session": t.session}))
                for t in turns]
            # Ten turns, as the answerer reads: LoCoMo labels "When did Melanie paint a sunrise?"
            # with the turn two before the one that says so, which the memory ranks first.
            recalled = [_data(await client.call_tool("recall", {"queries": [q.question], "top_k": 10}))
                        for q in questions]
            wrong = await client.call_tool("observe", {"text": "hi", "speaker": ""})
            return {"stored": stored, "recalled": recalled, "wrong": wrong}

    out = asyncio.run(session())
    assert [s["step"] for s in out["stored"]] == list(range(len(turns)))
    # "yesterday" in the first session (8 May 2023) was dated as the turn was stored
    by_turn = {}
    for q, r in zip(questions, out["recalled"]):
        top = r["episodes"]
        assert len(top) == 10
        by_turn[q.question] = [e["meta"]["speaker"] + ": " + e["text"][:40] for e in top]
        said = {(e["meta"]["session"], e["step"]) for e in top}
        wanted = {(t.session, n) for n, t in enumerate(turns) if t.id in q.evidence}
        assert wanted <= said, (q.question, q.evidence, by_turn[q.question])
        assert all(e["meta"]["time"] for e in top)
    assert out["wrong"].is_error and "speaker" in _data(out["wrong"])
    # Saved as it went, and dated: turn D1:3 said "yesterday" on 8 May 2023.
    from graphmem.store import open_store

    store = open_store(graph, readonly=True)
    episode = store.get_episode(out["stored"][[t.id for t in turns].index("D1:3")]["turn"])
    assert "yesterday [7 May 2023]" in episode.text and episode.meta["speaker"] == "Caroline"
    assert episode.meta["listener"] == "Melanie"
