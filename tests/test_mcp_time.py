"""Time through serve-mcp with the SDK's real client: observe and add_triples keep when something was
told (reference_time, the episode's meta "time"), and recall(valid_at=...) answers with the facts valid
at a past step, or at a time read as the last step told by then, retired ones included."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a server in its own process, the real embedder
pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = {"PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
MOVES = [("2024-05-01T09:00:00Z", ["knife", "on", "table"]),
         ("2024-05-02T10:00:00Z", ["knife", "in", "inventory"]),
         ("2024-05-03T08:00:00+02:00", ["knife", "in", "drawer"])]


def _answer(result) -> object:
    text = result.content[0].text
    return text if result.is_error else json.loads(text)


def _where(answer: dict) -> dict[str, tuple[int, int | None]]:
    """The knife's places in a recall answer, with their validity."""
    return {t["object"]: (t["valid_from"], t["valid_until"]) for t in answer["triples"]
            if t["subject"] == "knife" and t["relation"] in ("on", "in")}


def test_recall_valid_at_a_step_or_a_time(tmp_path):
    graph = tmp_path / "memory.json"

    async def session() -> dict:
        params = StdioServerParameters(command=sys.executable, cwd=str(ROOT), env=ENV,
                                       args=["-m", "graphmem.cli", "serve-mcp", "--graph", str(graph)])
        async with Client(params, read_timeout_seconds=120) as client:
            for when, fact in MOVES:
                await client.call_tool("add_triples", {"triples": [fact], "reference_time": when})
            await client.call_tool("observe", {"text": "You open the drawer.", "reference_time": "2024-05-04"})

            async def recall(**args):
                return _answer(await client.call_tool("recall", {"queries": ["where is the knife?"], **args}))

            return {"now": await recall(), "step0": await recall(valid_at=0),
                    "may1": await recall(valid_at="2024-05-01T12:00:00Z"),
                    "may2": await recall(valid_at="2024-05-03T06:30:00+01:00"),  # 05:30 UTC: before the drawer
                    "april": await recall(valid_at="2024-04-30"),
                    "bad_time": await recall(valid_at="yesterday"),
                    "bad_told": _answer(await client.call_tool("observe", {"text": "You wait.",
                                                                           "reference_time": "soon"}))}

    out = asyncio.run(session())
    assert _where(out["now"]) == {"drawer": (2, None)}
    assert "valid_at" not in out["now"]
    # Step 0: the knife on the table, retired at step 1, shown with that validity.
    assert _where(out["step0"]) == {"table": (0, 1)} and out["step0"]["valid_at"] == 0
    assert "knife on table" in out["step0"]["prompt"]
    assert _where(out["may1"]) == {"table": (0, 1)} and out["may1"]["valid_at"] == 0
    assert _where(out["may2"]) == {"inventory": (1, 2)} and out["may2"]["valid_at"] == 1
    assert out["april"]["triples"] == [] and out["april"]["valid_at"] == -1  # before anything was told
    assert "valid_at" in out["bad_time"] and "ISO 8601" in out["bad_time"]
    assert "reference_time" in out["bad_told"]
    from graphmem.store import open_store

    store = open_store(graph, readonly=True)
    assert [e.meta.get("time") for e in store.episodes()] == [when for when, _ in MOVES] + ["2024-05-04"]


def test_a_time_needs_timed_episodes(tmp_path):
    from graphmem.service import GraphService, ServiceError
    from graphmem.store import open_store

    with GraphService(open_store(tmp_path / "m.json")) as service:
        service.add_triples([["key", "in", "box"]])
        with pytest.raises(ServiceError, match="give valid_at as a step"):
            service.recall("where is the key?", valid_at="2024-05-01")
        assert [t["object"] for t in service.recall("where is the key?", valid_at=0)["triples"]] == ["box"]
