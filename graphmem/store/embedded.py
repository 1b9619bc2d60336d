"""The embedded default store: triples, episodes and vectors in process, persisted to one file.

Entities are names; each triple is an edge between two of them with ``relation``, ``id``,
``valid_from``, ``valid_until`` and ``sources``. The store keeps per-entity adjacency lists ordered by
(valid_from, id), so a hub's newest facts are read without touching the rest; a networkx
MultiDiGraph is built only when Cypher asks for one (``embedded_cypher``).

The file is JSON or a binary archive, saved atomically (``graph_file``). An opened archive's triples
are answered from its columns (``triple_table``) until the first write. A writer holds an advisory
lock on the file from opening to ``close()`` (which saves pending changes), so a second process
writing the same file fails at once instead of overwriting the first one's work.
"""
from __future__ import annotations

import bisect
import io
import os
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

import networkx as nx
import numpy as np

from ..util.filelock import FileLock
from ..util.gcpause import gc_paused
from ..model import Episode, Triple
from .archive import ArchiveReader, InPlaceArray, buffer_writer
from .base import GraphStore, StoreError
from .cypher_limits import CypherLimits
from .embedded_cypher import networkx_graph, run_cypher
from .graph_file import holds_archive, is_json_path, open_archive, save_graph
from .json_graph import read_json_graph, to_document
from .triple_table import TripleTable, newest


class EmbeddedStore(GraphStore):
    """GraphStore in process; ``path`` None keeps it in memory only.

    ``create``: start empty when the file is missing (else StoreError). ``readonly``: take no lock and
    never save (a reader never waits for a writer: saves are atomic). ``replace``: start empty even if
    the file exists; the old graph stays on disk until the first save.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True,
                 readonly: bool = False, replace: bool = False):
        # A symlink names the file it points to: saves replace that file (not the link) under its lock.
        self.path = Path(path).resolve() if path is not None else None
        self.readonly = readonly
        self._triples: dict[str, Triple] = {}
        self._adj: dict[str, list[str]] = {}  # entity -> ids of its triples by (valid_from, id)
        self._live: dict[str, list[str]] = {}  # the same for current triples only
        self._current: dict[tuple[str, str, str], str] = {}  # fact -> id of its current triple
        # Facts usually arrive in time order. No list holds a triple newer than _front, and those
        # holding one at _front are in _at_front (by id(); None: unknown), so a fact at _front or
        # newer goes to the end of the other lists without reading their last triple.
        self._front = -(1 << 62)
        self._at_front: set[int] | None = set()
        self._episodes: dict[str, Episode] = {}
        self._meta: dict = {}
        self._sorted: list[Triple] | None = []  # all triples by (valid_from, id); None: stale
        self._nx: nx.MultiDiGraph | None = None  # built for Cypher, dropped on writes
        # An opened archive's vectors, read in place: its triples' (ids, matrix), while unchanged, and
        # its episodes'; each matrix is checked on its first use (archive.InPlaceArray).
        self._mapped: tuple[list[str], InPlaceArray] | None = None
        self._episode_vectors: InPlaceArray | None = None
        self._reader: ArchiveReader | None = None
        # An opened archive's triples, read from its columns until the first write (see _table_or_none).
        self._table: TripleTable | None = None
        self._attachments: dict[str, tuple[str, Callable[[BinaryIO], None] | None]] = {}
        self._dirty = False  # changes not saved yet: close() saves them
        self._lock = None if self.path is None or readonly else FileLock(self.path, "graph file")
        if self.path is not None and self.path.is_dir():
            raise StoreError(f"{self.path} is a folder: give a graph file")
        if self.path is not None and not self.path.exists() and not create:
            raise StoreError(f"no graph file at {self.path}: build one first (graphmem build ... --out FILE)")
        if self._lock is not None:
            self._lock.acquire()
        try:
            if self.path is not None and self.path.exists() and not replace:
                self._load(self.path)
        except BaseException:
            self._dirty = False  # a half-read graph must never be saved over the file
            self.close()
            raise
        self._dirty = replace

    # --- triples -------------------------------------------------------------------------------
    def add_triples(self, triples: Iterable[Triple]) -> None:
        self._thaw()
        triples = list(triples)
        if triples:
            self._dirty = True
            self._sorted = self._nx = self._mapped = None
        for t in triples:
            old = self._triples.get(t.id)
            if old is not None and self._linked_alike(old, t):
                self._triples[t.id] = t  # e.g. a fact told again by another source: no list moves
                continue
            if old is not None:
                self._unlink(old, self._adj)
                self._unlink(old, self._live)
                if self._current.get(_fact(old)) == old.id:
                    del self._current[_fact(old)]
            self._triples[t.id] = t
            if t.current:
                self._link(t, self._adj, self._live)
                self._current[_fact(t)] = t.id
            else:
                self._link(t, self._adj)

    def _linked_alike(self, old: Triple, new: Triple) -> bool:
        """Whether ``new`` would sit in exactly the lists that hold ``old``, which is current and
        linked as such (the usual re-add: only its sources changed). Unlinking searches an entity's
        whole list, and a hub's holds tens of thousands of ids."""
        return (new.current and new.valid_from == old.valid_from and new.subject == old.subject
                and new.object == old.object and self._current.get(_fact(new)) == old.id)

    def _order(self, triple_id: str) -> tuple[int, str]:
        t = self._triples[triple_id]
        return t.valid_from, t.id

    def _link(self, t: Triple, *adjs: dict[str, list[str]]) -> None:
        """Add ``t`` to its entities' lists in each of ``adjs``."""
        if t.valid_from > self._front:
            self._front, self._at_front = t.valid_from, set()
        at_front = self._at_front if t.valid_from == self._front else None
        names = (t.subject,) if t.subject == t.object else (t.subject, t.object)
        for adj in adjs:
            for name in names:
                ids = adj.get(name)
                if ids is None:
                    adj[name] = ids = [t.id]
                elif at_front is not None and id(ids) not in at_front:
                    ids.append(t.id)  # the usual case (time order), at a million triples a cache miss less
                else:
                    last = self._triples[ids[-1]]
                    if last.valid_from < t.valid_from or last.valid_from == t.valid_from and last.id <= t.id:
                        ids.append(t.id)
                    else:
                        bisect.insort(ids, t.id, key=self._order)
                if at_front is not None:
                    at_front.add(id(ids))

    @staticmethod
    def _unlink(t: Triple, adj: dict[str, list[str]]) -> None:
        """Drop ``t`` from the lists of its entities, where it is (a caller may have retired the
        object it passes back in place)."""
        for name in dict.fromkeys((t.subject, t.object)):
            ids = adj.get(name)
            if ids is not None and t.id in ids:
                ids.remove(t.id)
                if not ids:
                    del adj[name]

    def get_triple(self, triple_id: str) -> Triple | None:
        if self._table is not None:
            row = self._table.row_of.get(triple_id)
            return None if row is None else self._table.triple(row)
        return self._triples.get(triple_id)

    def triples(self, current_only: bool = True) -> list[Triple]:
        if self._table is not None:
            self._sorted = self._table.all()
        elif self._sorted is None:
            self._sorted = sorted(self._triples.values(), key=lambda t: (t.valid_from, t.id))
        return [t for t in self._sorted if t.current] if current_only else list(self._sorted)

    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        self._thaw()  # asked before writing: the fact index is built once for the writes to come
        tid = self._current.get((subject, relation, obj))
        return None if tid is None else self._triples[tid]

    def triples_of_entity(self, entity: str, current_only: bool = True) -> list[Triple]:
        if self._table is not None:
            return list(map(self._table.triple, self._table.entity_rows(entity, current_only).tolist()))
        adj = self._live if current_only else self._adj
        return [self._triples[i] for i in adj.get(entity, ())]

    def triple_ids_of_entities(self, entities: Iterable[str], limit: int | None = None) -> dict[str, list[str]]:
        out = {}
        table = self._table
        for name in dict.fromkeys(entities):
            ids = table.entity_ids(name) if table is not None else self._live.get(name, [])
            out[name] = newest(ids, limit)
        return out

    def retire(self, triple_ids: Iterable[str], step: int) -> list[str]:
        self._thaw()
        done = []
        for tid in triple_ids:
            t = self._triples.get(tid)
            if t is None or not t.current:
                continue
            t.valid_until = step
            self._dirty = True
            self._nx = None
            self._unlink(t, self._live)
            self._current.pop(_fact(t), None)
            done.append(tid)
        return done

    def entities(self) -> list[str]:
        return sorted(self._table.entity_names() if self._table is not None else self._adj)

    def row_view(self) -> TripleTable | None:
        return self._table

    def retired_triple_ids(self) -> list[str]:
        if self._table is not None:
            return self._table.retired_ids()
        return super().retired_triple_ids()

    # --- vectors -------------------------------------------------------------------------------
    def triple_vectors(self, triples: list[Triple] | None = None) -> tuple[list[str], np.ndarray | None]:
        if self._mapped is not None:  # as loaded: the memory-mapped matrix itself, no copy
            ids, matrix = self._mapped
            return ids, matrix()
        return super().triple_vectors(triples)

    def attachment(self, name: str) -> tuple[str, np.ndarray] | None:
        """(fingerprint, bytes) of a blob saved with the graph (e.g. an ANN index), if any."""
        entry = self._attachments.get(name)
        if entry is None:
            return None
        fingerprint, write = entry
        if write is None:  # still in the file
            return fingerprint, self._reader.blob(f"attachments/{name}")
        buf = io.BytesIO()
        write(buf)
        return fingerprint, np.frombuffer(buf.getbuffer(), dtype=np.uint8)

    @property
    def keeps_attachments(self) -> bool:
        return self.path is not None and not is_json_path(self.path)

    def set_attachment(self, name: str, fingerprint: str, write: Callable[[BinaryIO], None]) -> None:
        """Keep a blob with the graph (archives only; JSON files and memory-only stores drop it,
        and are not rewritten for it): ``write(fh)`` writes it."""
        if not self.keeps_attachments:
            return
        self._attachments[name] = (fingerprint, write)
        self._dirty = True

    # --- episodes ------------------------------------------------------------------------------
    def add_episode(self, episode: Episode) -> None:
        self._episodes[episode.id] = episode
        self._dirty = True

    def get_episode(self, episode_id: str) -> Episode | None:
        self._episode_vectors_verified()
        return self._episodes.get(episode_id)

    def episodes(self) -> list[Episode]:
        self._episode_vectors_verified()
        return sorted(self._episodes.values(), key=lambda e: (e.step, e.id))

    def _episode_vectors_verified(self) -> None:
        """Before an opened archive's episodes (and their vectors, read in place) are first handed
        out, to be used or saved: their entry is checked (see ``archive.ArchiveReader.verify``)."""
        if self._episode_vectors is not None:
            self._episode_vectors()
            self._episode_vectors = None

    # --- provenance ----------------------------------------------------------------------------
    def delete_source(self, source_id: str) -> list[str]:
        self._thaw()
        self._dirty = True
        self._nx = None
        deleted = []
        for t in list(self._triples.values()):
            if source_id not in t.sources:
                continue
            t.sources = [s for s in t.sources if s != source_id]
            if t.sources:
                continue
            del self._triples[t.id]
            self._unlink(t, self._adj)
            self._unlink(t, self._live)
            if self._current.get(_fact(t)) == t.id:
                del self._current[_fact(t)]
            deleted.append(t.id)
        if deleted:
            self._sorted = self._mapped = None
        self._episodes.pop(source_id, None)
        gone = set(deleted)
        for ep in self._episodes.values():
            if gone.intersection(ep.triple_ids):
                ep.triple_ids = [i for i in ep.triple_ids if i not in gone]
        return sorted(deleted)

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
        return len(self._table) if self._table is not None else len(self._triples)

    def counts(self) -> dict:
        table = self._table
        if table is not None:
            return {"triples": len(table), "current_triples": len(table.current_rows()),
                    "entities": len(table.entity_names()), "episodes": len(self._episodes)}
        return {"triples": len(self._triples), "current_triples": len(self._current),
                "entities": len(self._adj), "episodes": len(self._episodes)}

    # --- persistence ---------------------------------------------------------------------------
    def flush(self) -> None:
        if self.path is None:
            return
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only: open it for writing to save changes")
        self.save(self.path)
        self._dirty = False

    def close(self) -> None:
        """Save pending changes (file stores opened for writing) and let other writers in."""
        try:
            if self._dirty and self.path is not None and not self.readonly:
                self.flush()
        finally:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            if self._lock is not None:
                self._lock.release()

    def to_dict(self) -> dict:
        """The graph as the document a ``*.json`` graph file holds."""
        return to_document(self._meta, self.triples(current_only=False), self.episodes())

    def save(self, path: str | os.PathLike) -> None:
        """Atomic: the file at ``path`` is either the old graph or the complete new one.

        ``*.json`` gets the JSON format, any other name the binary archive."""
        path = Path(path)
        save_graph(path, self._meta, self.triples(current_only=False), self.episodes(),
                   self._attachment_writers())
        if path == self.path and not is_json_path(path):
            self._reopen_reader()

    def _attachment_writers(self) -> dict:
        out = {}
        for name, (fingerprint, write) in self._attachments.items():
            out[name] = (fingerprint, write or buffer_writer(self._reader.blob(f"attachments/{name}")))
        return out

    def _reopen_reader(self) -> None:
        """After saving over our own archive: attachments are read from the new file from now on."""
        if self._reader is not None:
            self._reader.close()
        self._reader = ArchiveReader(self.path)
        self._attachments = {name: (fp, None) for name, (fp, _) in self._attachments.items()}

    def _load(self, path: Path) -> None:
        if not holds_archive(path):
            graph = read_json_graph(path)
            self.add_triples(graph.triples)
            self.add_episodes(graph.episodes)
            self._meta = graph.meta
            return
        with gc_paused():
            contents, self._reader = open_archive(path)
            table = contents.table
            self._episodes = {e.id: e for e in contents.episodes}
            self._meta = dict(contents.meta)
            self._attachments = {name: (fp, None) for name, fp in contents.attachments.items()}
            self._episode_vectors = contents.episode_vectors
            if table.vectors is not None:
                self._mapped = (table.vector_ids, table.vectors)
            if table.in_time_order():
                self._table = table  # read from its columns until the first write
            else:
                self.add_triples(table.all())

    def _thaw(self) -> None:
        """Before the first write to an opened archive: index its triples as Python objects (the
        ones handed out already stay the same objects). The table is dropped only once that worked:
        a damaged file found now (its vectors are first read here) leaves the store as it was."""
        table = self._table
        if table is None:
            return
        with gc_paused():
            self._index_objects(table)
        self._table = None

    def _index_objects(self, table: TripleTable) -> None:
        triples = table.all()
        self._triples = dict(zip(table.ids, triples))
        live = [t for t in triples if t.valid_until is None]
        self._current = dict(zip(map(attrgetter("subject", "relation", "object"), live),
                                 map(attrgetter("id"), live)))
        self._adj = table.adjacency(current_only=False)
        self._live = table.adjacency(current_only=True) if len(live) < len(triples) else \
            {name: list(ids) for name, ids in self._adj.items()}
        self._front, self._at_front = max((t.valid_from for t in triples), default=self._front), None
        self._sorted = list(triples)


def _fact(t: Triple) -> tuple[str, str, str]:
    return t.subject, t.relation, t.object
