"""Build passage retrievers over a QA dataset's corpus (cached on disk) and measure Recall@k.

Indexing is the expensive part on a small machine, so everything built is cached under
``cache_dir`` keyed by the corpus content: the corpus graph (one graph file, saved every few
batches so an interrupted build resumes) and dense passage embeddings. The dense baseline reuses
the graph's passage vectors when both are evaluated in one run.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from environments.qa import QADataset, exact_match, f1_score, mean_recall_at_k
from graphmem.rag import BM25Retriever, DenseRetriever, PassageRetriever

log = logging.getLogger(__name__)

RETRIEVERS = ("graph", "dense", "bm25", "bfs")
SAVE_EVERY = 256  # passages between checkpoints of a graph build


def corpus_key(dataset: QADataset) -> str:
    ids = "\n".join(sorted(p.id for p in dataset.passages))
    return f"{dataset.name}-{hashlib.sha1(ids.encode()).hexdigest()[:10]}"


@dataclass
class Built:
    retrievers: dict[str, PassageRetriever]
    index_seconds: dict[str, float] = field(default_factory=dict)
    cached: dict[str, bool] = field(default_factory=dict)
    stats: dict[str, dict] = field(default_factory=dict)


def graph_path(cache_dir: str, dataset: QADataset, extractor: str) -> str:
    return os.path.join(cache_dir, f"{corpus_key(dataset)}-graph-{extractor}.json")


def build_graph(dataset: QADataset, store, extractor=None, config=None, progress=True,
                passage_vectors=None, workers: int = 4):
    """Open the graph in ``store`` (a graph file path or an open store) and add whatever passages
    it lacks, checkpointing."""
    from graphmem.rag.graph import CorpusGraph
    from graphmem.store import open_store

    if not hasattr(store, "episodes"):
        store = open_store(store, create=True)
    graph = CorpusGraph(store, extractor=extractor, config=config, extract_workers=workers)
    added = graph.add(dataset.passages, progress=progress, save_every=SAVE_EVERY,
                      passage_vectors=passage_vectors)
    if added:
        graph.save()
    return graph, added


def _dense_cached(dataset: QADataset, cache_dir: str) -> tuple[DenseRetriever, bool]:
    dense = DenseRetriever()
    path = os.path.join(cache_dir, f"{corpus_key(dataset)}-dense-{dense.embedder.name}.npz")
    if os.path.exists(path):
        data = np.load(path)
        ids = [str(i) for i in data["ids"]]
        by_id = {p.id: p for p in dataset.passages}
        if set(ids) == set(by_id):
            dense.add([by_id[i] for i in ids], data["vectors"])
            return dense, True
        log.warning("ignoring stale dense cache %s", path)
    dense.add(dataset.passages)
    os.makedirs(cache_dir, exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, ids=np.array(dense.index.ids), vectors=dense.index.matrix)
    os.replace(tmp, path)
    return dense, False


def build_retrievers(names: Sequence[str], dataset: QADataset, cache_dir: str,
                     extractor_name: str = "offline", extractor=None, graph_config=None,
                     progress: bool = True, workers: int = 4, graph_store=None) -> Built:
    """The named retrievers over ``dataset``. The graph is ``graph_store`` when given (a store that
    gets the passages it lacks), else a graph file cached under ``cache_dir``."""
    unknown = [n for n in names if n not in RETRIEVERS]
    if unknown:
        raise ValueError(f"unknown retriever(s) {unknown}; choose from {', '.join(RETRIEVERS)}")
    built = Built({})
    graph = None
    if "graph" in names or "bfs" in names:
        t0 = time.perf_counter()
        target = graph_store if graph_store is not None else graph_path(cache_dir, dataset, extractor_name)
        vectors = None
        if graph_store is None and not os.path.exists(target):  # a fresh build reuses the dense cache
            dense, _ = _dense_cached(dataset, cache_dir)
            vectors = dict(zip(dense.index.ids, dense.index.matrix))
        graph, added = build_graph(dataset, target, extractor, graph_config, progress, vectors,
                                   workers)
        built.index_seconds["graph"] = time.perf_counter() - t0
        built.cached["graph"] = added == 0
        built.stats["graph"] = graph.stats()
    for name in names:
        t0 = time.perf_counter()
        if name == "graph":
            built.retrievers[name] = graph
            continue
        if name == "bfs":
            from graphmem.rag.associative import AssociativeRetriever

            built.retrievers[name] = AssociativeRetriever(graph)
        elif name == "dense":
            if graph is not None:
                built.retrievers[name], built.cached[name] = graph.dense, True
            else:
                built.retrievers[name], built.cached[name] = _dense_cached(dataset, cache_dir)
        elif name == "bm25":
            bm25 = BM25Retriever()
            bm25.add(dataset.passages)
            bm25.retrieve("warm up", 1)  # builds the index now, so query latency is honest
            built.retrievers[name], built.cached[name] = bm25, False
        built.index_seconds[name] = time.perf_counter() - t0
    return built


def evaluate(dataset: QADataset, built: Built, ks: Sequence[int], answerer=None,
             progress: bool = False) -> dict:
    """Recall@k (and EM/F1 with an ``answerer``) per retriever, with per-query latency."""
    depth = max(max(ks), getattr(answerer, "top_k", 0))
    report = {"dataset": dataset.name, "questions": len(dataset.questions),
              "passages": len(dataset.passages), "missing_gold": dataset.missing_gold,
              "retrievers": {}}
    for name, retriever in built.retrievers.items():
        runs, latencies, ems, f1s, rows = [], [], [], [], []
        questions = dataset.questions
        if progress:
            from tqdm import tqdm

            questions = tqdm(questions, desc=f"questions ({name})", unit="q")
        for q in questions:
            t0 = time.perf_counter()
            ranked = [pid for pid, _ in retriever.retrieve(q.question, depth)]
            latencies.append(time.perf_counter() - t0)
            runs.append((ranked, q.gold_ids))
            row = {"id": q.id, "retrieved": ranked, "gold": q.gold_ids}
            if answerer is not None:
                passages = [dataset.passage(pid) for pid in ranked[:answerer.top_k]]
                row["prediction"] = answerer.answer(q.question, [p for p in passages if p])
                ems.append(exact_match(row["prediction"], q.answers))
                f1s.append(f1_score(row["prediction"], q.answers))
            rows.append(row)
        result = {f"recall@{k}": mean_recall_at_k(runs, k) for k in ks}
        result["index_s"] = round(built.index_seconds.get(name, 0.0), 2)
        result["index_cached"] = built.cached.get(name, False)
        result["query_ms_mean"] = round(1000 * float(np.mean(latencies)), 2) if latencies else 0.0
        result["query_ms_p95"] = round(1000 * float(np.percentile(latencies, 95)), 2) if latencies else 0.0
        if answerer is not None:
            result["em"] = float(np.mean(ems)) if ems else 0.0
            result["f1"] = float(np.mean(f1s)) if f1s else 0.0
        if name in built.stats:
            result["graph"] = built.stats[name]
        result["per_question"] = rows
        report["retrievers"][name] = result
    return report


def format_report(report: dict, ks: Sequence[int]) -> str:
    """A fixed-width table: one row per retriever."""
    lines = [f"dataset {report['dataset']}: {report['questions']} questions, "
             f"{report['passages']} passages"]
    extra = [c for c in ("em", "f1") if any(c in r for r in report["retrievers"].values())]
    header = ["retriever"] + [f"R@{k}" for k in ks] + [c.upper() for c in extra] + \
             ["index_s", "query_ms"]
    lines.append("  ".join(f"{h:>9}" if i else f"{h:<9}" for i, h in enumerate(header)))
    for name, r in report["retrievers"].items():
        cells = [f"{r[f'recall@{k}']:.3f}" for k in ks] + [f"{r[c]:.3f}" for c in extra]
        index = f"{r['index_s']:.1f}" + ("*" if r["index_cached"] else "")
        cells += [index, f"{r['query_ms_mean']:.1f}"]
        lines.append("  ".join([f"{name:<9}"] + [f"{c:>9}" for c in cells]))
    if any(r["index_cached"] for r in report["retrievers"].values()):
        lines.append("* index loaded from cache")
    return "\n".join(lines)
