"""``ServerVectorIndex``: a graph's fact or episode vectors searched where they are kept, on a graph
server with vector indexes (``GraphStore.supports_vector_search``), in place of a ``VectorIndex``
loaded into this process.

It answers the calls a memory makes of its indexes, each as a query to the server: ``search``
(nearest ids), ``active_scores`` (every id's similarity, for dense passage retrieval) and the
counts. Writing needs nothing of it: vectors travel with the triples and episodes the store writes,
and the server searches current facts only, so ``add`` and ``deactivate`` are no-ops. Nothing is
held here, so what any client wrote is searched on the next call.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from ..store.base import GraphStore


class ServerVectorIndex:
    """The vectors of ``kind`` ("triples" or "episodes") in ``store``, of ``dim`` dimensions."""

    def __init__(self, store: "GraphStore", kind: str, dim: int):
        self.store, self.kind, self.dim = store, kind, dim

    def search(self, query: np.ndarray, k: int, candidates: int = 0) -> list[tuple[str, float]]:
        """Top-k (id, score), best first, ties by id (``candidates``: the server's index decides)."""
        return self.search_many(np.asarray(query, dtype=np.float32)[None, :], k)[0]

    def search_many(self, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """``search`` for each row of ``queries``, in one round trip."""
        return self.store.vector_search(self.kind, queries, k)

    def active_scores(self, query: np.ndarray) -> tuple[list[str], np.ndarray]:
        return self.store.vector_scores(self.kind, query)

    @property
    def n_active(self) -> int:
        return self.store.vector_count(self.kind)

    def __len__(self) -> int:
        return self.n_active

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Nothing to do: the store wrote the vectors with their triples or episodes."""

    def deactivate(self, ids: Sequence[str]) -> None:
        """Nothing to do: the server searches current facts only, and a deleted one is gone."""
