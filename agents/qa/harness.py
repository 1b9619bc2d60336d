"""Build passage retrievers over a QA dataset's corpus (cached on disk) and measure Recall@k.

Indexing is the expensive part on a small machine, so everything built is cached under
``cache_dir`` keyed by the corpus content: the corpus graph (one graph file, saved every few
batches so an interrupted build resumes) and dense passage embeddings. The dense baseline reuses
the graph's passage vectors when both are evaluated in one run (the graph does not reuse cached dense
vectors: its fact vectors are pooled from the passages' forward pass, which it runs anyway).
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from graphmem_environments.qa import QADataset, Question, exact_match, f1_score, recall_at_k
from graphmem_environments.qa.evidence import DEFAULT_THRESHOLD, EvidenceCoverage
from graphmem.embedders.sentence_transformer import DEFAULT_EMBEDDER
from graphmem.indexes import PASSAGE_TOKENS
from graphmem.rag import BM25Retriever, DenseRetriever, HybridRetriever, PassageRetriever
from graphmem.vectors.vector_index import VectorIndex

from graphmem.rag.iterative import iter_retgen

log = logging.getLogger(__name__)

# The one list of retrievers eval-qa knows (the CLI checks names against it). Baselines: dense
# (the embedder over passages), bm25, hybrid (the two by reciprocal rank fusion); graph: PageRank
# over the corpus graph; bfs: the agent memory's associative recall on the same graph.
RETRIEVERS = ("graph", "dense", "bm25", "hybrid", "bfs")
BASELINES = ("dense", "bm25", "hybrid")
SAVE_EVERY = 256  # passages between checkpoints of a graph build
# What a retrieved passage is scored against: the gold passages of the questions file, or its
# evidence statements (any passage that covers one counts: fair to a chunking of one's own).
GOLDS = ("passages", "evidence")
UNTYPED = "(no type)"  # the by_type group of questions without a question_type


def corpus_key(dataset: QADataset) -> str:
    ids = "\n".join(sorted(p.id for p in dataset.passages))
    return f"{dataset.name}-{hashlib.sha1(ids.encode()).hexdigest()[:10]}"


@dataclass
class Built:
    retrievers: dict[str, PassageRetriever]
    index_seconds: dict[str, float] = field(default_factory=dict)
    cached: dict[str, bool] = field(default_factory=dict)
    stats: dict[str, dict] = field(default_factory=dict)


def graph_path(cache_dir: str, dataset: QADataset, extractor: str, embedder: str | None = None) -> str:
    # The fact vector kind is in the name: a graph cached before facts were pooled is not reused.
    suffix = "" if embedder in (None, DEFAULT_EMBEDDER) else f"-{embedder}"
    return os.path.join(cache_dir, f"{corpus_key(dataset)}-graph-{extractor}-{PASSAGE_TOKENS}{suffix}.json")


def build_graph(dataset: QADataset, store, extractor=None, config=None, progress=True,
                workers: int = 4, embedder=None):
    """The graph of ``dataset`` in ``store`` (a graph file path or an open store), with whatever
    passages it lacked added, checkpointing.

    A graph file comes back read-only, holding no writer's lock: answering with a local model takes
    hours, and a lock held that long turned away every other evaluation of the same cached graph
    (another split, a replay of the answers so far). So a file that already holds every passage is
    only read, and one that had to grow is saved, closed and read again."""
    from graphmem.rag.graph import CorpusGraph
    from graphmem.store import open_store

    def open_graph(target):
        return CorpusGraph(target, embedder=embedder, extractor=extractor, config=config,
                           extract_workers=workers)

    if hasattr(store, "episodes"):  # an open store: grown in place, its caller closes it
        graph = open_graph(store)
        added = _add_passages(graph, dataset, progress)
        return graph, added
    if os.path.exists(store):
        graph = open_graph(open_store(store, readonly=True))
        if all(p.id in graph for p in dataset.passages):
            return graph, 0
        graph.close()
    with open_graph(open_store(store, create=True)) as graph:
        added = _add_passages(graph, dataset, progress)
    return open_graph(open_store(store, readonly=True)), added


def _add_passages(graph, dataset: QADataset, progress) -> int:
    added = graph.add(dataset.passages, progress=progress, save_every=SAVE_EVERY)
    if added:
        graph.save()
    return added


def _dense_cached(dataset: QADataset, cache_dir: str, embedder=None) -> tuple[DenseRetriever, bool]:
    dense = DenseRetriever(embedder)
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
    index = dense.index
    assert isinstance(index, VectorIndex)  # its own, made above (not a server's)
    np.savez(tmp, ids=np.array(index.ids), vectors=index.matrix)
    os.replace(tmp, path)
    return dense, False


def build_retrievers(names: Sequence[str], dataset: QADataset, cache_dir: str,
                     extractor_name: str = "offline", extractor=None, graph_config=None,
                     progress: bool = True, workers: int = 4, graph_store=None, embedder=None) -> Built:
    """The named retrievers over ``dataset``. The graph is ``graph_store`` when given (a store that
    gets the passages it lacks), else a graph file cached under ``cache_dir``. ``embedder``: for
    the graph and the dense passages (default all-MiniLM-L6-v2)."""
    unknown = [n for n in names if n not in RETRIEVERS]
    if unknown:
        raise ValueError(f"unknown retriever(s) {unknown}; choose from {', '.join(RETRIEVERS)}")
    built = Built({})
    graph = None
    if "graph" in names or "bfs" in names:
        t0 = time.perf_counter()
        target = graph_store if graph_store is not None else \
            graph_path(cache_dir, dataset, extractor_name, embedder.name if embedder else None)
        graph, added = build_graph(dataset, target, extractor, graph_config, progress, workers, embedder)
        built.index_seconds["graph"] = time.perf_counter() - t0
        built.cached["graph"] = added == 0
        built.stats["graph"] = graph.stats()
    baselines: dict[str, tuple[PassageRetriever, bool]] = {}

    def baseline(name: str) -> tuple[PassageRetriever, bool]:
        """dense, bm25 or hybrid, each built once (hybrid reuses the other two)."""
        if name not in baselines:
            if name == "dense":
                baselines[name] = (graph.dense, True) if graph is not None else \
                    _dense_cached(dataset, cache_dir, embedder)
            elif name == "bm25":
                bm25 = BM25Retriever()
                bm25.add(dataset.passages)
                bm25.retrieve("warm up", 1)  # builds the index now, so query latency is honest
                baselines[name] = (bm25, False)
            else:
                (dense, cached), (lexical, _) = baseline("dense"), baseline("bm25")
                baselines[name] = (HybridRetriever(dense, lexical), cached)
        return baselines[name]

    for name in names:
        t0 = time.perf_counter()
        if name == "graph":
            assert graph is not None  # built above for "graph" and "bfs"
            built.retrievers[name] = graph
            continue
        if name == "bfs":
            from graphmem.rag.associative import AssociativeRetriever

            assert graph is not None
            built.retrievers[name] = AssociativeRetriever(graph)
        else:
            built.retrievers[name], built.cached[name] = baseline(name)
        built.index_seconds[name] = time.perf_counter() - t0
    return built


def _question_recall(q: Question, ranked: Sequence[str], ks: Sequence[int],
                     coverage: EvidenceCoverage | None) -> dict[int, float] | None:
    """The question's Recall@k for each k. Against its gold passages (``coverage`` None): the share
    of them ranked in the top k (1.0 with no gold, as ever). Against its evidence statements: the
    share of them covered by at least one of the top k (a passage may cover several); None for a
    question without statements, which is skipped."""
    if coverage is None:
        return {k: recall_at_k(ranked, q.gold_ids, k) for k in ks}
    return {k: coverage.recall_at_k(q.evidence, ranked, k) for k in ks} if q.evidence else None


def _evidence_summary(questions: Sequence[Question], coverage: EvidenceCoverage) -> dict:
    """What there is to find, and the ceiling of recall: per question the share of its statements
    that some passage covers, averaged as recall is (overall and per question type)."""
    reach = [sum(map(coverage.coverable, q.evidence)) / len(q.evidence) if q.evidence else None
             for q in questions]

    def mean(values: list[float | None]) -> float | None:
        scored = [v for v in values if v is not None]
        return sum(scored) / len(scored) if scored else None

    out: dict[str, Any] = {
        "threshold": coverage.threshold, "statements": sum(len(q.evidence) for q in questions),
        "questions_scored": sum(bool(q.evidence) for q in questions),
        "questions_without_evidence": sum(not q.evidence for q in questions),
        "ceiling": mean(reach)}
    types = [q.question_type for q in questions]
    if any(types):
        out["ceiling_by_type"] = {kind or UNTYPED: mean([r for t, r in zip(types, reach) if t == kind])
                                  for kind in sorted(set(types))}
    return out


def _mean_recalls(recalls: Sequence[dict[int, float] | None], ks: Sequence[int]) -> dict:
    """``recall@k`` averaged over the questions scored (0.0 when none was)."""
    scored = [r for r in recalls if r is not None]
    return {f"recall@{k}": sum(r[k] for r in scored) / len(scored) if scored else 0.0 for k in ks}


def _by_type(types: Sequence[str], recalls: Sequence[dict[int, float] | None], ks: Sequence[int]) -> dict:
    """Recall per question type, with the questions scored and skipped (recall None where none
    was scored); empty when no question has a type."""
    if not any(types):
        return {}
    out = {}
    for kind in sorted(set(types)):
        mine = [r for t, r in zip(types, recalls) if t == kind]
        scored = sum(r is not None for r in mine)
        recall = _mean_recalls(mine, ks) if scored else dict.fromkeys(f"recall@{k}" for k in ks)
        out[kind or UNTYPED] = {"questions": scored, "skipped": len(mine) - scored, **recall}
    return out


def evaluate(dataset: QADataset, built: Built, ks: Sequence[int], answerer=None,
             progress: bool = False, iterations: int = 1, split: str = "all",
             gold: str = "passages") -> dict:
    """Recall@k (and EM/F1 with an ``answerer``) per retriever, with per-query latency; per
    question type too when the questions have types.

    ``gold``: ``passages`` (the questions' gold passages) or ``evidence`` (their evidence
    statements; see :func:`_question_recall`). ``iterations`` > 1 (with an answerer): Iter-RetGen;
    the top-level numbers are the last round's, ``rounds`` holds every round's (round n = what
    ``--iterations n`` gives)."""
    depth = max(max(ks), getattr(answerer, "top_k", 0))
    if gold not in GOLDS:
        raise ValueError(f"unknown gold {gold!r}; choose from {', '.join(GOLDS)}")
    coverage = EvidenceCoverage(dataset.passages, DEFAULT_THRESHOLD) if gold == "evidence" else None
    report: dict[str, Any] = {"dataset": dataset.name, "split": split, "questions": len(dataset.questions),
                              "passages": len(dataset.passages), "missing_gold": dataset.missing_gold,
                              "gold": gold}
    if coverage is not None:
        report["evidence"] = _evidence_summary(dataset.questions, coverage)
    report["retrievers"] = {}
    types = [q.question_type for q in dataset.questions]
    rounds_run = iterations if answerer is not None else 1
    for name, retriever in built.retrievers.items():
        recalls: list[list[dict[int, float] | None]] = [[] for _ in range(rounds_run)]
        ems: list[list[float]] = [[] for _ in range(rounds_run)]
        f1s: list[list[float]] = [[] for _ in range(rounds_run)]
        latencies, rows = [], []
        questions = dataset.questions
        if progress:
            from tqdm import tqdm

            questions = tqdm(questions, desc=f"questions ({name})", unit="q")

        def retrieve(query: str) -> list[str]:
            t0 = time.perf_counter()
            ranked = [pid for pid, _ in retriever.retrieve(query, depth)]
            latencies.append(time.perf_counter() - t0)
            return ranked

        def answer(question: str, ranked: Sequence[str]) -> str:
            passages = [dataset.passage(pid) for pid in ranked[:answerer.top_k]]
            return answerer.answer(question, [p for p in passages if p])

        for q in questions:
            done = iter_retgen(q.question, retrieve, answer if answerer is not None else None,
                               iterations)
            for i in range(rounds_run):  # a round that stopped early counts as repeated
                r = done[min(i, len(done) - 1)]
                recalls[i].append(_question_recall(q, r.ranked, ks, coverage))
                if answerer is not None:
                    ems[i].append(exact_match(r.answer, q.answers))
                    f1s[i].append(f1_score(r.answer, q.answers))
            row: dict[str, Any] = {"id": q.id, "retrieved": done[-1].ranked, "gold": q.gold_ids}
            if coverage is not None:
                last = recalls[-1][-1]
                row["evidence_recall"] = None if last is None else {f"recall@{k}": v for k, v in last.items()}
            if answerer is not None:
                row["prediction"] = done[-1].answer
                if iterations > 1:
                    row["rounds"] = [{"query": r.query, "retrieved": r.ranked, "prediction": r.answer}
                                     for r in done]
            rows.append(row)

        def scores(i: int) -> dict:
            out = _mean_recalls(recalls[i], ks)
            if answerer is not None:
                out["em"] = float(np.mean(ems[i])) if ems[i] else 0.0
                out["f1"] = float(np.mean(f1s[i])) if f1s[i] else 0.0
            return out

        result = scores(rounds_run - 1)
        result["index_s"] = round(built.index_seconds.get(name, 0.0), 2)
        result["index_cached"] = built.cached.get(name, False)
        result["query_ms_mean"] = round(1000 * float(np.mean(latencies)), 2) if latencies else 0.0
        result["query_ms_p50"] = round(1000 * float(np.percentile(latencies, 50)), 2) if latencies else 0.0
        result["query_ms_p95"] = round(1000 * float(np.percentile(latencies, 95)), 2) if latencies else 0.0
        if rounds_run > 1:
            result["rounds"] = [scores(i) for i in range(rounds_run)]
        by_type = _by_type(types, recalls[-1], ks)
        if by_type:
            result["by_type"] = by_type
        if name in built.stats:
            result["graph"] = built.stats[name]
        result["per_question"] = rows
        report["retrievers"][name] = result
    margin = graph_margin(report, ks)
    if margin:
        report["graph_vs_best_baseline"] = margin
    return report


def graph_margin(report: dict, ks: Sequence[int]) -> dict:
    """Per cut-off, the best of the baselines evaluated and the graph's lead over it (points of
    recall x 100); empty unless the graph and at least one baseline were evaluated."""
    results = report["retrievers"]
    present = [b for b in BASELINES if b in results]
    if "graph" not in results or not present:
        return {}
    out = {}
    for k in ks:
        key = f"recall@{k}"
        best = max(present, key=lambda b: (results[b][key], b))
        out[key] = {"best_baseline": best,
                    "lead": round(100 * (results["graph"][key] - results[best][key]), 2)}
    return out


def format_report(report: dict, ks: Sequence[int]) -> str:
    """A fixed-width table: one row per retriever."""
    split = report.get("split", "all")
    lines = [f"dataset {report['dataset']}: {report['questions']} questions"
             f"{'' if split == 'all' else f' ({split} split)'}, {report['passages']} passages"]
    if "evidence" in report:
        e = report["evidence"]
        lines.append(f"gold: {e['statements']} evidence statements of {e['questions_scored']} questions "
                     f"(a passage covers one holding {100 * e['threshold']:.0f}% of its IDF-weighted "
                     f"content words); {e['questions_without_evidence']} questions without evidence skipped")
        if e["ceiling"] is not None:
            lines.append(f"recall can reach {e['ceiling']:.3f}: the statements some passage covers")
    extra = [c for c in ("em", "f1") if any(c in r for r in report["retrievers"].values())]
    header = ["retriever"] + [f"R@{k}" for k in ks] + [c.upper() for c in extra] + \
             ["index_s", "query_ms"]
    lines.append("  ".join(f"{h:>9}" if i else f"{h:<9}" for i, h in enumerate(header)))
    for name, r in report["retrievers"].items():
        cells = [f"{r[f'recall@{k}']:.3f}" for k in ks] + [f"{r[c]:.3f}" for c in extra]
        index = f"{r['index_s']:.1f}" + ("*" if r["index_cached"] else "")
        cells += [index, f"{r['query_ms_mean']:.1f}"]
        lines.append("  ".join([f"{name:<9}"] + [f"{c:>9}" for c in cells]))
    for name, r in report["retrievers"].items():
        for i, scores in enumerate(r.get("rounds", []), 1):
            cells = [f"R@{k} {scores[f'recall@{k}']:.3f}" for k in ks] + \
                    [f"{c.upper()} {scores[c]:.3f}" for c in extra]
            lines.append(f"{name} with --iterations {i}: " + ", ".join(cells))
    for key, m in report.get("graph_vs_best_baseline", {}).items():
        lines.append(f"graph vs best baseline at R@{key.split('@')[1]}: {m['lead']:+.1f} points "
                     f"over {m['best_baseline']}")
    lines += _type_table(report, ks)
    if any(r["index_cached"] for r in report["retrievers"].values()):
        lines.append("* index loaded from cache")
    return "\n".join(lines)


def _type_table(report: dict, ks: Sequence[int]) -> list[str]:
    """Recall per question type: one row per type, one column per retriever and cut-off."""
    typed = {name: r["by_type"] for name, r in report["retrievers"].items() if "by_type" in r}
    if not typed:
        return []
    kinds = list(next(iter(typed.values())))
    width = max(len("question type"), *map(len, kinds))
    columns = [(name, k) for name in typed for k in ks]
    heads = [f"{name} R@{k}" for name, k in columns]
    ceilings = report.get("evidence", {}).get("ceiling_by_type")
    if ceilings:
        heads.append("ceiling")
    cell = max(9, *map(len, heads))
    lines = ["per question type:", "  ".join([f"{'question type':<{width}}", f"{'n':>5}"] +
                                              [f"{h:>{cell}}" for h in heads])]
    for kind in kinds:
        first = next(iter(typed.values()))[kind]
        recalls = [typed[name][kind][f"recall@{k}"] for name, k in columns]
        if ceilings:
            recalls.append(ceilings[kind])
        cells = ["-" if r is None else f"{r:.3f}" for r in recalls]
        lines.append("  ".join([f"{kind:<{width}}", f"{first['questions']:>5}"] + [f"{c:>{cell}}" for c in cells]))
    return lines
