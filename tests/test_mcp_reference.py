"""The reference memory server's tools (modelcontextprotocol/servers ``memory``) served by graphmem
serve-mcp, driven by the SDK's real client over stdio: a scripted session in the reference's own
shapes gets the answers the reference gives (a small model of its index.ts computes them here), with
titles, annotations, output schemas and structured content; read_graph pages a big graph within its
budget, each entity and relation exactly once; clients listening for changes hear of each write."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import anyio
import pytest

pytestmark = pytest.mark.slow  # a server in its own process, the real embedder
pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = {"PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
REFERENCE_TOOLS = {"create_entities", "create_relations", "add_observations", "delete_entities",
                   "delete_observations", "delete_relations", "read_graph", "search_nodes", "open_nodes"}
# The reference's annotations (index.ts): (readOnlyHint, destructiveHint, idempotentHint)
HINTS = {"create_entities": (False, False, False), "create_relations": (False, False, False),
         "add_observations": (False, False, False), "delete_entities": (False, True, True),
         "delete_observations": (False, True, True), "delete_relations": (False, True, True),
         "read_graph": (True, False, True), "search_nodes": (True, False, True), "open_nodes": (True, False, True)}


class Reference:
    """The reference server's semantics (its KnowledgeGraphManager), to compute expected answers."""

    def __init__(self):
        self.entities: list[dict] = []
        self.relations: list[dict] = []

    def create_entities(self, entities):
        new = [dict(e, observations=list(e["observations"])) for e in entities
               if not any(x["name"] == e["name"] for x in self.entities)]
        self.entities += new
        return {"entities": [dict(e, observations=list(e["observations"])) for e in new]}

    def create_relations(self, relations):
        new = [r for r in relations if r not in self.relations]
        self.relations += new
        return {"relations": new}

    def add_observations(self, observations):
        results = []
        for o in observations:
            entity = next(e for e in self.entities if e["name"] == o["entityName"])
            added = [c for c in o["contents"] if c not in entity["observations"]]
            entity["observations"] += added
            results.append({"entityName": o["entityName"], "addedObservations": added})
        return {"results": results}

    def delete_entities(self, names):
        self.entities = [e for e in self.entities if e["name"] not in names]
        self.relations = [r for r in self.relations if r["from"] not in names and r["to"] not in names]
        return {"success": True, "message": "Entities deleted successfully"}

    def delete_observations(self, deletions):
        for d in deletions:
            for e in self.entities:
                if e["name"] == d["entityName"]:
                    e["observations"] = [o for o in e["observations"] if o not in d["observations"]]
        return {"success": True, "message": "Observations deleted successfully"}

    def delete_relations(self, relations):
        self.relations = [r for r in self.relations if r not in relations]
        return {"success": True, "message": "Relations deleted successfully"}

    def _around(self, names):
        return {"entities": [e for e in self.entities if e["name"] in names],
                "relations": [r for r in self.relations if r["from"] in names or r["to"] in names]}

    def read_graph(self):
        return {"entities": self.entities, "relations": self.relations}

    def search_nodes(self, query):
        q = query.lower()
        return self._around({e["name"] for e in self.entities if q in e["name"].lower() or q in e["entityType"].lower()
                             or any(q in o.lower() for o in e["observations"])})

    def open_nodes(self, names):
        return self._around(set(names))


# The reference README's examples, as one session.
SCRIPT = [
    ("create_entities", {"entities": [
        {"name": "John_Smith", "entityType": "person", "observations": ["Speaks fluent Spanish"]},
        {"name": "Anthropic", "entityType": "organization", "observations": ["An AI safety company"]},
        {"name": "Morning_Standup", "entityType": "event", "observations": []}]}),
    ("create_entities", {"entities": [{"name": "John_Smith", "entityType": "robot", "observations": ["ignored"]}]}),
    ("create_relations", {"relations": [{"from": "John_Smith", "to": "Anthropic", "relationType": "works_at"},
                                        {"from": "John_Smith", "to": "Morning_Standup", "relationType": "attends"}]}),
    ("create_relations", {"relations": [{"from": "John_Smith", "to": "Anthropic", "relationType": "works_at"}]}),
    ("add_observations", {"observations": [{"entityName": "John_Smith", "contents": [
        "Speaks fluent Spanish", "Graduated in 2019", "Prefers morning meetings"]}]}),
    ("read_graph", {}),
    ("search_nodes", {"query": "SPANISH"}),
    ("search_nodes", {"query": "organization"}),
    ("open_nodes", {"names": ["Anthropic", "Nobody"]}),
    ("delete_observations", {"deletions": [{"entityName": "John_Smith", "observations": ["Prefers morning meetings",
                                                                                         "never said"]}]}),
    ("delete_relations", {"relations": [{"from": "John_Smith", "to": "Morning_Standup", "relationType": "attends"}]}),
    ("read_graph", {}),
    ("delete_entities", {"entityNames": ["Anthropic", "Nobody"]}),
    ("read_graph", {}),
]


def _sorted(answer: dict) -> dict:
    """Entities and relations in one order (graphmem lists them by name, the reference as added)."""
    out = dict(answer)
    for key, order in (("entities", lambda e: e["name"]),
                       ("relations", lambda r: (r["from"], r["relationType"], r["to"]))):
        if key in out:
            out[key] = sorted(out[key], key=order)
    return out


def _server(graph: Path, *args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, cwd=str(ROOT), env=ENV,
                                 args=["-m", "graphmem.cli", "serve-mcp", "--graph", str(graph), *args])


def test_a_reference_session_gets_the_references_answers(tmp_path):
    async def session() -> dict:
        async with Client(_server(tmp_path / "memory.json", "--tools", "reference"), read_timeout_seconds=120) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            answers = []
            for name, args in SCRIPT:
                result = await client.call_tool(name, args)
                assert not result.is_error, (name, result.content)
                answers.append((json.loads(result.content[0].text), result.structured_content))
            recalled = await client.call_tool("recall", {"queries": ["who speaks Spanish?"]})
            return {"tools": tools, "answers": answers, "recall": recalled}

    out = asyncio.run(session())
    assert set(out["tools"]) == REFERENCE_TOOLS | {"status"}
    for name, tool in out["tools"].items():
        assert tool.title and tool.output_schema and tool.input_schema
        hints = tool.annotations
        assert hints.open_world_hint is False
        if name in HINTS:
            assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == HINTS[name], name
    assert out["recall"].is_error  # --tools reference: graphmem's own tools are not served
    reference = Reference()
    for (name, args), (text, structured) in zip(SCRIPT, out["answers"]):
        expected = getattr(reference, name)(*args.values())
        assert structured == text  # structured content is the answer as sent in text
        assert _sorted(text) == _sorted(json.loads(json.dumps(expected))), name


def test_recall_finds_observations_and_history_keeps_deleted_facts(tmp_path):
    """Observations are facts: recall finds them by meaning; deletions retire, and forget undoes one."""
    async def session() -> dict:
        async with Client(_server(tmp_path / "memory.json"), read_timeout_seconds=120) as client:
            for name, args in SCRIPT[:5]:
                await client.call_tool(name, args)
            out = {"recall": json.loads((await client.call_tool("recall", {"queries": ["who speaks Spanish?"]}))
                                        .content[0].text)}
            await client.call_tool("delete_relations", {"relations": [
                {"from": "John_Smith", "to": "Anthropic", "relationType": "works_at"}]})
            out["history"] = json.loads((await client.call_tool("history", {"entity": "John_Smith"})).content[0].text)
            retired = next(f for f in out["history"]["facts"] if f["relation"] == "works_at")
            await client.call_tool("forget", {"source_id": retired["retired_by"]})
            out["after_forget"] = json.loads((await client.call_tool("open_nodes", {"names": ["Anthropic"]}))
                                             .content[0].text)
            return out

    out = asyncio.run(session())
    assert ("john_smith", "observation", "speaks fluent spanish") in {
        (t["subject"], t["relation"], t["object"]) for t in out["recall"]["triples"]}
    retired = next(f for f in out["history"]["facts"] if f["relation"] == "works_at")
    assert retired["valid_until"] is not None  # deleted = retired: history still has it
    assert out["after_forget"]["relations"] == [{"from": "John_Smith", "to": "Anthropic", "relationType": "works_at"}]


def test_read_graph_pages_a_big_graph_within_its_budget(tmp_path):
    people = [{"name": f"Person_{n:03d}", "entityType": "person", "observations": [f"Likes number {n}"]}
              for n in range(150)]
    links = [{"from": f"Person_{n:03d}", "to": f"Person_{(n * 7) % 150:03d}", "relationType": "knows"}
             for n in range(150) if (n * 7) % 150 != n]

    async def session() -> dict:
        async with Client(_server(tmp_path / "memory.json", "--max-tokens", "600"), read_timeout_seconds=120) as client:
            async with client.listen(resource_subscriptions=["graphmem://graph"]) as changes:
                await client.call_tool("create_entities", {"entities": people})
                with anyio.fail_after(30):
                    heard = await changes.__anext__()
            await client.call_tool("create_relations", {"relations": links})
            pages, cursor = [], None
            while True:
                result = await client.call_tool("read_graph", {} if cursor is None else {"cursor": cursor})
                pages.append(result.content[0].text)
                cursor = json.loads(pages[-1]).get("next_cursor")
                if cursor is None:
                    break
            resource = json.loads((await client.read_resource("graphmem://graph")).contents[0].text)
            bad = await client.call_tool("search_nodes", {"query": "person", "cursor": json.loads(pages[0])["next_cursor"]})
            return {"heard": heard, "pages": pages, "resource": resource, "bad": bad}

    out = asyncio.run(session())
    assert out["heard"].uri == "graphmem://graph"
    assert len(out["pages"]) > 5 and all(len(text) <= 600 * 4 for text in out["pages"])
    answers = [json.loads(text) for text in out["pages"]]
    entities = [e["name"] for a in answers for e in a["entities"]]
    relations = [(r["from"], r["to"]) for a in answers for r in a["relations"]]
    assert entities == sorted(e["name"] for e in people)  # every entity once, in name order
    assert sorted(relations) == sorted((r["from"], r["to"]) for r in links) and len(set(relations)) == len(links)
    assert answers[0]["summary"] == {"entities": 150, "relations": len(links), "observations": 150}
    assert out["resource"]["summary"] == answers[0]["summary"] and len(out["resource"]["entities"]) >= 1
    assert out["bad"].is_error and "another query" in out["bad"].content[0].text
