"""eval-conv: conversations as dialogue memories, their questions asked of them.

Each conversation becomes its own memory (the dialogue profile; one episode per turn, written
through ``Memory.observe_many``), cached as a graph file keyed by the conversation's content. The
graph retriever is a ``CorpusGraph`` over that memory; dense, BM25 and hybrid (RRF) rank the same
episodes (the same texts, the same embedder and the same vectors). Evidence recall@k is reported per
LoCoMo category and pooled over categories 1-4; with an answerer, LoCoMo's F1 per category for
answers read from the graph's top turns, beside a full-context baseline (the most recent turns the
model's context holds) and, if asked, the same reader shown only the evidence turns (its ceiling).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from graphmem_environments.conversation import Conversation, ConversationQuestion
from graphmem_environments.conversation.locomo import CATEGORIES
from graphmem_environments.conversation.metrics import locomo_f1
from graphmem_environments.qa.metrics import recall_at_k
from graphmem.dialogue import day_text, episodes_of, parse_time, prepared
from graphmem.memory import Memory
from graphmem.model import Episode
from graphmem.profiles import DIALOGUE
from graphmem.rag import BM25Retriever, HybridRetriever
from graphmem.rag.attribution import CHECKED_TURNS
from graphmem.rag.graph import CorpusGraph

from .harness import graph_margin

log = logging.getLogger(__name__)

RETRIEVERS = ("graph", "dense", "bm25", "hybrid")
POOLED = (1, 2, 3, 4)  # the categories with evidence to recall (5: unanswerable by design)


class Ranker(Protocol):
    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]: ...


def conversation_key(conv: Conversation) -> str:
    # What is written, not what was read: a change in how turns are written makes a new graph.
    body = json.dumps([list(episodes_of(conv.turns)),
                       [prepared(t.said, t.meta, DIALOGUE.speaker_pronouns, DIALOGUE.relative_times) for t in conv.turns],
                       {"embeds_title": DIALOGUE.embeds_title}],
                      sort_keys=True)
    return f"{conv.id}-{hashlib.sha1(body.encode()).hexdigest()[:10]}"


def open_conversation_graph(conv: Conversation, cache_dir: str | None, embedder=None, extractor=None,
                            config=None, extractor_name: str = "offline") -> tuple[CorpusGraph, bool]:
    """The conversation's graph and whether it came from the cache: a cached graph file is read, a
    missing one is built turn by turn and saved (None ``cache_dir``: built in memory only)."""
    from graphmem.store import open_store

    path = None if cache_dir is None else os.path.join(cache_dir, f"{conversation_key(conv)}-dialogue-{extractor_name}.json")
    if path is not None and os.path.exists(path):
        memory = Memory(open_store(path, readonly=True), profile=DIALOGUE, embedder=embedder, extractor=extractor)
        return CorpusGraph(memory, config=config), True
    store = None
    if path is not None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        store = open_store(path, create=True)
    memory = Memory(store, profile=DIALOGUE, embedder=embedder, extractor=extractor)
    graph = CorpusGraph(memory, config=config)
    memory.observe_many(list(episodes_of(conv.turns)), steps=range(len(conv.turns)))
    if path is not None:
        memory.save()
    return graph, False


@dataclass
class Built:
    """One conversation's retrievers over its episodes (in turn order)."""

    conversation: Conversation
    retrievers: dict[str, Ranker]
    episodes: list[Episode]
    cached: bool = False
    index_seconds: float = 0.0
    by_id: dict[str, Episode] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {e.id: e for e in self.episodes}


def build(conv: Conversation, names: Sequence[str], cache_dir: str | None, embedder=None, extractor=None,
          config=None, extractor_name: str = "offline") -> Built:
    t0 = time.perf_counter()
    graph, cached = open_conversation_graph(conv, cache_dir, embedder, extractor, config, extractor_name)
    order = {t.id: n for n, t in enumerate(conv.turns)}
    episodes = sorted(graph.store.episodes(), key=lambda e: (order.get(e.id, len(order)), e.id))
    retrievers: dict[str, Ranker] = {}
    bm25 = None
    for name in names:
        if name == "graph":
            retrievers[name] = graph
        elif name == "dense":
            retrievers[name] = graph.dense
        else:
            if bm25 is None:  # words compared as the graph compares them: stems for turns
                bm25 = BM25Retriever(stem=graph.prior.stems)
                bm25.add(episodes)
            retrievers[name] = bm25 if name == "bm25" else HybridRetriever(graph.dense, bm25)
    return Built(conv, retrievers, episodes, cached, time.perf_counter() - t0)


def turn_block(e: Episode) -> str:
    """A turn as the answerer reads it: "[session date] Speaker: text" (the day only where the
    session's time reads as a date: the hour is rarely asked, and every token costs time)."""
    when = e.meta.get("time", "") or e.title
    parsed = parse_time(when)
    when = day_text(parsed) if parsed else when
    return f"[{when}] {e.text.strip()}" if when else e.text.strip()


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else 0.0


class _Scores:
    """Per-category lists of one measure, pooled over POOLED."""

    def __init__(self) -> None:
        self.by_category: dict[int, list[float]] = {}

    def add(self, category: int, value: float) -> None:
        self.by_category.setdefault(category, []).append(value)

    def pooled(self) -> float:
        return _mean([v for c in POOLED for v in self.by_category.get(c, [])])

    def category(self, c: int) -> float:
        return _mean(self.by_category.get(c, []))


def evaluate(conversations: Sequence[Conversation], names: Sequence[str], ks: Sequence[int],
             cache_dir: str | None, embedder=None, extractor=None, config=None, extractor_name: str = "offline",
             answer: Callable[[ConversationQuestion, list[Episode], list[Episode]], str] | None = None,
             answer_with: str = "graph", answer_k: int = 10,
             full_context: Callable[[ConversationQuestion, list[Episode]], str] | None = None,
             evidence: Callable[[ConversationQuestion, list[Episode]], str] | None = None,
             progress: bool = False, per_question: bool = False) -> dict:
    """Evidence recall per retriever and category; with ``answer``, LoCoMo F1 of answers read from
    ``answer_with``'s top ``answer_k`` turns (given the next ones up to ``CHECKED_TURNS`` for its
    speaker check); with ``full_context``, the baseline's F1 too; with
    ``evidence``, the F1 of answers read from each question's evidence turns alone (what the reader
    does with perfect retrieval)."""
    depth = max(max(ks), answer_k, CHECKED_TURNS if answer is not None else 0)
    recall = {n: {k: _Scores() for k in ks} for n in names}
    latency: dict[str, list[float]] = {n: [] for n in names}
    f1 = {"memory": _Scores(), "full-context": _Scores(), "evidence": _Scores()}
    answer_seconds: dict[str, list[float]] = {kind: [] for kind in f1}

    def read(kind: str, reader: Callable[..., str], q: ConversationQuestion, turns: list[Episode],
             *context: list[Episode]) -> str:
        t0 = time.perf_counter()
        prediction = reader(q, turns, *context)
        answer_seconds[kind].append(time.perf_counter() - t0)
        f1[kind].add(q.category, locomo_f1(prediction, q.answer, q.category))
        return prediction

    rows: list[dict] = []
    counts = {c: 0 for c in CATEGORIES}
    repaired = missing = 0
    built_info = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sum(len(c.questions) for c in conversations), desc="questions", unit="q")
    for conv in conversations:
        built = build(conv, names, cache_dir, embedder, extractor, config, extractor_name)
        built_info[conv.id] = {"turns": len(conv.turns), "cached": built.cached,
                               "index_s": round(built.index_seconds, 2)}
        repaired += conv.repaired_evidence
        missing += conv.missing_evidence
        for q in conv.questions:
            counts[q.category] = counts.get(q.category, 0) + 1
            row: dict[str, Any] = {"id": q.id, "category": q.category, "gold": q.evidence}
            ranked_by: dict[str, list[str]] = {}
            for name, retriever in built.retrievers.items():
                t0 = time.perf_counter()
                ranked = [pid for pid, _ in retriever.retrieve(q.question, depth)]
                latency[name].append(time.perf_counter() - t0)
                ranked_by[name] = ranked
                if q.evidence:
                    for k in ks:
                        recall[name][k].add(q.category, recall_at_k(ranked, q.evidence, k))
            if per_question:
                row["retrieved"] = {n: r[:max(ks)] for n, r in ranked_by.items()}
            if answer is not None:
                turns = [built.by_id[pid] for pid in ranked_by[answer_with][:CHECKED_TURNS] if pid in built.by_id]
                row["prediction"] = read("memory", answer, q, turns[:answer_k], turns[answer_k:])
            if full_context is not None:
                row["full_context_prediction"] = read("full-context", full_context, q, built.episodes)
            if evidence is not None:
                gold = [built.by_id[turn] for turn in q.evidence if turn in built.by_id]
                row["evidence_prediction"] = read("evidence", evidence, q, gold)
            rows.append(row)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    report: dict[str, Any] = {
        "conversations": built_info, "questions": sum(counts.values()),
        "categories": {str(c): {"name": CATEGORIES.get(c, str(c)), "questions": n} for c, n in sorted(counts.items())},
        "pooled_categories": list(POOLED), "evidence_repaired": repaired, "evidence_missing": missing,
        "retrievers": {}}
    for name in names:
        result: dict[str, Any] = {f"recall@{k}": recall[name][k].pooled() for k in ks}
        result["categories"] = {str(c): {f"recall@{k}": recall[name][k].category(c) for k in ks}
                                for c in sorted(counts) if recall[name][ks[0]].by_category.get(c)}
        result["query_ms_p50"] = round(1000 * float(np.percentile(latency[name], 50)), 2) if latency[name] else 0.0
        result["query_ms_p95"] = round(1000 * float(np.percentile(latency[name], 95)), 2) if latency[name] else 0.0
        report["retrievers"][name] = result
    report["graph_vs_best_baseline"] = graph_margin(report, ks)
    for kind, scores in f1.items():
        if scores.by_category:
            report.setdefault("answers", {})[kind] = {
                "f1": scores.pooled(),
                "categories": {str(c): scores.category(c) for c in sorted(scores.by_category)},
                "seconds_p50": round(float(np.percentile(answer_seconds[kind], 50)), 2)}
    if per_question:
        report["per_question"] = rows
    return report


def format_report(report: dict, ks: Sequence[int]) -> str:
    cats = [c for c in report["categories"] if int(c) in POOLED or c == "5"]
    lines = [f"{len(report['conversations'])} conversations, {report['questions']} questions; recall "
             f"pooled over categories {', '.join(map(str, report['pooled_categories']))}"]
    mid = ks[len(ks) // 2]  # the middle cut-off is shown per category
    header = ["retriever"] + [f"R@{k}" for k in ks] + [f"R@{mid} c{c}" for c in cats] + ["ms p50"]
    lines.append("  ".join(f"{h:>10}" if i else f"{h:<10}" for i, h in enumerate(header)))
    for name, r in report["retrievers"].items():
        cells = [f"{100 * r[f'recall@{k}']:.1f}" for k in ks]
        cells += [f"{100 * r['categories'][c][f'recall@{mid}']:.1f}" if c in r["categories"] else "-" for c in cats]
        cells.append(f"{r['query_ms_p50']:.1f}")
        lines.append("  ".join([f"{name:<10}"] + [f"{c:>10}" for c in cells]))
    for key, m in report.get("graph_vs_best_baseline", {}).items():
        lines.append(f"graph vs best baseline at R@{key.split('@')[1]}: {m['lead']:+.1f} points over {m['best_baseline']}")
    for kind, a in report.get("answers", {}).items():
        per = ", ".join(f"c{c} {100 * v:.1f}" for c, v in a["categories"].items())
        lines.append(f"answers ({kind}): F1 {100 * a['f1']:.1f} pooled 1-4; {per}; {a['seconds_p50']} s p50")
    return "\n".join(lines)
