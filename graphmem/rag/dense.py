"""Dense passage retrieval with the same embedder the graph uses (cosine over normalised vectors)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..embed import Embedder, VectorIndex, default_embedder
from .base import PassageLike, passage_text, top_k


class DenseRetriever:
    name = "dense"

    def __init__(self, embedder: Embedder | None = None):
        self.embedder = embedder or default_embedder()
        self.index = VectorIndex(self.embedder.dim)
        self._live: dict[str, None] = {}  # removed rows stay in the index, deactivated

    def __len__(self) -> int:
        return len(self._live)

    def add(self, passages: Sequence[PassageLike], vectors: np.ndarray | None = None) -> None:
        """Index passages; ``vectors`` lets a caller reuse embeddings it already computed."""
        if not passages:
            return
        if vectors is None:
            vectors = self.embedder.encode([passage_text(p) for p in passages])
        ids = [p.id for p in passages]
        self.index.add(ids, vectors)
        self._live.update(dict.fromkeys(ids))

    def remove(self, passage_ids: Sequence[str]) -> None:
        self.index.deactivate(passage_ids)
        for pid in passage_ids:
            self._live.pop(pid, None)

    def scores(self, query_vector: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Similarity of the query with every live passage (the graph mixes these into its seeds)."""
        sims = self.index.matrix @ np.asarray(query_vector, dtype=np.float32)
        if len(self._live) == len(self.index):
            return self.index.ids, sims
        keep = self.index.positions(list(self._live))
        return [self.index.ids[i] for i in keep], sims[keep]

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        if not self._live:
            return []
        return top_k(*self.scores(self.embedder.encode([question])[0]), k)
