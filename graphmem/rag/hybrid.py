"""Hybrid lexical + dense retrieval: BM25 and dense rankings merged by reciprocal rank fusion.

RRF scores a passage sum(1 / (k + rank)) over the rankings it appears in (rank from 1); ``k`` = 60
is the constant of Cormack et al. (2009). It needs no score calibration between the two retrievers.
"""
from __future__ import annotations

from typing import Sequence

from .base import PassageLike, PassageRetriever, top_k
from .bm25 import BM25Retriever
from .dense import DenseRetriever


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, 1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (k + rank)
    return scores


class HybridRetriever:
    """BM25 + dense by RRF over each one's top ``depth`` passages (at least the k asked for)."""

    name = "hybrid"

    def __init__(self, dense: PassageRetriever | None = None, bm25: PassageRetriever | None = None,
                 rrf_k: int = 60, depth: int = 100):
        self.dense = dense if dense is not None else DenseRetriever()
        self.bm25 = bm25 if bm25 is not None else BM25Retriever()
        self.rrf_k = rrf_k
        self.depth = depth

    def add(self, passages: Sequence[PassageLike]) -> None:
        self.dense.add(passages)
        self.bm25.add(passages)

    def remove(self, passage_ids: Sequence[str]) -> None:
        self.dense.remove(passage_ids)
        self.bm25.remove(passage_ids)

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        depth = max(k, self.depth)
        rankings = [[pid for pid, _ in r.retrieve(question, depth)] for r in (self.bm25, self.dense)]
        fused = reciprocal_rank_fusion(rankings, self.rrf_k)
        ids = sorted(fused)
        return top_k(ids, [fused[i] for i in ids], k)

