"""graphmem serve-mcp driven by the real MCP client (the official SDK), over stdio and over
streamable HTTP on a free loopback port; the server is the real command in its own process."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from bolt_server import arcadedb_server  # noqa: F401 - fixture

from graphmem.testing.arcadedb import PASSWORD, USER, free_port, port_open
from graphmem.testing.chat_server import ChatServer

pytestmark = pytest.mark.slow  # servers in their own processes, real models
pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = {"PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
OBSERVATIONS = [
    "-= Kitchen =-\nYou are in a kitchen. You see a closed fridge. There is a knife on the table.",
    "You open the fridge. Inside the fridge you see a yellow pepper.",
    "You take the knife from the table.",
]


def _server_args(*args: str) -> list[str]:
    return ["-m", "graphmem.cli", "serve-mcp", *args]


def _data(result) -> object:
    """The JSON a tool returned (its text content), or the error message when it failed."""
    text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    return text if result.is_error else json.loads(text)


def _facts(triples: list[dict]) -> set[tuple[str, str, str]]:
    return {(t["subject"], t["relation"], t["object"]) for t in triples}


def test_stdio_session_observes_recalls_and_persists(tmp_path):
    graph = tmp_path / "memory.json"

    async def session() -> dict:
        params = StdioServerParameters(command=sys.executable, args=_server_args("--graph", str(graph)),
                                       env=ENV, cwd=str(ROOT))
        async with Client(params, read_timeout_seconds=120) as client:
            out = {"tools": sorted(t.name for t in (await client.list_tools()).tools)}
            out["observed"] = [_data(await client.call_tool("observe", {"text": text}))
                               for text in OBSERVATIONS]
            out["recall"] = _data(await client.call_tool("recall", {"queries": ["where is the knife?"]}))
            out["history"] = _data(await client.call_tool("history", {"entity": "the Knife"}))
            out["bad_triple"] = await client.call_tool("add_triples", {"triples": [["fridge", "is"]]})
            out["bad_step"] = await client.call_tool("observe", {"text": "You wait.", "step": -1})
            out["write_cypher"] = await client.call_tool("cypher", {"query": "MATCH (n) DETACH DELETE n"})
            out["hidden_write"] = await client.call_tool("cypher", {"query": "MATCH (n) //\rDETACH DELETE n"})
            out["rows"] = _data(await client.call_tool("cypher", {
                "query": "MATCH (a)-[r]->(b) WHERE r.valid_until IS NULL AND a.name = 'knife' "
                         "RETURN b.name AS place"}))
            out["ask"] = await client.call_tool("ask", {"question": "where is the knife?"})
            resource = await client.read_resource("graphmem://stats")
            out["stats"] = json.loads(resource.contents[0].text)
            return out

    out = asyncio.run(session())
    assert {"observe", "add_triples", "recall", "history", "forget", "cypher", "ask"} <= set(out["tools"])
    assert [o["step"] for o in out["observed"]] == [0, 1, 2]  # steps follow one another when not given
    assert ("knife", "on", "table") in _facts(out["observed"][0]["added"])
    # The right fact: the knife is now carried, and the table fact was retired by taking it.
    recalled = _facts(out["recall"]["triples"])
    assert ("knife", "in", "inventory") in recalled
    assert ("knife", "on", "table") not in recalled
    assert "knife in inventory" in out["recall"]["prompt"]
    assert out["history"]["entity"] == "knife"
    retired = [t for t in out["history"]["facts"] if (t["relation"], t["object"]) == ("on", "table")]
    assert retired and retired[0]["valid_until"] == 2
    # Bad input and refused writes are tool errors that say what is wrong; the session goes on.
    assert out["bad_triple"].is_error and "[subject, relation, object]" in _data(out["bad_triple"])
    assert out["bad_step"].is_error and "step" in _data(out["bad_step"])
    assert out["write_cypher"].is_error and "read-only" in _data(out["write_cypher"]).lower()
    assert out["hidden_write"].is_error and "read-only" in _data(out["hidden_write"]).lower()
    assert out["rows"] == {"rows": [{"place": "inventory"}]}
    assert out["ask"].is_error and "corpus graph" in _data(out["ask"])
    assert out["stats"]["kind"] == "memory" and out["stats"]["episodes"] == 3
    # Every write was saved: the file holds the memory after the server is gone.
    from graphmem.store import open_store

    store = open_store(graph, readonly=True)
    assert ("knife", "in", "inventory") in {(t.subject, t.relation, t.object) for t in store.triples()}
    assert store.counts()["episodes"] == 3


def _stop(proc: subprocess.Popen) -> None:
    """Terminate a server process, killing it if it has not exited within 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {log.read_text()}")
        if port_open(port):
            return
        time.sleep(0.2)
    raise AssertionError(f"server did not listen on port {port} within {timeout} s")


@pytest.fixture
def http_server(tmp_path):
    """A corpus-graph server on streamable HTTP that answers ask() with a model on a scripted
    OpenAI-compatible server; yields (url, graph path, chat server); stopped by its pid."""
    graph, port, log = tmp_path / "corpus.json", free_port(), tmp_path / "server.log"
    with log.open("w") as err, ChatServer(choose=lambda body: ("reply", (json.dumps({"answer": "Warsaw"}),), {})) as chat:
        env = {**os.environ, **ENV, "OPENAI_BASE_URL": chat.base_url, "OPENAI_API_KEY": "test",
               "GRAPHMEM_CACHE_DIR": str(tmp_path / "llm-cache")}
        proc = subprocess.Popen([sys.executable, *_server_args(
            "--graph", str(graph), "--profile", "documents", "--http", f"127.0.0.1:{port}", "--answer",
            "--llm", "openai:test-model")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            _wait_for_port(port, proc, log)
            yield f"http://127.0.0.1:{port}/mcp", graph, chat
        finally:
            _stop(proc)


PASSAGES = [
    ("Ulm", "Ulm is a city in Germany. Albert Einstein was born in Ulm."),
    ("Albert Einstein", "Albert Einstein was a physicist. He developed the theory of relativity."),
    ("Warsaw", "Warsaw is the capital of Poland. Marie Curie was born in Warsaw."),
]


def test_numbers_are_strict_through_the_sdk_client(tmp_path):
    """A string, a boolean or a fraction sent for a number is a tool error naming it, never read as
    the number (pydantic's lax mode took "3" as step 3); real numbers still work."""
    async def session() -> dict:
        params = StdioServerParameters(command=sys.executable, args=_server_args("--graph", str(tmp_path / "m.json")),
                                       env=ENV, cwd=str(ROOT))
        async with Client(params, read_timeout_seconds=120) as client:
            out = {"bad": [await client.call_tool(tool, args) for tool, args in (
                ("add_triples", {"triples": [["knife", "on", "table"]], "step": "3"}),
                ("add_triples", {"triples": [["knife", "on", "table"]], "step": 3.0}),
                ("recall", {"queries": ["knife"], "depth": "2"}),
                ("history", {"entity": "knife", "max_tokens": "500"}),
                ("export", {"limit": True}))]}
            out["status"] = _data(await client.call_tool("status", {}))
            out["good"] = _data(await client.call_tool("add_triples", {"triples": [["knife", "on", "table"]],
                                                                        "step": 3}))
            return out

    out = asyncio.run(session())
    for result, (name, given) in zip(out["bad"], (("step", '"3"'), ("step", "3.0"), ("depth", '"2"'),
                                                  ("max_tokens", '"500"'), ("limit", "true"))):
        assert result.is_error, name
        assert name in _data(result) and f"expected a whole number, not {given}" in _data(result)
    assert out["status"]["triples"] == 0  # nothing bad was written
    assert out["good"]["step"] == 3


def test_http_session_on_a_corpus_graph(http_server):
    url, graph, chat = http_server

    async def session() -> dict:
        async with Client(url, read_timeout_seconds=120) as client:
            out = {"added": [_data(await client.call_tool("observe", {"text": text, "title": title}))
                             for title, text in PASSAGES]}
            out["again"] = _data(await client.call_tool("observe", {"title": PASSAGES[0][0],
                                                                    "text": PASSAGES[0][1]}))
            out["ask"] = _data(await client.call_tool("ask", {"question": "Where was Marie Curie born?",
                                                              "k": 2}))
            out["add_triples"] = await client.call_tool("add_triples", {"triples": [["a", "b", "c"]]})
            forget = out["added"][1]["passage"]
            out["forget"] = _data(await client.call_tool("forget", {"source_id": forget}))
            out["forget_again"] = await client.call_tool("forget", {"source_id": forget})
            out["stats"] = json.loads((await client.read_resource("graphmem://stats")).contents[0].text)
            return out

    out = asyncio.run(session())
    assert all(a["added"] for a in out["added"]) and not out["again"]["added"]
    assert ("marie curie", "born in", "warsaw") in _facts(out["added"][2]["facts"])
    assert out["ask"]["passages"][0]["title"] == "Warsaw" and len(out["ask"]["passages"]) == 2
    assert out["ask"]["answer"] == "Warsaw" and len(chat.requests) == 1  # --answer: one model call
    assert "Marie Curie was born in Warsaw" in chat.requests[0]["messages"][-1]["content"]
    assert out["add_triples"].is_error and "observe" in _data(out["add_triples"])
    assert out["forget"]["episodes"] == 2
    assert out["forget_again"].is_error and "no episode or passage" in _data(out["forget_again"])
    assert out["stats"]["kind"] == "corpus" and out["stats"]["profile"] == "documents"
    # Servers share a graph file (each write takes its lock for that write only): a second one on
    # the same file starts and serves (on stdio, until its input ends). test_mcp_shared.py drives two.
    second = subprocess.run([sys.executable, *_server_args("--graph", str(graph))], cwd=ROOT,
                            env={**os.environ, **ENV}, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert second.returncode == 0 and "error" not in second.stderr


def test_writers_on_many_threads_are_serialised(tmp_path):
    from graphmem.service import GraphService
    from graphmem.store import open_store

    with GraphService(open_store(tmp_path / "m.json")) as service:
        errors: list[BaseException] = []

        def write(i: int) -> None:
            try:
                service.add_triples([[f"box {i}", "in", "attic"]])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sorted(service.stats()[k] for k in ("episodes", "next_step")) == [8, 8]
    store = open_store(tmp_path / "m.json", readonly=True)
    assert len(store.triples()) == 8


def test_stdio_session_on_a_graph_server_with_write_cypher(arcadedb_server):  # noqa: F811
    """The same tools on a graph in ArcadeDB over Bolt; --write lets cypher write."""
    server = ["--store", arcadedb_server.uri, "--user", USER, "--password", PASSWORD,
              "--database", arcadedb_server.fresh_database()]

    async def session() -> dict:
        params = StdioServerParameters(command=sys.executable, args=_server_args(*server, "--write"),
                                       env=ENV, cwd=str(ROOT))
        async with Client(params, read_timeout_seconds=120) as client:
            for text in OBSERVATIONS:
                await client.call_tool("observe", {"text": text})
            out = {"recall": _data(await client.call_tool("recall", {"queries": ["where is the knife?"]}))}
            out["write"] = _data(await client.call_tool("cypher", {
                "query": "CREATE (n:Scratch {name: 'note'}) RETURN n.name AS name"}))
            out["stats"] = json.loads((await client.read_resource("graphmem://stats")).contents[0].text)
            return out

    out = asyncio.run(session())
    assert ("knife", "in", "inventory") in _facts(out["recall"]["triples"])
    assert out["write"] == {"rows": [{"name": "note"}]}
    assert out["stats"]["episodes"] == 3 and out["stats"]["write_cypher"]
