"""The passage retriever contract shared by the baselines and the corpus graph."""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from ..model import passage_text  # noqa: F401 - retrievers import it from here


@runtime_checkable
class PassageLike(Protocol):
    """Anything with an id, a title and a text (e.g. a dataset's passage record): read only, so
    named tuples and frozen records qualify."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def text(self) -> str: ...


@runtime_checkable
class PassageRetriever(Protocol):
    name: str

    def add(self, passages: Sequence[PassageLike]) -> None:
        """Index more passages (re-adding an id replaces it)."""

    def remove(self, passage_ids: Sequence[str]) -> None: ...

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        """Top-k (passage_id, score), best first; ties broken by passage id."""


def top_k(ids: Sequence[str], scores: np.ndarray | Sequence[float], k: int) -> list[tuple[str, float]]:
    """Best k by score, ties by id, so rankings never depend on insertion or hash order."""
    if k <= 0 or len(ids) == 0:
        return []
    scores = np.asarray(scores, dtype=np.float64)
    if k < len(ids):
        # Keep every item tied with the k-th best so the id tie-break sees all of them.
        kth = np.partition(-scores, k - 1)[k - 1]
        cand = np.flatnonzero(-scores <= kth)
    else:
        cand = np.arange(len(ids))
    ranked = sorted(cand.tolist(), key=lambda i: (-scores[i], ids[i]))[:k]
    return [(ids[i], float(scores[i])) for i in ranked]
