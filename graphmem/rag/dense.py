"""Dense passage retrieval with the same embedder the graph uses (cosine over normalised vectors)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..embedders.sentence_transformer import Embedder, default_embedder
from ..vectors.server_index import ServerVectorIndex
from ..vectors.vector_index import VectorIndex
from .base import PassageLike, passage_text, top_k


class DenseRetriever:
    """Passages by cosine with the question. ``index``: an existing passage index to search (a
    graph's episode index, a server's on a server that searches its own vectors), so a graph and its
    dense baseline share one set of vectors."""

    name = "dense"

    def __init__(self, embedder: Embedder | None = None, index: VectorIndex | ServerVectorIndex | None = None):
        self.embedder = embedder or default_embedder()
        self.index: VectorIndex | ServerVectorIndex = index if index is not None else VectorIndex(self.embedder.dim)

    def __len__(self) -> int:
        return self.index.n_active

    def add(self, passages: Sequence[PassageLike], vectors: np.ndarray | None = None) -> None:
        """Index passages; ``vectors`` lets a caller reuse embeddings it already computed."""
        if not passages:
            return
        if vectors is None:
            vectors = self.embedder.encode([passage_text(p) for p in passages])
        self.index.add([p.id for p in passages], vectors)

    def remove(self, passage_ids: Sequence[str]) -> None:
        self.index.deactivate(passage_ids)

    def scores(self, query_vector: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Similarity of the query with every live passage (the graph mixes these into its seeds)."""
        return self.index.active_scores(query_vector)

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        if not self.index.n_active:
            return []
        return top_k(*self.scores(self.embedder.encode([question])[0]), k)
