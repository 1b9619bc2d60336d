"""The GraphStore contract that every backend (embedded networkx, Bolt server) fulfils.

A store holds triples (edges between entity nodes, with validity and sources), episodes, and the
embeddings that came with them. It knows nothing about extraction or retrieval scoring: those live
in ``Memory``. Every backend runs the same contract suite (``tests/store_contract.py``).

Backends subclass ``GraphStore``, an abstract base class, so one that lacks part of the contract
fails when it is made rather than when that part is first called. The batch reads and the context
manager have default implementations here (one call per item), which a server backend overrides to
make one round trip where the defaults would make many; the attachment methods default to keeping
none. ``RowView`` stays a Protocol: the archive's ``TripleTable`` fits it without subclassing.

A store answers for one namespace of a memory (``namespaces``); ``open_namespace`` gives a store for
another. A graph file that processes share (``EmbeddedStore(shared=True)``) is written only inside
``writing()``, which takes the file's lock for the one write, and read again when ``stale()``.
"""
from __future__ import annotations

import contextlib
import os
from abc import ABC, abstractmethod
from dataclasses import replace
from typing import TYPE_CHECKING, BinaryIO, Callable, ContextManager, Iterable, Mapping, Protocol, Sequence

import numpy as np
from ..errors import GraphmemError
from ..model import Episode, Triple, with_vectors

if TYPE_CHECKING:
    from .cypher_limits import CypherLimits

DEFAULT_NAMESPACE = "default"  # the namespace of every graph written before there were others


class StoreError(GraphmemError, RuntimeError):
    """A store operation failed in a way the user must act on (message says what to do)."""


class CypherError(StoreError):
    """A Cypher query was rejected: syntax error, unsupported feature, or a write without opt-in."""


class RowView(Protocol):
    """Triples numbered 0..n-1 (``ids[row]``), e.g. the rows of a graph file."""

    ids: list[str]

    def newest_rows(self, entity: str, limit: int) -> np.ndarray:
        """Rows of the entity's newest ``limit`` current triples (any order)."""


class GraphStore(ABC):
    readonly: bool = False  # opened for reading: nothing is written back
    namespace: str = DEFAULT_NAMESPACE  # the namespace of the memory this store answers for

    # --- triples -------------------------------------------------------------------------------
    @abstractmethod
    def add_triples(self, triples: Iterable[Triple]) -> None:
        """Insert or replace triples by id (sources and validity are taken as given)."""

    @abstractmethod
    def get_triple(self, triple_id: str) -> Triple | None: ...

    def get_triples(self, triple_ids: Iterable[str], vectors: bool = True) -> list[Triple]:
        """The triples with these ids, each once, in the order asked; unknown ids are skipped.
        ``vectors``: False where the caller needs none; a server store then sends none (they are
        most of a triple's bytes), and the triples come without."""
        return [t for t in map(self.get_triple, dict.fromkeys(triple_ids)) if t is not None]

    @abstractmethod
    def triples(self, current_only: bool = True, vectors: bool = True) -> list[Triple]:
        """All triples, ordered by (valid_from, id). ``vectors``: as for ``get_triples``."""

    @abstractmethod
    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        """The current triple for this fact, if any."""

    def find_current_many(self, facts: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], Triple]:
        """``find_current`` of each (subject, relation, object), for those found; a server store
        answers in one round trip (a source's facts are looked up at once as it is written)."""
        found = {}
        for fact in dict.fromkeys(facts):
            current = self.find_current(*fact)
            if current is not None:
                found[fact] = current
        return found

    @abstractmethod
    def triples_of_entity(self, entity: str, current_only: bool = True) -> list[Triple]:
        """Triples with ``entity`` as subject or object, ordered by (valid_from, id)."""

    def triples_of_entities(self, entities: Iterable[str], current_only: bool = True) -> list[Triple]:
        """Triples touching any of ``entities``, each once, ordered by (valid_from, id)."""
        found = {t.id: t for e in dict.fromkeys(entities) for t in self.triples_of_entity(e, current_only)}
        return sorted(found.values(), key=lambda t: (t.valid_from, t.id))

    def triple_ids_of_entities(self, entities: Iterable[str], limit: int | None = None) -> dict[str, list[str]]:
        """Per entity (each once, in the order asked): the ids of its current triples, newest first
        (by valid_from, then id, descending), at most ``limit`` of them. Retrieval reads a hub's
        newest facts this way instead of its whole neighbourhood."""
        out = {}
        for e in dict.fromkeys(entities):
            ids = [t.id for t in reversed(self.triples_of_entity(e))]
            out[e] = ids if limit is None else ids[:limit]
        return out

    def row_view(self) -> "RowView | None":
        """The store's triples as numbered rows, while it holds them that way (a graph file opened
        and not yet written); None otherwise. Recall over a million triples uses it to skip looking
        up hundreds of ids a query."""
        return None

    def triple_vectors(self, triples: list[Triple] | None = None) -> tuple[list[str], np.ndarray | None]:
        """The ids of all triples that carry an embedding, and their vectors as one matrix (rows in
        the order of ``triples(current_only=False)``); None when no triple has one. ``triples``: that
        list, when the caller has read it already (a server is not asked twice)."""
        if triples is None:
            triples = self.triples(current_only=False)
        ids, vectors = with_vectors(triples)
        if not ids:
            return [], None
        return ids, np.stack(vectors)

    def retired_triple_ids(self) -> list[str]:
        """Ids of the triples no longer current (their vectors stay, unsearched)."""
        return [t.id for t in self.triples(current_only=False) if not t.current]

    @abstractmethod
    def retire(self, triple_ids: Iterable[str], step: int, by: str | None = None) -> list[str]:
        """Set ``valid_until=step`` (and ``retired_by=by``, the source whose write retired them) on
        current triples; returns the ids actually retired."""

    def retired_by_source(self, source_id: str) -> list[Triple]:
        """The retired triples whose ``retired_by`` is ``source_id``, ordered by (valid_from, id)."""
        return [t for t in self.triples(current_only=False) if not t.current and t.retired_by == source_id]

    @abstractmethod
    def entities(self) -> list[str]:
        """Names of entities that appear in at least one triple, sorted."""

    # --- episodes ------------------------------------------------------------------------------
    @abstractmethod
    def add_episode(self, episode: Episode) -> None: ...

    def add_episodes(self, episodes: Iterable[Episode]) -> None:
        """Insert or replace many episodes."""
        for episode in episodes:
            self.add_episode(episode)

    @abstractmethod
    def get_episode(self, episode_id: str) -> Episode | None: ...

    def get_episodes(self, episode_ids: Iterable[str], vectors: bool = True) -> list[Episode]:
        """The episodes with these ids, each once, in the order asked; unknown ids are skipped.
        ``vectors``: as for ``get_triples``."""
        return [e for e in map(self.get_episode, dict.fromkeys(episode_ids)) if e is not None]

    @abstractmethod
    def episodes(self, vectors: bool = True) -> list[Episode]:
        """All episodes ordered by (step, id). ``vectors``: as for ``get_triples``."""

    def set_episode_meta(self, episode_id: str, meta: dict[str, str]) -> bool:
        """Replace an episode's string metadata (a document's chunk moved in its document), the
        rest of it as it was; whether the episode is there. Here by writing the episode again; a
        server store sets the one property."""
        episode = self.get_episode(episode_id)
        if episode is None:
            return False
        self.add_episode(replace(episode, meta=dict(meta)))
        return True

    # --- batched writes (a capability: see batches_writes) --------------------------------------
    batches_writes: bool = False
    """Whether a writer should batch many sources' writes into one ``write_batch`` call (a server,
    where every call is a round trip: ``graphmem.write_buffer``). Where False, each source is
    written with the calls above, as it comes."""

    def write_batch(self, triples: Sequence[Triple], episodes: Sequence[Episode],
                    read_sources: Mapping[str, Sequence[str]] | None = None) -> None:
        """Insert or replace ``triples`` and ``episodes`` by id; a server store does both in one
        round trip (one transaction, or one query). ``read_sources``: given by a batch
        (``WriteBuffer``), the sources each triple it read had then, by id; a store that other
        clients write meanwhile may apply the batch's changes to what it holds now instead (the
        FalkorDB store does: docs/servers.md). A file store needs nothing: its writer holds the
        file's lock from the batch's reads to its write."""
        self.add_triples(triples)
        self.add_episodes(episodes)

    # --- provenance ----------------------------------------------------------------------------
    @abstractmethod
    def delete_source(self, source_id: str) -> list[str]:
        """Remove an episode/passage and everything only it supported; returns deleted triple ids."""

    # --- metadata (small JSON-able values: embedder name, step counters, config) ---------------
    @abstractmethod
    def meta(self) -> dict: ...

    @abstractmethod
    def set_meta(self, key: str, value) -> None: ...

    # --- attachments (blobs kept beside the graph, e.g. a saved ANN index) --------------------
    @property
    def keeps_attachments(self) -> bool:
        """Whether set_attachment keeps blobs (else a caller need not make them)."""
        return False

    def attachment(self, name: str) -> tuple[str, np.ndarray] | None:
        """(fingerprint, bytes) of a blob kept with the graph; None where there is none."""
        return None

    def set_attachment(  # noqa: B027 - an optional hook: the default keeps nothing
            self, name: str, fingerprint: str, write: Callable[[BinaryIO], None]) -> None:
        """Keep a blob with the graph (``write(fh)`` writes it); a store that cannot keep blobs
        drops it, and is then rebuilt from the graph on open."""

    # --- vector search on the server (a capability: see supports_vector_search) ----------------
    supports_vector_search: bool = False
    """Whether the store searches its own vectors (a server with vector indexes): a memory on it
    then keeps no vectors of its own (``graphmem.vectors.server_index``). Where False, a memory
    loads every vector into indexes of its own on open, and sees another process's writes only
    after opening the store again."""

    def vector_search(self, kind: str, vectors: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Per query vector, the ``k`` nearest (id, cosine similarity) of ``kind`` ("triples",
        current ones only, or "episodes"), best first, ties by id."""
        raise StoreError(f"{type(self).__name__} has no vector search of its own")

    def vector_scores(self, kind: str, vector: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Every searched id of ``kind`` and its cosine similarity to ``vector``."""
        raise StoreError(f"{type(self).__name__} has no vector search of its own")

    def vector_count(self, kind: str) -> int:
        """How many ids of ``kind`` the vector search covers."""
        raise StoreError(f"{type(self).__name__} has no vector search of its own")

    def neighbour_scores(self, entities: Sequence[str], vectors: np.ndarray, limit: int,
                         pool: Sequence[str], min_score: float = -1.0) -> dict[str, list[tuple[str, float]]]:
        """Per entity: its ``limit`` newest current facts, plus (past ``limit``) those in ``pool``,
        each with its best cosine similarity to ``vectors`` (recall's expansion, on the server);
        only those scoring at least ``min_score`` travel back."""
        raise StoreError(f"{type(self).__name__} has no vector search of its own")

    def reindex_vectors(self) -> dict[str, int]:
        """Rebuild the server's vector indexes where deletes leave dead entries in them (FalkorDB);
        kind -> the dead entries dropped. Elsewhere nothing to do: a file store's indexes are built
        by each memory that opens it, and Neo4j updates its vector indexes in the transaction that
        deletes (``neo4j_vectors``)."""
        return {}

    def bulk_load(self, wait: bool = False) -> ContextManager:
        """A context for writing many facts in a row, where a store has a faster way for them
        (FalkorDB: vectors sent as binary, its vector indexes made once at the end, filled by the
        server in the background; ``wait``: until they are). Elsewhere nothing changes."""
        return contextlib.nullcontext(self)

    def triples_without_vectors(self) -> list[Triple]:
        """The triples that carry no vector, retired ones included."""
        return [t for t in self.triples(current_only=False) if t.embedding is None]

    # --- namespaces ----------------------------------------------------------------------------
    def open_namespace(self, namespace: str) -> "GraphStore":
        """A store for ``namespace`` of the same memory (the same file or database, opened the same
        way), to be closed by the caller; a store that keeps one graph only refuses."""
        raise StoreError(f"{type(self).__name__} keeps one namespace ({self.namespace!r}), not {namespace!r}")

    def namespaces(self) -> list[str]:
        """The namespaces the memory holds, sorted (for a server that lists them when allowed)."""
        return [self.namespace]

    # --- sharing a graph with other processes --------------------------------------------------
    def writing(self, wait: float = 0) -> ContextManager[None]:
        """Around one write: a shared graph file's lock, taken for the write only (waiting up to
        ``wait`` seconds for another process's write); changes are saved inside it. A store whose
        every write is its own transaction, or that holds its file for good, needs nothing."""
        return contextlib.nullcontext()

    def stale(self) -> bool:
        """Whether another process changed the graph since this store read it (then ``reload``)."""
        return False

    def reload(self) -> None:  # noqa: B027 - an optional hook: a store that is never stale has nothing to do
        """Read the graph again as it is now, dropping what was not saved."""

    # --- queries and lifecycle -----------------------------------------------------------------
    @abstractmethod
    def cypher(self, query: str, params: dict | None = None, write: bool = False,
               limits: "CypherLimits | None" = None) -> list[dict]:
        """Run Cypher; read-only unless ``write``. Raises CypherError with a clear message, also
        for a query past ``limits`` (time, rows, memory; None: the defaults of ``CypherLimits``)."""

    def cypher_reader(self) -> "Callable[..., list[dict]]":
        """``read(query, params=None, limits=None)``: read-only Cypher over the graph as it is now,
        which may run while this store changes, so a caller can hold its lock only while asking for
        the reader and not through a long query. A server store answers each query in its own
        transaction, so its reader is its own ``cypher``."""
        return lambda query, params=None, limits=None: self.cypher(query, params, False, limits)

    @abstractmethod
    def counts(self) -> dict:
        """{"triples": n_all, "current_triples": n, "entities": n, "episodes": n}."""

    def count_triples(self) -> int:
        """How many triples there are, retired ones included (``counts()["triples"]``)."""
        return self.counts()["triples"]

    @abstractmethod
    def flush(self) -> None:
        """Persist pending state (atomic); a no-op where writes are already durable."""

    def discard_changes(self) -> bool:
        """Drop the changes not saved yet, back to the graph as last saved (after a write that failed
        half-way); whether anything was dropped. A server store commits each write: nothing to drop."""
        return False

    @abstractmethod
    def close(self) -> None:
        """Persist what is pending (as ``flush``) and release the store's resources."""

    @abstractmethod
    def save(self, path: str | os.PathLike) -> None:
        """Write a copy of the whole graph to a graph file at ``path`` (atomic); a server store
        does it with ``transfer.write_graph_file``."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
