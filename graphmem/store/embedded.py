"""The embedded default store: triples, episodes and vectors in process, persisted to one file.

Entities are names; each triple is an edge between two of them with ``relation``, ``id``,
``valid_from``, ``valid_until`` and ``sources``. Per-entity lists ordered by (valid_from, id) let a
hub's newest facts be read without touching the rest (``triple_index``); a networkx MultiDiGraph is
built only when Cypher asks for one (``embedded_cypher``).

The file is JSON or a binary archive, saved atomically (``graph_file``). An opened archive's triples
are answered from its columns until the first write (``embedded_triples``). A writer holds an advisory
lock on the file from opening to ``close()`` (which saves pending changes), so a second process
writing the same file fails at once instead of overwriting the first one's work; after ``close()``
it saves nothing more. Blobs saved beside the graph are kept by ``Attachments``.

A store opened ``shared`` (servers that several processes run on one memory) holds no lock while
it waits: each write happens inside ``writing()``, which takes the file's lock for that write only,
and a save is refused unless the store holds it and has read the file as it is now (``stale``
compares the file's identity, size and times with those it read; ``reload`` reads it again). Every
save replaces the file atomically, so a reader never sees half of one.

A namespace other than the default one is a graph file of its own beside the memory's file
(``namespaces.namespace_file``).
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

import networkx as nx
import numpy as np

from ..util.filelock import FileLock
from ..util.gcpause import gc_paused
from ..model import Episode, Triple
from .attachments import Attachments
from .base import DEFAULT_NAMESPACE, GraphStore, StoreError
from .cypher_limits import CypherLimits
from .embedded_cypher import networkx_graph, run_cypher
from .embedded_episodes import EmbeddedEpisodes
from .embedded_triples import EmbeddedTriples
from .graph_file import holds_archive, is_json_path, open_archive, save_graph
from .json_graph import read_json_graph, to_document
from .namespaces import checked_namespace, file_namespaces, namespace_file
from .triple_table import TripleTable, newest


# How long opening for writing waits for the file's lock: a server's write holds it a moment, a
# writer that holds it for good (a build) makes the open fail after this wait, naming its pid.
OPEN_WAIT_S = 2.0


class EmbeddedStore(GraphStore):
    """GraphStore in process; ``path`` None keeps it in memory only.

    ``create``: start empty when the file is missing (else StoreError). ``readonly``: take no lock and
    never save (a reader never waits for a writer: saves are atomic). ``replace``: start empty even if
    the file exists; the old graph stays on disk until the first save. ``namespace``: the namespace
    of the memory ``path`` to open (its own file beside ``path``). ``shared``: hold the file's lock
    only inside ``writing()`` (see the module notes).
    """

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True,
                 readonly: bool = False, replace: bool = False, namespace: str = DEFAULT_NAMESPACE,
                 shared: bool = False):
        self.namespace = checked_namespace(namespace)
        # A symlink names the file it points to: saves replace that file (not the link) under its lock.
        self.root = _resolved(Path(path)) if path is not None else None
        self.path = namespace_file(self.root, namespace) if self.root is not None else None
        self.readonly = readonly
        self.shared = shared and not readonly and self.path is not None
        self._start_empty()
        self._dirty = False  # changes not saved yet: close() saves them
        self._replacing = replace  # the file on disk is an old graph until the first save
        self._closed = False
        self._writing = False  # a shared store inside writing(): it holds the lock
        self._seen: tuple | None = None  # the file as last read or saved (``stale``)
        self._lock = None if self.path is None or readonly else FileLock(self.path, "graph file")
        if self.path is not None and self.path.is_dir():
            raise StoreError(f"{self.path} is a folder: give a graph file")
        if self.path is not None and not self.path.exists() and not create:
            if self.path != self.root:
                raise StoreError(f"no namespace {namespace!r} in {self.root} (no file {self.path})")
            raise StoreError(f"no graph file at {self.path}: build one first (graphmem build ... --out FILE)")
        if self._lock is not None and not self.shared:
            self._lock.acquire(wait=OPEN_WAIT_S)
        try:
            self._seen = self._identity()
            if self.path is not None and self.path.exists() and not replace:
                self._load(self.path)
        except BaseException:
            self._dirty = False  # a half-read graph must never be saved over the file
            self.close()
            raise
        self._dirty = replace

    def _start_empty(self) -> None:
        self._triples = EmbeddedTriples()
        self._episodes = EmbeddedEpisodes()
        self._meta: dict = {}
        self._nx: nx.MultiDiGraph | None = None  # built for Cypher, dropped on writes
        # An opened archive's triples' vectors, read in place: (ids, matrix), while unchanged; the
        # matrix is checked on its first use (archive.InPlaceArray).
        self._mapped: tuple[list[str], Callable[[], np.ndarray]] | None = None
        self._attachments = Attachments()

    # --- triples -------------------------------------------------------------------------------
    def add_triples(self, triples: Iterable[Triple]) -> None:
        triples = list(triples)
        self._triples.add(triples)  # first: a damaged file found as it thaws leaves the store as it was
        if triples:
            self._dirty = True
            self._nx = self._mapped = None

    def get_triple(self, triple_id: str) -> Triple | None:
        return self._triples.get(triple_id)

    def triples(self, current_only: bool = True, vectors: bool = True) -> list[Triple]:
        # ``vectors`` saves nothing here: the triples are in memory, vectors and all.
        ordered = self._triples.ordered()
        return [t for t in ordered if t.current] if current_only else list(ordered)

    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        return self._triples.find_current(subject, relation, obj)

    def triples_of_entity(self, entity: str, current_only: bool = True) -> list[Triple]:
        return self._triples.of_entity(entity, current_only)

    def triple_ids_of_entities(self, entities: Iterable[str], limit: int | None = None) -> dict[str, list[str]]:
        return {name: newest(self._triples.current_ids(name), limit) for name in dict.fromkeys(entities)}

    def retire(self, triple_ids: Iterable[str], step: int, by: str | None = None) -> list[str]:
        done = self._triples.retire(triple_ids, step, by)
        if done:
            self._dirty = True
            self._nx = None
        return done

    def entities(self) -> list[str]:
        return sorted(self._triples.entity_names())

    def row_view(self) -> TripleTable | None:
        return self._triples.table

    def retired_triple_ids(self) -> list[str]:
        return self._triples.retired_ids()

    # --- vectors -------------------------------------------------------------------------------
    def triple_vectors(self, triples: list[Triple] | None = None) -> tuple[list[str], np.ndarray | None]:
        if self._mapped is not None:  # as loaded: the memory-mapped matrix itself, no copy
            ids, matrix = self._mapped
            return ids, matrix()
        return super().triple_vectors(triples)

    def attachment(self, name: str) -> tuple[str, np.ndarray] | None:
        """(fingerprint, bytes) of a blob saved with the graph (e.g. an ANN index), if any."""
        return self._attachments.get(name)

    @property
    def keeps_attachments(self) -> bool:
        return self.path is not None and not is_json_path(self.path)

    def set_attachment(self, name: str, fingerprint: str, write: Callable[[BinaryIO], None]) -> None:
        """Keep a blob with the graph (archives only; JSON files and memory-only stores drop it,
        and are not rewritten for it): ``write(fh)`` writes it."""
        if not self.keeps_attachments:
            return
        self._attachments.put(name, fingerprint, write)
        self._dirty = True

    # --- episodes ------------------------------------------------------------------------------
    def add_episode(self, episode: Episode) -> None:
        self._episodes.add(episode)
        self._dirty = True

    def get_episode(self, episode_id: str) -> Episode | None:
        return self._episodes.get(episode_id)

    def episodes(self, vectors: bool = True) -> list[Episode]:
        return self._episodes.ordered()

    # --- provenance ----------------------------------------------------------------------------
    def delete_source(self, source_id: str) -> list[str]:
        deleted = self._triples.delete_source(source_id)
        self._dirty = True
        self._nx = None
        if deleted:
            self._mapped = None
        self._episodes.delete_source(source_id, deleted)
        return deleted

    # --- metadata ------------------------------------------------------------------------------
    def meta(self) -> dict:
        return dict(self._meta)

    def set_meta(self, key: str, value) -> None:
        if self._meta.get(key, self) != value:
            self._meta[key] = value
            self._dirty = True

    # --- queries -------------------------------------------------------------------------------
    @property
    def graph(self) -> nx.MultiDiGraph:
        """The graph as a networkx MultiDiGraph (built on demand, for Cypher)."""
        if self._nx is None:
            self._nx = networkx_graph(self.entities(), self.triples(current_only=False))
        return self._nx

    def cypher(self, query: str, params: dict | None = None, write: bool = False,
               limits: CypherLimits | None = None) -> list[dict]:
        return run_cypher(query, params, write, lambda: self.graph, limits)

    def cypher_reader(self) -> Callable[..., list[dict]]:
        # Writes replace the networkx graph rather than change it, so the one built now stays as it is.
        graph = self.graph
        return lambda query, params=None, limits=None: run_cypher(query, params, False, lambda: graph, limits)

    def count_triples(self) -> int:
        return len(self._triples)

    def counts(self) -> dict:
        triples = self._triples
        return {"triples": len(triples), "current_triples": triples.count_current(),
                "entities": len(triples.entity_names()), "episodes": len(self._episodes)}

    # --- namespaces ----------------------------------------------------------------------------
    def open_namespace(self, namespace: str) -> "EmbeddedStore":
        """The namespace's own graph file beside this memory's, opened as this store was (created
        on its first save); in memory only, a new empty store."""
        return EmbeddedStore(self.root, namespace=namespace, readonly=self.readonly, shared=self.shared)

    def namespaces(self) -> list[str]:
        return file_namespaces(self.root) if self.root is not None else [self.namespace]

    # --- sharing the file with other processes -------------------------------------------------
    @contextlib.contextmanager
    def writing(self, wait: float = 0):
        if not self.shared or self._writing:
            yield
            return
        if self._closed:
            raise StoreError(f"{self.path} was closed: open it again to write to it")
        assert self._lock is not None  # a shared store has a file, opened for writing
        self._lock.acquire(wait=wait)
        self._writing = True
        try:
            yield
        finally:
            self._writing = False
            self._lock.release()

    def stale(self) -> bool:
        """Whether the file is no longer the one read or saved last (a store that holds the file's
        lock for good, or keeps no file, is never stale)."""
        return (self.shared or self.readonly) and self.path is not None and self._identity() != self._seen

    def reload(self) -> None:
        if self.path is None:
            return
        self._attachments.close()
        self._start_empty()
        self._seen = self._identity()  # before reading: a file replaced meanwhile shows as stale
        if self.path.exists() and not self._replacing:
            self._load(self.path)
        self._dirty = self._replacing  # replacing the old graph is still to be saved

    def _identity(self) -> tuple | None:
        """What tells one version of the file from the next: every save is a new file (inode),
        with its own size and times."""
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns

    # --- persistence ---------------------------------------------------------------------------
    def flush(self) -> None:
        if self.path is None:
            return
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only: open it for writing to save changes")
        if self._closed:  # its lock is let go: another process may have written the file since
            raise StoreError(f"{self.path} was closed: open it again to save changes")
        if self.shared and not self._writing:
            raise StoreError(f"{self.path} is shared with other processes: save it inside writing(), "
                             f"which holds its lock")
        if self.shared and self.stale():  # saving would overwrite another process's write
            raise StoreError(f"{self.path} was written by another process since it was read: reload "
                             f"it and write again")
        self.save(self.path)
        self._seen = self._identity()
        self._dirty = False
        self._replacing = False

    def discard_changes(self) -> bool:
        """Drop what was changed since the last save and read the file again, so that a write that
        failed half-way is neither served nor saved by the next one. False (nothing done) when
        nothing changed, or when there is no file to read the saved graph from."""
        if not self._dirty or self.path is None or self.readonly or self._closed:
            return False
        self.reload()
        return True

    def close(self) -> None:
        """Save pending changes (file stores opened for writing and holding their lock) and let
        other writers in; closing again does nothing. A shared store saves only inside
        ``writing()``: what is pending at close is dropped."""
        if self._closed:
            return
        try:
            if self._dirty and self.path is not None and not self.readonly and not self.shared:
                self.flush()
        finally:
            self._closed = True
            self._attachments.close()
            if self._lock is not None and not self.shared:
                self._lock.release()

    def to_dict(self) -> dict:
        """The graph as the document a ``*.json`` graph file holds."""
        return to_document(self._meta, self.triples(current_only=False), self.episodes())

    def save(self, path: str | os.PathLike) -> None:
        """Atomic: the file at ``path`` is either the old graph or the complete new one.

        ``*.json`` gets the JSON format, any other name the binary archive."""
        path = Path(path)
        save_graph(path, self._meta, self.triples(current_only=False), self.episodes(),
                   self._attachments.writers())
        if path == self.path and not is_json_path(path):
            self._attachments.reopen(self.path)  # its blobs are read from the new file from now on

    def _load(self, path: Path) -> None:
        if not holds_archive(path):
            graph = read_json_graph(path)
            self.add_triples(graph.triples)
            self.add_episodes(graph.episodes)
            self._meta = graph.meta
            return
        with gc_paused():
            contents, reader = open_archive(path)
            self._attachments.open(reader, contents.attachments)
            table = contents.table
            self._episodes.load(contents.episodes, contents.episode_vectors)
            self._meta = dict(contents.meta)
            if table.vectors is not None:
                self._mapped = (table.vector_ids, table.vectors)
            if table.in_time_order():
                self._triples.table = table  # read from its columns until the first write
            else:
                self.add_triples(table.all())


def _resolved(path: Path) -> Path:
    """``path`` with its links followed: a symlink names the file it points to, whose lock and
    saves are the ones that count. A loop of links is refused."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # Python < 3.13 reports a loop as RuntimeError
        raise StoreError(f"cannot follow the links of {path}: {exc}; give the graph file's own path") from None
