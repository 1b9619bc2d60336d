"""Lexical baseline: Okapi BM25 from `rank-bm25` over a simple deterministic tokenizer."""
from __future__ import annotations

import re
from typing import Sequence

from rank_bm25 import BM25Okapi

from .base import PassageLike, passage_text, top_k

_TOKEN = re.compile(r"[0-9a-z]+")
# A short fixed list: enough to stop "the"/"of" from dominating, small enough to be obvious.
_STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have he her his how in is it its of on "
    "or she that the their there they this to was were what when where which who whom whose why "
    "with".split()
)


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]


class BM25Retriever:
    name = "bm25"

    def __init__(self, k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = k1, b
        self._docs: dict[str, list[str]] = {}
        self._ids: list[str] = []
        self._bm25: BM25Okapi | None = None

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, passages: Sequence[PassageLike]) -> None:
        for p in passages:
            self._docs[p.id] = tokenize(passage_text(p))
        self._bm25 = None  # corpus statistics changed; rebuilt lazily (cheap: one pass)

    def remove(self, passage_ids: Sequence[str]) -> None:
        for pid in passage_ids:
            self._docs.pop(pid, None)
        self._bm25 = None

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        if not self._docs:
            return []
        if self._bm25 is None:
            self._ids = sorted(self._docs)
            # rank-bm25 divides by the mean length; an all-empty corpus would divide by zero.
            self._bm25 = BM25Okapi([self._docs[i] or [""] for i in self._ids], k1=self.k1, b=self.b)
        return top_k(self._ids, self._bm25.get_scores(tokenize(question)), k)
