"""The agent memory's associative recall (embedding seeds + breadth-first expansion) as a passage
retriever over a corpus graph, to compare with Personalized PageRank on the same graph."""
from __future__ import annotations

from dataclasses import asdict

from ..retrieve import RecallConfig
from .graph import CorpusGraph


class AssociativeRetriever:
    """Passages ranked by ``Memory.recall``'s episode score over the triples BFS retrieved, on the
    corpus graph's own memory (its store and vector indexes).

    Passages holding none of the retrieved triples are not returned, so a question can get fewer
    than k passages: this mode is measured as it is, not padded with another retriever.
    """

    name = "bfs"

    def __init__(self, graph: CorpusGraph, config: RecallConfig | None = None):
        self.graph = graph
        self.settings = asdict(config) if config is not None else {}

    def add(self, passages) -> None:
        raise NotImplementedError("add passages to the CorpusGraph; this view reads its store")

    def remove(self, passage_ids) -> None:
        raise NotImplementedError("remove passages from the CorpusGraph; this view reads its store")

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        found = self.graph.memory.recall(question, **{**self.settings, "episodes": k})
        return [(e.episode.id, e.score) for e in found.episodes]
