"""Namespaces through `graphmem serve-mcp` and the commands, with the official MCP client over
stdio: what is written in namespace ``a`` is never returned in ``b`` (nor in the default one) by any
tool or command, on a graph file and on ArcadeDB over Bolt; only a server started with
--list-namespaces tells which namespaces exist."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from bolt_server import arcadedb_server  # noqa: F401 - fixture

from graphmem.cli import main
from graphmem.testing.arcadedb import PASSWORD, USER

pytestmark = pytest.mark.slow  # servers in their own processes, real models
pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = {"PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
SECRETS = ("brass", "silver", "velvet")  # words of what is written in namespace a only
WRITTEN_IN_A = "-= Study =-\nThere is a brass key on the desk."


def _client(*args: str) -> Client:
    return Client(StdioServerParameters(command=sys.executable, args=["-m", "graphmem.cli", "serve-mcp", *args],
                                        env=ENV, cwd=str(ROOT)), read_timeout_seconds=120)


async def _answer(client: Client, tool: str, **arguments) -> str:
    """The tool's answer as text: its JSON, or its error message."""
    result = await client.call_tool(tool, arguments)
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def _write_in_a(client: Client) -> list[str]:
    """Write the secrets in namespace a; the ids of its episodes."""
    observed = json.loads(await _answer(client, "observe", text=WRITTEN_IN_A, namespace="a"))
    added = json.loads(await _answer(client, "add_triples", triples=[["silver ring", "in", "velvet pouch"]],
                                     namespace="a"))
    created = json.loads(await _answer(client, "create_entities", namespace="a", entities=[
        {"name": "Velvet Pouch", "entityType": "bag", "observations": ["holds the silver ring"]}]))
    assert "brass key" in json.dumps(observed["added"]) and added["added"] and created["entities"]
    return [observed["episode"], added["episode"]]


async def _everything(client: Client, episodes: list[str], **namespace: str) -> str:
    """Every tool's answer in a namespace (``namespace={}``: the server's default one), but the names
    it was asked about: recall, history, cypher, forget of a's episodes, ask, export, status, the
    reference tools' reads and deletes, the graph resource, and writes."""
    answers = [await _answer(client, "observe", text="You see an apple on the floor.", **namespace),
               await _answer(client, "add_triples", triples=[["pear", "in", "bowl"]], **namespace)]
    recalled = json.loads(await _answer(client, "recall", queries=["brass key", "silver ring", "desk"], **namespace))
    answers += [json.dumps([recalled["triples"], recalled["episodes"], recalled["prompt"]])]
    for entity in ("brass key", "silver ring"):
        answers.append(json.dumps(json.loads(await _answer(client, "history", entity=entity, **namespace))["facts"]))
    answers += [await _answer(client, "cypher", query="MATCH (a)-[r]->(b) RETURN a.name, r.relation, b.name",
                              **namespace),
                await _answer(client, "ask", question="where is the brass key?", **namespace),
                await _answer(client, "export", limit=2000, **namespace),
                await _answer(client, "status", **namespace),
                await _answer(client, "read_graph", **namespace),
                await _answer(client, "search_nodes", query="velvet", **namespace),
                await _answer(client, "search_nodes", query="ring", **namespace),
                await _answer(client, "open_nodes", names=["Velvet Pouch", "brass key"], **namespace),
                await _answer(client, "delete_entities", entityNames=["Velvet Pouch", "brass key"], **namespace)]
    uri = f"graphmem://graph/{namespace['namespace']}" if namespace else "graphmem://graph"
    answers.append((await client.read_resource(uri)).contents[0].text)
    for episode in episodes:
        answers.append(await _answer(client, "forget", source_id=episode, **namespace))
    return "\n".join(answers)


def test_namespaces_over_stdio_on_a_graph_file(tmp_path):
    graph = tmp_path / "memory.json"

    async def sessions() -> dict:
        out: dict = {}
        async with _client("--graph", str(graph), "--list-namespaces") as client:
            out["tools"] = {t.name: t for t in (await client.list_tools()).tools}
            episodes = await _write_in_a(client)
            out["b"] = await _everything(client, episodes, namespace="b")
            out["default"] = await _everything(client, episodes)
            out["stats"] = (await client.read_resource("graphmem://stats")).contents[0].text
            out["namespaces"] = json.loads(await _answer(client, "namespaces"))
            out["bad"] = await _answer(client, "recall", queries=["key"], namespace="../a")
        async with _client("--graph", str(graph), "--namespace", "b") as client:  # another server, default b
            out["tools_b"] = {t.name for t in (await client.list_tools()).tools}
            out["b_again"] = await _answer(client, "recall", queries=["brass key", "silver ring"])
            out["a_again"] = json.loads(await _answer(client, "history", entity="brass key", namespace="a"))
            out["a_graph"] = (await client.read_resource("graphmem://graph/a")).contents[0].text
        return out

    out = asyncio.run(sessions())
    assert {"observe", "recall", "export", "import", "namespaces", "read_graph", "status"} <= set(out["tools"])
    for tool in out["tools"].values():  # every tool routes by namespace, with a title and an output schema
        assert "namespace" in tool.input_schema["properties"] or tool.name == "namespaces", tool.name
        assert tool.title and tool.annotations and tool.output_schema, tool.name
    assert out["tools"]["export"].annotations.read_only_hint and not out["tools"]["import"].annotations.read_only_hint
    for where in ("b", "default", "stats", "b_again"):
        assert not any(word in out[where] for word in SECRETS), where
    assert "no episode or passage with id" in out["b"] and "corpus graph" in out["b"]
    assert "pear" in out["b"] and "apple" in out["b"]  # b's own writes answer there
    assert out["namespaces"] == {"namespaces": ["a", "b", "default"], "default": "default"}
    assert "not a valid name" in out["bad"]
    assert "namespaces" not in out["tools_b"]  # no listing unless the server allows it
    assert [f["object"] for f in out["a_again"]["facts"]] == ["desk"]
    assert "holds the silver ring" in out["a_graph"]  # deletes in b and the default one left a's entity
    # The commands keep to their namespace too.
    assert not any(word in _run("recall", "brass key", "silver ring", "--graph", str(graph), "--namespace", "b")
                   for word in SECRETS)
    assert "brass key" in _run("recall", "brass key", "--graph", str(graph), "--namespace", "a")


def _run(*argv: str) -> str:
    """A command's output, run in this process (capsys is not shared with asyncio's runs)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_namespaces_over_stdio_on_arcadedb(arcadedb_server, tmp_path):  # noqa: F811
    server = ["--store", arcadedb_server.uri, "--user", USER, "--password", PASSWORD,
              "--database", arcadedb_server.fresh_database()]

    async def session() -> dict:
        async with _client(*server) as client:
            episodes = await _write_in_a(client)
            return {"b": await _everything(client, episodes, namespace="b"),
                    "default": await _everything(client, episodes),
                    "a_cypher": await _answer(client, "cypher", query="MATCH (n) RETURN n.name", namespace="a"),
                    "a": await _answer(client, "recall", queries=["brass key"], namespace="a")}

    out = asyncio.run(session())
    for where in ("b", "default"):
        assert not any(word in out[where] for word in SECRETS), where
    assert "cannot be kept to namespace 'b'" in out["b"]  # Cypher refused: it would read the database
    assert "holds other namespaces" in out["default"]
    assert "cannot be kept to namespace 'a'" in out["a_cypher"] and "brass key" in out["a"]
    assert "pear" in out["b"]
    credentials = ["--store", *server[1:]]
    assert not any(word in _run("recall", "brass key", "silver ring", *credentials, "--namespace", "b")
                   for word in SECRETS)
    lines = tmp_path / "b.jsonl"
    _run("export-ns", *credentials, "--namespace", "b", "--out", str(lines))
    assert "pear" in lines.read_text() and not any(word in lines.read_text() for word in SECRETS)
