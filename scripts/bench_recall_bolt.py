"""Recall over a graph server: round trips and latency with the store's batch reads, against the
same server read one item at a time (the store contract's default reads), in the same process.

A corpus memory is built from the first --passages MuSiQue passages (offline extractor, documents
profile) in a file store, copied into an ArcadeDB started here on free loopback ports, and recalled
with the dataset's questions.

    python scripts/bench_recall_bolt.py [--data ../shared/data] [--passages 300] [--questions 50]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from graphmem_environments.qa import load_dataset
from graphmem.memory import Memory
from graphmem.rag.graph import CorpusGraph
from graphmem.store.base import GraphStore
from graphmem.store.bolt import BoltStore
from graphmem.store.transfer import copy_store

ROOT = Path(__file__).resolve().parents[1]


class PerItemBoltStore(BoltStore):
    """The baseline: the contract's default reads, one server round trip per triple, entity and
    episode (what recall cost before the batch reads)."""

    get_triples = GraphStore.get_triples
    get_episodes = GraphStore.get_episodes
    triples_of_entities = GraphStore.triples_of_entities

    def triples_of_entity(self, entity: str, current_only: bool = True):
        return BoltStore.triples_of_entities(self, [entity], current_only)


def measure(memory: Memory, store: BoltStore, questions: list[str]) -> dict:
    memory.recall(questions[0])  # warm up: query embedding model and driver pool
    store.transactions = 0
    times, sizes = [], []
    for q in questions:
        memory._encode_queries([q])  # embedding is not what is measured here
        start = time.perf_counter()
        found = memory.recall(q)
        times.append(1000 * (time.perf_counter() - start))
        sizes.append(len(found.triples))
    times.sort()
    return {"round_trips_per_recall": store.transactions / len(questions),
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
            "triples_per_recall": round(statistics.mean(sizes), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--passages", type=int, default=300)
    ap.add_argument("--questions", type=int, default=50)
    args = ap.parse_args(argv)
    from graphmem.testing.arcadedb import PASSWORD, USER, ArcadeServer

    dataset = load_dataset(Path(args.data) / "multihop" / "musique")
    questions = [q.question for q in dataset.questions[: args.questions]]
    with tempfile.TemporaryDirectory() as tmp:
        graph = CorpusGraph()
        graph.add(dataset.passages[: args.passages])
        server = ArcadeServer(Path(tmp) / "arcadedb")
        server.start()
        try:
            database = server.fresh_database("recall")
            batched = BoltStore(server.uri, USER, PASSWORD, database)
            counts = copy_store(graph.store, batched)
            per_item = PerItemBoltStore(server.uri, USER, PASSWORD, database)
            results = {}
            for name, store in (("per_item", per_item), ("batched", batched)):
                results[name] = measure(Memory(store, embedder=graph.embedder), store, questions)
                store.close()
        finally:
            server.stop()
    base, new = results["per_item"], results["batched"]
    print(json.dumps({"graph": counts, "questions": len(questions), **results,
                      "round_trip_ratio": round(new["round_trips_per_recall"] / base["round_trips_per_recall"], 3),
                      "p50_speedup": round(base["p50_ms"] / new["p50_ms"], 2)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
