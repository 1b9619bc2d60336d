"""Two `graphmem serve-mcp` processes on one graph file, each driven by the official MCP client over
stdio: interleaved writes from both, then one process killed (SIGKILL) while it saves and started
again. No acknowledged write is lost, the file always loads, and each process sees the other's
writes on its next call.

GRAPHMEM_SHARED_WRITES sets the writes per process (default 50; docs/mcp.md gives a run of 200).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # three server processes with real models
pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = {"PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
WRITES = int(os.environ.get("GRAPHMEM_SHARED_WRITES", "50"))


def _client(graph: Path) -> Client:
    args = ["-m", "graphmem.cli", "serve-mcp", "--graph", str(graph), "--lock-wait", "60"]
    return Client(StdioServerParameters(command=sys.executable, args=args, env=ENV, cwd=str(ROOT)),
                  read_timeout_seconds=180)


async def _call(client: Client, tool: str, **arguments) -> dict:
    result = await client.call_tool(tool, arguments)
    text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    assert not result.is_error, text
    return json.loads(text)


def _box(who: str, i: int) -> list[str]:
    return [f"{who} box {i}", "in", f"{who} room"]


async def _write(client: Client, who: str, start: int, count: int, acked: list) -> None:
    """``count`` writes, every fifth an observation; each acknowledged one goes into ``acked``
    as (episode id, fact or None)."""
    for i in range(start, start + count):
        if i % 5 == 4:
            done = await _call(client, "observe", text=f"The {who} lamp {i} is on the {who} shelf.")
            acked.append((done["episode"], None))
        else:
            done = await _call(client, "add_triples", triples=[_box(who, i)])
            acked.append((done["episode"], tuple(_box(who, i))))


async def _facts_seen(client: Client) -> tuple[set, set]:
    """(current facts, episode ids) of the memory, as the process answers them (all export pages)."""
    facts, episodes, cursor = set(), set(), None
    while True:
        page = await _call(client, "export", limit=2000, **({"cursor": cursor} if cursor else {}))
        for r in page["records"]:
            if r["kind"] == "triple" and r["valid_until"] is None:
                facts.add((r["subject"], r["relation"], r["object"]))
            elif r["kind"] == "episode":
                episodes.add(r["id"])
        cursor = page["next_cursor"]
        if cursor is None:
            return facts, episodes


def _kill_while_saving(folder: Path, graph: Path, killed: list, stop: threading.Event) -> None:
    """SIGKILL the process that holds the graph file's lock the moment a save's temp file exists
    (only the process to kill writes meanwhile); its pid is in the lock file."""
    lock = folder / f".{graph.name}.lock"
    while not stop.is_set():
        if any(n.startswith(f".{graph.name}.") and n.endswith(".tmp") for n in os.listdir(folder)):
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
        time.sleep(0.0005)


def test_two_servers_on_one_file_lose_no_acknowledged_write(tmp_path):
    graph = tmp_path / "memory.json"
    acked: dict[str, list] = {"red": [], "blue": []}  # the writes of the servers a and b
    report: dict[str, object] = {}

    async def scenario() -> None:
        async with _client(graph) as a:
            async with _client(graph) as b:
                start = time.perf_counter()
                await asyncio.gather(_write(a, "red", 0, WRITES, acked["red"]),
                                     _write(b, "blue", 0, WRITES, acked["blue"]))
                report["interleaved_s"] = time.perf_counter() - start
                # Each sees the other's last write on its next call.
                await _call(a, "add_triples", triples=[_box("red", 10_000)])
                assert [f["object"] for f in (await _call(b, "history", entity="red box 10000"))["facts"]] == ["red room"]
                await _call(b, "add_triples", triples=[_box("blue", 10_000)])
                assert [f["object"] for f in (await _call(a, "history", entity="blue box 10000"))["facts"]] == \
                    ["blue room"]
                for client in (a, b):
                    facts, episodes = await _facts_seen(client)
                    for episode, fact in acked["red"] + acked["blue"]:
                        assert episode in episodes and (fact is None or fact in facts)
            # b's process is gone (closed): kill a second b while it saves, a idle meanwhile.
            killed: list[int] = []
            stop = threading.Event()
            watcher = threading.Thread(target=_kill_while_saving, args=(tmp_path, graph, killed, stop))
            before = len(acked["blue"])
            try:
                async with _client(graph) as doomed:
                    await _write(doomed, "blue", WRITES, 3, acked["blue"])  # warm: the kill comes in a later save
                    watcher.start()
                    await _write(doomed, "blue", WRITES + 3, 10_000, acked["blue"])
            except Exception:  # noqa: BLE001 - the call in flight fails as its server dies
                pass
            finally:
                stop.set()
                if watcher.is_alive():
                    watcher.join()
            assert killed, "no save was caught in progress"
            report["acknowledged_before_kill"] = len(acked["blue"]) - before
            json.loads(graph.read_text())  # a whole file, never a torn one
            # The killed process's lock went with it: a writes at once, then b starts again.
            await _write(a, "red", WRITES, 5, acked["red"])
            async with _client(graph) as b:
                await _write(b, "blue", 20_000, 5, acked["blue"])
                for client in (a, b):
                    facts, episodes = await _facts_seen(client)
                    for episode, fact in acked["red"] + acked["blue"]:
                        assert episode in episodes and (fact is None or fact in facts)

    asyncio.run(scenario())
    from graphmem.store import open_store

    store = open_store(graph, readonly=True)
    episodes = {e.id for e in store.episodes()}
    facts = {(t.subject, t.relation, t.object) for t in store.triples()}
    lost = [(e, f) for e, f in acked["red"] + acked["blue"] if e not in episodes or (f is not None and f not in facts)]
    assert not lost
    print(f"\n{WRITES} x 2 interleaved writes in {report['interleaved_s']:.1f} s; "
          f"{report['acknowledged_before_kill']} more acknowledged before the kill; "
          f"{len(acked['red']) + len(acked['blue'])} acknowledged in all, 0 lost")
