"""Benchmark: recall latency, open time, memory and file size of big graphs (public APIs only).

Per size, a synthetic graph is bulk-loaded with ``Memory.add_sources(..., vectors=...)`` (10 facts per
source, like a passage; 1,000 sources per call), saved as a graph archive (``.gmem``), and opened again in a fresh process,
which prints one JSON line:

- ``bulk_load_triples_per_s`` (wall) and ``_per_cpu_s`` (this process's CPU time: what a quiet
  machine would give), ``_per_user_cpu_s`` and ``bulk_load_system_s`` (the same CPU time without
  and with only the kernel's share: on some virtual machines mapping fresh memory makes up a third
  of a big load), ``save_s`` (ANN build and write), ``file_mb``;
- ``open_s``/``open_cpu_s`` and ``rss_open_mb`` (peak RSS right after ``Memory(path)``),
  ``first_recall_ms`` (wall: the first recall also builds what reads build on first use, e.g. the
  entities' adjacency table),
  ``rss_peak_mb`` (at the end: the exact scans paged the whole matrix in, and the query embedder);
- ``retrieval``: p50/p95 (wall and CPU) of ``recall(query_vectors=...)`` (seeds, hub-aware
  expansion, episodes), and ``retrieval_exact_scan``, the same with the ANN off (a full float32
  scan): the baseline, measured in the same process; ``ratio_exact_vs_retrieval`` (CPU p50s);
- ``recall_with_query_embedding``: p50/p95 of ``recall(text)``, embedding included;
- ``ann_recall_at_10``: overlap of the index's top 10 with the exact top 10, averaged over queries.

The measuring process uses BLAS and faiss threads as the libraries choose them, as users run it
(``--threads 1`` pins them: OpenBLAS's one-thread scan of a row-major matrix is several times slower
on some CPUs, so pinning penalises the exact scan most). Wall times on a shared machine are longer
than CPU times.

Vectors are synthetic but shaped like text embeddings: entities belong to topics, a triple's vector
mixes its entities' and relation's vectors, and queries fall near existing triples. (Independent
random vectors would have no near neighbours at all, which no real corpus looks like; ``--vectors
random`` still gives that workload, the first version of this benchmark, for comparison.) Entity
degrees follow a power law, so hubs with tens of thousands of facts exist at 1M.

    .venv/bin/python scripts/bench_recall.py [--sizes 10000,100000,1000000] [--queries 200] [--seed 0]
        [--vectors topics|random]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from graphmem.memory import Memory
from graphmem.normalize import ResolverConfig

PER_SOURCE = 10
BATCH = 10_000  # triples made at a time (outside the timed load), then loaded in one call
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
DIM = 384
TOPICS = 512
LATENT = 48
NOISE = 0.3
RELATIONS = 50
BULK_NAMES = ResolverConfig(use_fuzzy=False, use_embeddings=False)  # names are canonical already


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


class Synthetic:
    """Entities in topics, power-law degrees; a triple's vector mixes its parts' vectors.

    Vectors live near a low-dimensional subspace (LATENT dimensions mapped into DIM by a fixed random
    projection, plus a little isotropic noise), as sentence embeddings do.

    ``random``: the first version of this benchmark instead: independent random unit vectors, and
    queries embedded from text. Nothing is near anything, so recall stops at its few seeds (no
    expansion): it times the seed search alone.
    """

    def __init__(self, n: int, seed: int, random: bool = False):
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.random = random
        n_entities = max(10, n // 4)
        self.project = rng.standard_normal((LATENT, DIM)).astype(np.float32) / np.sqrt(LATENT)
        topics = rng.standard_normal((TOPICS, LATENT)).astype(np.float32)
        self.entity = topics[rng.integers(0, TOPICS, n_entities)] \
            + 0.6 * rng.standard_normal((n_entities, LATENT)).astype(np.float32)
        self.relation = rng.standard_normal((RELATIONS, LATENT)).astype(np.float32)
        weights = 1.0 / np.arange(1, n_entities + 1) ** 0.8
        self.subj = rng.choice(n_entities, size=n, p=weights / weights.sum())
        self.obj = rng.choice(n_entities, size=n, p=weights / weights.sum())
        self.n = n

    def _embed(self, latent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return unit(unit(latent @ self.project) + NOISE * unit(rng.standard_normal((len(latent), DIM))))

    def chunk(self, start: int, stop: int) -> tuple[list[tuple[str, str, str]], np.ndarray]:
        s, o = self.subj[start:stop], self.obj[start:stop]
        r = np.arange(start, stop) % RELATIONS
        if self.random:
            vecs = unit(self.rng.standard_normal((stop - start, DIM)))
        else:
            vecs = self._embed(self.entity[s] + self.entity[o] + 0.5 * self.relation[r], self.rng)
        triples = [(f"entity {a}", f"relation {c}", f"entity {b}") for a, b, c in zip(s, o, r)]
        return triples, vecs

    def queries(self, count: int, seed: int, embedder) -> np.ndarray:
        """Query vectors about the subject of random triples (a question about a stored fact)."""
        if self.random:
            return embedder.encode([f"where is the thing number {i}?" for i in range(count)])
        rng = np.random.default_rng(seed + 1)
        picks = rng.integers(0, self.n, count)
        latent = self.entity[self.subj[picks]] + 0.5 * self.relation[picks % RELATIONS] \
            + 0.5 * rng.standard_normal((count, LATENT)).astype(np.float32)
        return self._embed(latent, rng)


def build(n: int, path: Path, seed: int, random: bool = False) -> dict:
    data = Synthetic(n, seed, random)
    memory = Memory(str(path), resolver=BULK_NAMES, embed_episodes=False)
    load_s = load_cpu = load_sys = 0.0
    with memory.bulk():  # what a bulk load should do: no garbage collection over what stays alive
        for start in range(0, n, BATCH):
            chunks = [data.chunk(i, min(n, i + PER_SOURCE))
                      for i in range(start, min(n, start + BATCH), PER_SOURCE)]
            sources = [(f"s{i}", i, triples) for i, (triples, _) in enumerate(chunks, start // PER_SOURCE)]
            vectors = np.concatenate([vecs for _, vecs in chunks])
            t0, c0, s0 = time.perf_counter(), time.process_time(), _system_s()  # the load alone, not making the data
            memory.add_sources(sources, vectors=vectors)
            load_s, load_cpu = load_s + time.perf_counter() - t0, load_cpu + time.process_time() - c0
            load_sys += _system_s() - s0
    t0, c0 = time.perf_counter(), time.process_time()
    memory.close()
    save_s, save_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"triples": n, "bulk_load_triples_per_s": round(n / load_s),
            "bulk_load_triples_per_cpu_s": round(n / load_cpu),
            "bulk_load_triples_per_user_cpu_s": round(n / max(load_cpu - load_sys, 1e-9)),
            "bulk_load_system_s": round(load_sys, 2), "save_s": round(save_s, 2),
            "save_cpu_s": round(save_cpu, 2), "file_mb": round(path.stat().st_size / 2**20, 1),
            "build_rss_peak_mb": rss_mb()}


def _system_s() -> float:
    """This process's system CPU time: mostly the kernel mapping fresh memory during a load, which
    costs far more on some virtual machines than on others."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def rss_mb() -> int:
    """Peak RSS of this process (VmHWM; ru_maxrss would carry the parent's peak over exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def percentiles(samples: list[tuple[float, float]]) -> dict:
    """p50/p95 of wall time, and of this process's CPU time (what a quiet machine would take)."""
    out = {}
    for suffix, values in (("", [w for w, _ in samples]), ("_cpu", [c for _, c in samples])):
        ms = sorted(v * 1000 for v in values)
        out[f"p50{suffix}_ms"] = round(statistics.median(ms), 3)
        out[f"p95{suffix}_ms"] = round(ms[int(0.95 * (len(ms) - 1))], 3)
    return out


def measure(path: Path, n: int, queries: int, seed: int, random: bool = False) -> dict:
    """In a fresh process: open the graph, then time retrieval with the ANN and with a full scan."""
    t0, c0 = time.perf_counter(), time.process_time()
    memory = Memory(str(path), resolver=BULK_NAMES)
    open_s, open_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rss_open = rss_mb()
    index = memory.triple_index
    qvecs = Synthetic(n, seed, random).queries(queries, seed, memory.embedder)
    first = _time(lambda: memory.recall("q", query_vectors=qvecs[:1]))  # builds what reads build lazily
    ann = [_time(lambda q=q: memory.recall("q", query_vectors=q[None, :])) for q in qvecs]
    approx = [[tid for tid, _ in index.search(q, 10)] for q in qvecs]
    threshold, index.ann_threshold = index.ann_threshold, len(index) + 1  # the exact baseline
    exact = [_time(lambda q=q: memory.recall("q", query_vectors=q[None, :])) for q in qvecs]
    truth = [[tid for tid, _ in index.search(q, 10)] for q in qvecs]
    index.ann_threshold = threshold
    texts = [f"where is entity {i} and what does it relate to?" for i in range(min(queries, 50))]
    memory.recall("warm up the embedder")
    full = [_time(lambda t=t: memory.recall(t)) for t in texts]
    overlap = [len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(approx, truth)]
    row = {"open_s": round(open_s, 2), "open_cpu_s": round(open_cpu_s, 2), "rss_open_mb": rss_open,
           "first_recall_ms": round(first[0] * 1000, 1), "ann": len(index) >= threshold,
           "retrieval": percentiles(ann), "retrieval_exact_scan": percentiles(exact),
           "recall_with_query_embedding": percentiles(full),
           "ann_recall_at_10": round(float(np.mean(overlap)), 4), "rss_peak_mb": rss_mb()}
    row["ratio_exact_vs_retrieval"] = round(row["retrieval_exact_scan"]["p50_cpu_ms"]
                                            / row["retrieval"]["p50_cpu_ms"], 2)
    memory.close()
    return row


def measure_server(path: Path, n: int, queries: int, seed: int, random: bool = False) -> dict:
    """The graph moved to an ArcadeDB server started here (``export_graph``, what ``graphmem
    export`` runs), opened with ``Memory`` over Bolt and recalled with the same kind of queries."""
    from graphmem.store.bolt import BoltStore
    from graphmem.store.transfer import export_graph
    from graphmem.testing.arcadedb import PASSWORD, USER, ArcadeServer

    server = ArcadeServer(Path(tempfile.mkdtemp(prefix="graphmem-bench-")))
    server.start()
    try:
        database = server.fresh_database("recall")
        t0 = time.perf_counter()
        export_graph(path, BoltStore(server.uri, USER, PASSWORD, database))
        export_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        memory = Memory(BoltStore(server.uri, USER, PASSWORD, database), resolver=BULK_NAMES)
        open_s = time.perf_counter() - t0
        qvecs = Synthetic(n, seed, random).queries(queries, seed, memory.embedder)
        timed = [_time(lambda q=q: memory.recall("q", query_vectors=q[None, :])) for q in qvecs]
        agent = memory.store.server_agent
        memory.close()
    finally:
        server.stop()
    return {"server": agent, "triples": n, "export_s": round(export_s, 2), "open_s": round(open_s, 2),
            "retrieval": percentiles(timed)}


@contextlib.contextmanager
def _folder(path: str | None):
    if path is None:
        raise SystemExit("--keep needs --dir")
    Path(path).mkdir(parents=True, exist_ok=True)
    yield path


def _time(fn) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _thread_env(threads: str) -> dict:
    """The measuring process's environment: BLAS/OpenMP threads as the libraries choose them (what
    users get), or pinned to a number."""
    if threads == "default":
        return {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    return {**os.environ, **{k: threads for k in THREAD_VARS}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", help="folder for the graph files (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the graph files (needs --dir)")
    ap.add_argument("--server-sizes", default="", metavar="N,...",
                    help="also move these sizes' graphs to an ArcadeDB server and recall there")
    ap.add_argument("--vectors", choices=("topics", "random"), default="topics",
                    help="topics: vectors shaped like text embeddings (default); random: independent "
                         "random vectors and text queries, as the first version of this benchmark "
                         "(recall never expands: it times the seed search)")
    ap.add_argument("--threads", default="default",
                    help="BLAS/OpenMP threads of the measuring process: 'default' (the libraries' own "
                         "choice, what users get) or a number, e.g. 1")
    ap.add_argument("--measure", metavar="FILE", help=argparse.SUPPRESS)  # the child process
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    random = args.vectors == "random"
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.size, args.queries, args.seed, random)))
        return
    with tempfile.TemporaryDirectory(dir=args.dir) if not args.keep else _folder(args.dir) as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"bench-{n}.gmem"
            row = {"vectors": args.vectors, **build(n, path, args.seed, random)}
            child = subprocess.run([sys.executable, __file__, "--measure", str(path), "--size", str(n),
                                    "--queries", str(args.queries), "--seed", str(args.seed),
                                    "--vectors", args.vectors],
                                   capture_output=True, text=True, check=True, env=_thread_env(args.threads))
            row.update(json.loads(child.stdout.strip().splitlines()[-1]))
            print(json.dumps(row), flush=True)
            if str(n) in args.server_sizes.split(","):
                print(json.dumps(measure_server(path, n, min(args.queries, 50), args.seed, random)), flush=True)
            if not args.keep:
                path.unlink()


if __name__ == "__main__":
    main()
