"""Benchmark: recall latency on graphs of 10k and 100k triples (embedded store).

Triples link random entities (a power-law-ish graph) and carry random unit vectors, inserted
directly so that building is fast; retrieval cost does not depend on what the vectors mean. Prints
p50/p95 for (a) retrieval given an embedded query, (b) full recall including embedding the query
text, and the ratio of (a) to a baseline measured in the same process: one exact top-k search with
no expansion.

    .venv/bin/python scripts/bench_recall.py [--sizes 10000,100000] [--queries 200] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphmem.memory import Memory  # noqa: E402
from graphmem.model import Triple  # noqa: E402
from graphmem.retrieve import associative, rank_episodes  # noqa: E402


def synthetic_memory(n: int, rng: np.random.Generator) -> Memory:
    memory = Memory()
    dim = memory.embedder.dim
    n_entities = max(10, n // 4)
    weights = 1.0 / np.arange(1, n_entities + 1) ** 0.8
    weights /= weights.sum()
    subj = rng.choice(n_entities, size=n, p=weights)
    obj = rng.choice(n_entities, size=n, p=weights)
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    triples = []
    for i in range(n):
        t = Triple(f"entity {subj[i]}", f"relation {i % 50}", f"entity {obj[i]}", valid_from=i // 10,
                   sources=[f"e{i // 10}"])
        t.embedding = vecs[i]
        triples.append(t)
    memory.store.add_triples(triples)
    memory.triple_index.add([t.id for t in triples], vecs)
    return memory


def percentiles(samples: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples)
    return {"p50_ms": round(statistics.median(ms), 3), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        memory = synthetic_memory(n, rng)
        cfg = memory.recall_config
        texts = [f"where is the thing number {i}?" for i in range(args.queries)]
        qvecs = memory.embedder.encode(texts)
        baseline, retrieval, full = [], [], []
        for q in qvecs:
            t0 = time.perf_counter()
            memory.triple_index.search(q, cfg.top_k)
            baseline.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            found = associative(q[None, :], memory.triple_index, memory.store, cfg)
            rank_episodes([t for t, _ in found], memory.store, cfg)
            retrieval.append(time.perf_counter() - t0)
        for text in texts[:50]:
            t0 = time.perf_counter()
            memory.recall(text)
            full.append(time.perf_counter() - t0)
        row = {"triples": n, "depth": cfg.depth, "width": cfg.width, "top_k": cfg.top_k,
               "retrieval": percentiles(retrieval), "recall_with_query_embedding": percentiles(full),
               "baseline_topk_only": percentiles(baseline)}
        row["ratio_retrieval_vs_topk_only"] = round(row["retrieval"]["p50_ms"] / row["baseline_topk_only"]["p50_ms"], 2)
        results.append(row)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
