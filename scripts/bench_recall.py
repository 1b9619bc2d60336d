"""Benchmark: recall latency, open time, memory and file size of big graphs (public APIs only).

Per size, a synthetic graph is bulk-loaded with ``Memory.add_triples(..., vectors=...)`` (10 facts per
source, like a passage), saved as a graph archive (``.gmem``), and opened again in a fresh process,
which prints one JSON line:

- ``bulk_load``: triples/s of the load (vectors given), ``save_s`` (ANN build and write), ``file_mb``;
- ``open_s`` and ``rss_open_mb`` (peak RSS right after ``Memory(path)``), ``rss_peak_mb`` (at the
  end, the query embedder included);
- ``retrieval``: p50/p95 of ``recall(query_vectors=...)`` (seeds, hub-aware expansion, episodes),
  and ``retrieval_exact_scan``, the same with the ANN off (a full float32 scan): the baseline, measured
  in the same process; ``ratio_exact_vs_retrieval``;
- ``recall_with_query_embedding``: p50/p95 of ``recall(text)``, embedding included;
- ``ann_recall_at_10``: overlap of the index's top 10 with the exact top 10, averaged over queries.

Vectors are synthetic but shaped like text embeddings: entities belong to topics, a triple's vector
mixes its entities' and relation's vectors, and queries fall near existing triples. (Independent
random vectors would have no near neighbours at all, which no real corpus looks like.) Entity
degrees follow a power law, so hubs with tens of thousands of facts exist at 1M.

    .venv/bin/python scripts/bench_recall.py [--sizes 10000,100000,1000000] [--queries 200] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphmem.memory import Memory  # noqa: E402
from graphmem.normalize import ResolverConfig  # noqa: E402

PER_SOURCE = 10
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
    projection, plus a little isotropic noise), as sentence embeddings do; the resulting statistics
    (nearest-neighbour and random-pair similarities) are printed by ``--describe`` for comparison
    with real embeddings.
    """

    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng(seed)
        self.rng = rng
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
        vecs = self._embed(self.entity[s] + self.entity[o] + 0.5 * self.relation[r], self.rng)
        triples = [(f"entity {a}", f"relation {c}", f"entity {b}") for a, b, c in zip(s, o, r)]
        return triples, vecs

    def queries(self, count: int, seed: int) -> np.ndarray:
        """Query vectors about the subject of random triples (a question about a stored fact)."""
        rng = np.random.default_rng(seed + 1)
        picks = rng.integers(0, self.n, count)
        latent = self.entity[self.subj[picks]] + 0.5 * self.relation[picks % RELATIONS] \
            + 0.5 * rng.standard_normal((count, LATENT)).astype(np.float32)
        return self._embed(latent, rng)


def build(n: int, path: Path, seed: int) -> dict:
    data = Synthetic(n, seed)
    memory = Memory(str(path), resolver=BULK_NAMES, embed_episodes=False)
    t0 = time.perf_counter()
    for start in range(0, n, PER_SOURCE):
        triples, vecs = data.chunk(start, min(n, start + PER_SOURCE))
        memory.add_triples(triples, step=start // PER_SOURCE, source_id=f"s{start // PER_SOURCE}",
                           vectors=vecs)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    memory.close()
    save_s = time.perf_counter() - t0
    return {"triples": n, "bulk_load_triples_per_s": round(n / load_s), "bulk_load_s": round(load_s, 2),
            "save_s": round(save_s, 2), "file_mb": round(path.stat().st_size / 2**20, 1),
            "build_rss_peak_mb": rss_mb()}


def rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def percentiles(samples: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples)
    return {"p50_ms": round(statistics.median(ms), 3), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3)}


def measure(path: Path, n: int, queries: int, seed: int) -> dict:
    """In a fresh process: open the graph, then time retrieval with the ANN and with a full scan."""
    t0 = time.perf_counter()
    memory = Memory(str(path), resolver=BULK_NAMES)
    open_s = time.perf_counter() - t0
    rss_open = rss_mb()
    index = memory.triple_index
    qvecs = Synthetic(n, seed).queries(queries, seed)
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
    row = {"open_s": round(open_s, 2), "rss_open_mb": rss_open, "ann": len(index) >= threshold,
           "retrieval": percentiles(ann), "retrieval_exact_scan": percentiles(exact),
           "recall_with_query_embedding": percentiles(full),
           "ann_recall_at_10": round(float(np.mean(overlap)), 4), "rss_peak_mb": rss_mb()}
    row["ratio_exact_vs_retrieval"] = round(row["retrieval_exact_scan"]["p50_ms"] / row["retrieval"]["p50_ms"], 2)
    memory.close()
    return row


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", help="folder for the graph files (default: a temporary one)")
    ap.add_argument("--measure", metavar="FILE", help=argparse.SUPPRESS)  # the child process
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.size, args.queries, args.seed)))
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"bench-{n}.gmem"
            row = build(n, path, args.seed)
            child = subprocess.run([sys.executable, __file__, "--measure", str(path), "--size", str(n),
                                    "--queries", str(args.queries), "--seed", str(args.seed)],
                                   capture_output=True, text=True, check=True)
            row.update(json.loads(child.stdout.strip().splitlines()[-1]))
            print(json.dumps(row), flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
