"""Benchmark: the MCP server's two latency targets, measured by the SDK's real client over stdio.

- ``read_graph``: a graph in the reference server's shapes (``--entities`` entities, each with a type,
  three observations and one relation: five facts an entity, 100,000 facts at the default 20,000) is
  bulk-loaded with synthetic vectors, then served by ``graphmem serve-mcp``. The client times the
  first page of ``read_graph`` (the default 4,000-token budget) while the graph is unchanged, and
  right after a write (``create_relations`` of one new relation, timed apart). It then pages through
  everything and checks that each entity and relation came exactly once.
- ``recall``: a memory of ``--facts`` facts (``scripts/bench_recall.py``'s synthetic generator,
  topics and power-law degrees, vectors synthetic) served the same way; the client times ``recall``
  of distinct question texts (each one embedded by the server's real model: no cached vector),
  after warm-up calls. ``--profile`` also prints the server's own cProfile of those calls (run in the
  same process, for the top functions by cumulative time).

Every figure is client-measured wall time (call sent to answer read), p50/p95 in ms. ``--code DIR``
(repeatable) serves the same graphs with another checkout's graphmem (e.g. ``/work/main``) in the
same run, so that a before/after pair shares the machine's load; each row names the code it ran.

    .venv/bin/python scripts/bench_mcp.py [--what read_graph,recall] [--entities 20000] [--facts 10000]
        [--calls 50] [--writes 10] [--code DIR ...] [--profile]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio.to_thread
import numpy as np

from bench_recall import BULK_NAMES, DIM, PER_SOURCE, Synthetic, unit
from graphmem.memory import Memory

ROOT = Path(__file__).resolve().parents[1]
OBSERVATIONS = 3  # per entity, as the 100k-fact graph has them


def build_reference_graph(path: Path, entities: int, seed: int) -> int:
    """Entities ``person_N`` with a type, observations and a relation each, loaded with synthetic
    vectors (nothing embedded); the number of facts written."""
    rng = np.random.default_rng(seed)
    memory = Memory(str(path), resolver=BULK_NAMES, embed_episodes=False)
    written = 0
    with memory.bulk():
        for start in range(0, entities, 1000):
            sources = []
            for n in range(start, min(entities, start + 1000)):
                name = f"person_{n:06d}"
                facts = [(name, "is a", f"kind {n % 17}")]
                facts += [(name, "observation", f"likes thing {n}-{k}") for k in range(OBSERVATIONS)]
                facts.append((name, "knows", f"person_{(n * 7919 + 1) % entities:06d}"))
                sources.append((f"e{n}", n, facts))
            count = sum(len(f) for _, _, f in sources)
            memory.add_sources(sources, vectors=unit(rng.standard_normal((count, DIM))))
            written += count
    memory.close()
    return written


def build_memory(path: Path, facts: int, seed: int) -> int:
    """``bench_recall``'s synthetic memory of ``facts`` facts, 10 a source."""
    data = Synthetic(facts, seed)
    memory = Memory(str(path), resolver=BULK_NAMES, embed_episodes=False)
    with memory.bulk():
        chunks = [data.chunk(i, min(facts, i + PER_SOURCE)) for i in range(0, facts, PER_SOURCE)]
        memory.add_sources([(f"s{i}", i, triples) for i, (triples, _) in enumerate(chunks)],
                           vectors=np.concatenate([v for _, v in chunks]))
    memory.close()
    return facts


def _client(graph: Path, code: Path, *args: str):
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, cwd=str(code),
                                   env={"PYTHONPATH": str(code), "TOKENIZERS_PARALLELISM": "false"},
                                   args=["-m", "graphmem.cli", "serve-mcp", "--graph", str(graph), *args])
    return Client(params, read_timeout_seconds=300)


async def _timed(client, tool: str, args: dict) -> tuple[float, dict]:
    t0 = time.perf_counter()
    result = await client.call_tool(tool, args)
    took = time.perf_counter() - t0
    if result.is_error:
        raise RuntimeError(f"{tool} failed: {result.content[0].text}")
    return took, json.loads(result.content[0].text)


def _ms(samples: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples)
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1),
            "n": len(ms)}


async def read_graph_case(graph: Path, code: Path, calls: int, writes: int, entities: int) -> dict:
    async with _client(graph, code) as client:
        first, _ = await _timed(client, "read_graph", {})  # the server's first view of the graph
        unchanged = [(await _timed(client, "read_graph", {}))[0] for _ in range(calls)]
        write_s, after_write = [], []
        for n in range(writes):
            took, _ = await _timed(client, "create_relations", {"relations": [
                {"from": f"person_{n:06d}", "to": f"person_{(n + 1) % entities:06d}", "relationType": "follows"}]})
            write_s.append(took)
            after_write.append((await _timed(client, "read_graph", {}))[0])
        seen_entities, seen_relations, pages, cursor = [], [], 0, None
        t0 = time.perf_counter()
        while True:
            _, page = await _timed(client, "read_graph", {} if cursor is None else {"cursor": cursor})
            pages += 1
            seen_entities += [e["name"] for e in page["entities"]]
            seen_relations += [(r["from"], r["relationType"], r["to"]) for r in page["relations"]]
            cursor = page.get("next_cursor")
            if cursor is None:
                break
        page_all_s = time.perf_counter() - t0
    return {"first_call_ms": round(first * 1000, 1), "first_page_unchanged": _ms(unchanged),
            "first_page_after_write": _ms(after_write), "write": _ms(write_s), "pages": pages,
            "page_all_s": round(page_all_s, 1),
            "each_once": len(seen_entities) == len(set(seen_entities)) == entities
            and len(seen_relations) == len(set(seen_relations)) == entities + writes
            and seen_entities == sorted(seen_entities)}


async def recall_case(graph: Path, codes: list[Path], calls: int, warm: int) -> list[dict]:
    """One server per checkout on the same memory, all open at once, called in turn with the same
    query: the machine's load falls on each alike."""
    texts = [f"what does entity {n} relate to, and where is it?" for n in range(warm + calls)]
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(_client(graph, code)) for code in codes]
        times: list[list[float]] = [[] for _ in codes]
        for n, text in enumerate(texts):  # the first calls load the model and build the lazy indexes
            for client, took in zip(clients, times):
                elapsed, _ = await _timed(client, "recall", {"queries": [text]})
                if n >= warm:
                    took.append(elapsed)
    return [{"code": str(code), "recall": _ms(took)} for code, took in zip(codes, times)]


def profile_recall(graph: Path, calls: int, warm: int) -> str:
    """The server-side cost of ``recall`` in this process (this checkout's code): the tool as the
    MCP server calls it, its JSON answer included, under cProfile."""
    import cProfile
    import io
    import pstats

    from graphmem.cli import build_parser
    from graphmem.cli.serve import _open_services
    from graphmem.mcp_server import make_server

    args = build_parser().parse_args(["serve-mcp", "--graph", str(graph)])
    services = _open_services(args)
    server = make_server(services)

    async def inline(fn, *args, **kwargs):  # the SDK runs a tool on a worker thread, out of cProfile's sight
        return fn(*args)

    anyio.to_thread.run_sync = inline
    texts = [f"what does entity {n} relate to, and where is it?" for n in range(warm + calls)]

    async def run(batch):
        for text in batch:
            await server.call_tool("recall", {"queries": [text]})

    asyncio.run(run(texts[:warm]))
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(run(texts[warm:]))
    profiler.disable()
    services.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--what", default="read_graph,recall")
    ap.add_argument("--entities", type=int, default=20000, help="read_graph: entities (5 facts each)")
    ap.add_argument("--facts", type=int, default=10000, help="recall: the memory's facts")
    ap.add_argument("--calls", type=int, default=50, help="timed calls per figure")
    ap.add_argument("--warm", type=int, default=5, help="recall: untimed calls first")
    ap.add_argument("--writes", type=int, default=10, help="read_graph: writes, each followed by a timed page")
    ap.add_argument("--code", action="append", type=Path, help="a checkout whose graphmem serves (default: this one)")
    ap.add_argument("--profile", action="store_true", help="recall: print this checkout's server-side cProfile")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    what = set(args.what.split(","))
    codes = args.code or [ROOT]
    with tempfile.TemporaryDirectory(prefix="graphmem-bench-mcp-") as tmp:
        if "read_graph" in what:
            source = Path(tmp) / "reference.gmem"
            t0 = time.perf_counter()
            facts = build_reference_graph(source, args.entities, args.seed)
            print(json.dumps({"built": "read_graph", "facts": facts, "s": round(time.perf_counter() - t0, 1)}),
                  flush=True)
            for code in codes:
                graph = Path(tmp) / f"reference-{len(str(code))}-{codes.index(code)}.gmem"
                graph.write_bytes(source.read_bytes())  # each run writes its own copy
                row = asyncio.run(read_graph_case(graph, code, args.calls, args.writes, args.entities))
                print(json.dumps({"case": "read_graph", "code": str(code), "facts": facts, **row}), flush=True)
        if "recall" in what:
            graph = Path(tmp) / "memory.gmem"
            build_memory(graph, args.facts, args.seed)
            for row in asyncio.run(recall_case(graph, codes, args.calls, args.warm)):
                print(json.dumps({"case": "recall", "facts": args.facts, **row}), flush=True)
            if args.profile:
                print(profile_recall(graph, args.calls, args.warm))


if __name__ == "__main__":
    main()
