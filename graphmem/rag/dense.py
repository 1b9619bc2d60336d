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

    def __len__(self) -> int:
        return len(self.index)

    def add(self, passages: Sequence[PassageLike], vectors: np.ndarray | None = None) -> None:
        """Index passages; ``vectors`` lets a caller reuse embeddings it already computed."""
        if not passages:
            return
        if vectors is None:
            vectors = self.embedder.encode([passage_text(p) for p in passages])
        self.index.add([p.id for p in passages], vectors)

    def remove(self, passage_ids: Sequence[str]) -> None:
        self.index.remove(passage_ids)

    def scores(self, query_vector: np.ndarray) -> dict[str, float]:
        """Similarity of the query with every passage (the graph mixes these into its seeds)."""
        return dict(zip(self.index.ids, self.index.scores(query_vector).tolist()))

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        if not len(self.index):
            return []
        q = self.embedder.encode([question])[0]
        return top_k(self.index.ids, self.index.scores(q), k)
