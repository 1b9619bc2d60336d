"""Query latency of graph (PPR) retrieval against dense retrieval on the same corpus graph.

Question embeddings are computed once up front, so the numbers compare the search work itself;
the shared encoding cost is printed separately. Needs a graph built by `graphmem eval-qa` (cached
under --cache-dir). Usage:
    python scripts/bench_qa_latency.py [--data ../shared/data/multihop/musique] [--cache-dir DIR]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from graphmem_agents.qa.harness import graph_path
from graphmem_environments.qa import load_dataset
from graphmem.embedders.sentence_transformer import default_embedder
from graphmem.rag.graph import CorpusGraph
from graphmem.store.embedded import EmbeddedStore


class Precomputed:
    """An embedder that answers from vectors computed in one batch beforehand."""

    def __init__(self, base, texts):
        self.name, self.dim = base.name, base.dim
        self._vecs = dict(zip(texts, base.encode(texts)))

    def encode(self, texts):
        return np.stack([self._vecs[t] for t in texts])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data", "multihop", "musique"))
    ap.add_argument("--cache-dir", default=os.path.join(".graphmem-cache", "qa"))
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args()
    dataset = load_dataset(args.data)
    path = graph_path(args.cache_dir, dataset, "offline")
    if not os.path.exists(path):
        sys.exit(f"no graph at {path}: run `graphmem eval-qa --data {args.data}` first")
    t = time.perf_counter()
    graph = CorpusGraph(EmbeddedStore(path, readonly=True))  # no lock: an eval may be writing it
    load_s = time.perf_counter() - t
    questions = [q.question for q in dataset.questions]
    t = time.perf_counter()
    graph.embedder = graph.dense.embedder = Precomputed(default_embedder(), questions)
    encode_ms = 1000 * (time.perf_counter() - t) / len(questions)
    graph.retrieve(questions[0], args.k)  # builds the PageRank matrix once, as a server would
    timings = {}
    for name, search in (("dense", graph.dense.retrieve), ("graph", graph.retrieve)):
        per_query = []
        for q in questions:
            t = time.perf_counter()
            search(q, args.k)
            per_query.append(1000 * (time.perf_counter() - t))
        timings[name] = (float(np.median(per_query)), float(np.mean(per_query)))
    print(f"{dataset.name}: {len(graph)} passages, graph load {load_s:.1f} s, "
          f"question encoding {encode_ms:.1f} ms/q (batched)")
    (dense_p50, dense_mean), (graph_p50, graph_mean) = timings["dense"], timings["graph"]
    print(f"dense search p50 {dense_p50:.2f} ms (mean {dense_mean:.2f}), graph search p50 {graph_p50:.2f} ms "
          f"(mean {graph_mean:.2f}), graph/dense {graph_p50 / dense_p50:.1f}x at p50")


if __name__ == "__main__":
    main()
