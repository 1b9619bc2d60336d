"""A graph's vector indexes, opened from its store: one over its facts (triples) and one over its
episodes (observations, passages), kept in step with every write and saved with the graph.

How a graph's fact vectors are made (store meta key FACT_VECTORS; graphs without it: TEXT): TEXT
embeds each fact's own text; PASSAGE_TOKENS pools a passage's facts from the token embeddings of the
passage's one forward pass (where the fact's names are found in it, else TEXT).

On a store that searches its own vectors (FalkorDB; Neo4j 5.18+: ``GraphStore.supports_vector_search``)
both indexes are the server's (``ServerVectorIndex``): opening reads the metadata only, and no
vector is held here. Elsewhere (graph files, Bolt servers) every vector is loaded on open, and a
server's store then shows this process another one's writes only once it opens the graph again.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from .embedders.sentence_transformer import Embedder
from .errors import ConfigError
from .util.gcpause import gc_paused
from .model import Triple, vector_matrix
from .store.base import GraphStore, RowView
from .vectors.server_index import ServerVectorIndex
from .vectors.vector_index import VectorIndex

if TYPE_CHECKING:
    from .writer import ObserveResult

TRIPLE_ANN = "triple-ann"  # graph file attachments: the triple index's ANN, saved to open fast,
TRIPLE_ANN_IDS = "triple-ann-ids"  # and the triple id of each of its labels
EXACT_ONLY = 1 << 62  # an ann_threshold never reached: episodes are few, scanned exactly
FACT_VECTORS = "fact-vectors"
TEXT, PASSAGE_TOKENS = "text", "passage-tokens"


def embed_facts(embedder: Embedder, triples: Sequence[Triple]) -> None:
    """Give each triple the embedding of its text."""
    vecs = embedder.encode([t.text for t in triples])
    for t, v in zip(triples, vecs):
        t.embedding = v


class GraphIndexes:
    """``triples``: every fact's vector (a retired fact's row is deactivated, not searched);
    ``episodes``: the vectors of the episodes that have one.

    Opening embeds only what lacks vectors; a graph file hands over its memory-mapped vectors and
    its saved ANN index, so nothing is copied or rebuilt. ``fact_vectors``: the kind asked for a
    new graph; a graph keeps the kind it was written with (PASSAGE_TOKENS needs an embedder with
    ``encode_tokens``), which ``self.fact_vectors`` then holds."""

    triples: VectorIndex | ServerVectorIndex
    episodes: VectorIndex | ServerVectorIndex

    def __init__(self, store: GraphStore, embedder: Embedder, fact_vectors: str = TEXT):
        self.store = store
        self.embedder = embedder
        self._loaded_ids: list[str] | None = None
        self._check_embedder(store.meta().get("embedder"))
        if store.supports_vector_search:
            self.triples = ServerVectorIndex(store, "triples", embedder.dim)
            self.episodes = ServerVectorIndex(store, "episodes", embedder.dim)
            has_triples = self._embed_missing_on_server()
        else:
            self.triples = VectorIndex(embedder.dim)
            self.episodes = VectorIndex(embedder.dim, ann_threshold=EXACT_ONLY)
            with gc_paused():
                has_triples = self._load(self.triples, self.episodes)
        self.fact_vectors = self._fact_vector_kind(store.meta().get(FACT_VECTORS), has_triples, fact_vectors)

    def _check_embedder(self, stored: str | None) -> None:
        if stored not in (None, self.embedder.name):
            raise ConfigError(f"this graph was built with the embedder {stored!r}, not "
                              f"{self.embedder.name!r}: their vectors do not compare; open it with "
                              f"that embedder (--embedder {stored})")

    def _embed_missing_on_server(self) -> bool:
        """Give the triples written without a vector theirs (the server indexes it); whether the
        store holds triples. Nothing else is read."""
        missing = self.store.triples_without_vectors()
        if missing:
            embed_facts(self.embedder, missing)
            self.store.add_triples(missing)
            self.store.triples_without_vectors()  # none left: the store stops looking for them on open
        return self.store.count_triples() > 0

    def _load(self, fact_index: VectorIndex, episode_index: VectorIndex) -> bool:
        """Fill both indexes from the store; whether it holds triples."""
        try:
            ids, matrix = self.store.triple_vectors()
        except ValueError:  # vectors of several dimensions (another embedder's): re-embed below
            ids, matrix = [], None
        dim = self.embedder.dim
        total = self.store.count_triples()
        if total and (matrix is None or len(ids) != total or matrix.shape[1] != dim):
            triples = self.store.triples(current_only=False)
            missing = [t for t in triples if t.embedding is None or t.embedding.shape[0] != dim]
            embed_facts(self.embedder, missing)
            self.store.add_triples(missing)
            ids, matrix = [t.id for t in triples], vector_matrix(triples)
        if total:
            assert matrix is not None  # the store's, or made above
            fact_index.add(ids, matrix)
            self._loaded_ids = ids  # the store's row view, while it is this list, numbers rows as the index does
            fact_index.deactivate(self.store.retired_triple_ids())
            ann, labels = self.store.attachment(TRIPLE_ANN), self.store.attachment(TRIPLE_ANN_IDS)
            if ann is not None and labels is not None and ann[0] == labels[0]:
                fact_index.load_ann(ann[0], ann[1], labels[1])
        with_vec = [ep for ep in self.store.episodes() if ep.embedding is not None and ep.embedding.shape[0] == dim]
        if with_vec:
            episode_index.add([ep.id for ep in with_vec], vector_matrix(with_vec))
        return bool(total)

    def _fact_vector_kind(self, stored: str | None, has_triples: bool, asked: str) -> str:
        """The kind recorded in the graph (``stored``); else TEXT for a graph written before the
        record, else the one asked for (TEXT when the embedder cannot pool spans)."""
        kind = stored or (TEXT if has_triples else asked)
        if kind not in (TEXT, PASSAGE_TOKENS):
            raise ConfigError(f"unknown fact vector kind {kind!r}: choose {TEXT!r} or {PASSAGE_TOKENS!r}")
        if kind == PASSAGE_TOKENS and not hasattr(self.embedder, "encode_tokens"):
            if stored:
                raise ConfigError(f"this graph's fact vectors are pooled from passage tokens, which "
                                  f"the embedder {self.embedder.name!r} cannot do")
            return TEXT
        return kind

    # --- in step with writes -------------------------------------------------------------------
    def add_batch(self, results: Sequence[ObserveResult], matrix: np.ndarray | None = None) -> list[Triple]:
        """Index a batch's new facts at once (``matrix``: their vectors as rows, when they came as
        one), then take out of the index what the batch retired: a fact retired by a later source
        of the batch was indexed first, and one retired and then told again stays in. Returns the
        new facts."""
        added = [t for r in results for t in r.added]
        self._add_facts(added, matrix)
        if any(r.retired for r in results):
            gone: dict[str, bool] = {}  # triple id -> retired at the end of the batch
            for r in results:
                gone.update((t.id, False) for t in r.added)
                gone.update((i, True) for i in r.retired)
            self.triples.deactivate([i for i, retired in gone.items() if retired])
        return added

    def _add_facts(self, triples: list[Triple], matrix: np.ndarray | None = None) -> None:
        """``matrix``: the triples' vectors as rows, when they came as one matrix."""
        if not triples:
            return
        if matrix is None:
            todo = [t for t in triples if t.embedding is None]
            if todo:
                embed_facts(self.embedder, todo)
        if isinstance(self.triples, ServerVectorIndex):
            return  # the store writes the vectors with the triples
        if matrix is None:
            matrix = vector_matrix(triples)
        ids = [t.id for t in triples]
        self.triples.add(ids, matrix)
        # The index's rows become the triples' vectors (a graph file saves the same numbers), so
        # the batch's own matrix can go: a million facts' vectors are 1.5 GB.
        for t, vec in zip(triples, self.triples.views(ids)):
            t.embedding = vec

    def add_episode(self, episode_id: str, vector: np.ndarray) -> None:
        self.episodes.add([episode_id], vector[None, :])

    def forget(self, source_id: str, deleted: Sequence[str]) -> None:
        """A source and the triples only it supported are gone from the store."""
        self.triples.deactivate(deleted)
        self.episodes.deactivate([source_id])

    def restore(self, triples: list[Triple]) -> None:
        """Retired triples made current again: searched again, with the vectors they had."""
        self._add_facts(triples)

    # --- reading and saving --------------------------------------------------------------------
    def vectors_of(self, facts: list[Triple]) -> tuple[list[Triple], np.ndarray]:
        """Those of ``facts`` that have a vector, and their vectors as rows (the index's rows here;
        a server's facts carry theirs, read with them)."""
        if isinstance(self.triples, ServerVectorIndex):
            kept = [t for t in facts if t.embedding is not None]
            return kept, vector_matrix(kept) if kept else np.zeros((0, self.embedder.dim), dtype=np.float32)
        rows = self.triples.rows([t.id for t in facts])
        has = rows >= 0  # a fact without a vector cannot be scored
        return [t for t, keep in zip(facts, has.tolist()) if keep], self.triples.matrix[rows[has]]

    def row_view(self) -> RowView | None:
        """The store's row view while it numbers rows as the fact index does (recall then scores
        rows without looking up ids)."""
        view = self.store.row_view()
        return view if view is not None and view.ids is self._loaded_ids else None

    def keep_ann(self) -> None:
        """Hand a changed ANN index to a store that saves it with the graph (graph archives)."""
        if self.store.readonly or not self.store.keeps_attachments or isinstance(self.triples, ServerVectorIndex):
            return
        state = self.triples.ann_state(order=lambda: [t.id for t in self.store.triples(current_only=False)])
        if state is not None:
            from .store.archive import buffer_writer

            fingerprint, ann, labels = state
            self.store.set_attachment(TRIPLE_ANN, fingerprint, buffer_writer(ann))
            self.store.set_attachment(TRIPLE_ANN_IDS, fingerprint, buffer_writer(labels))
