"""The embedded default store: triples, episodes and vectors in process, persisted to one file.

Entities are names; each triple is an edge between two of them with ``relation``, ``id``,
``valid_from``, ``valid_until`` and ``sources``. The store keeps per-entity adjacency lists ordered by
(valid_from, id), so a hub's newest facts are read without touching the rest; a networkx
MultiDiGraph is built only when Cypher asks for one.

Two file formats, chosen by the file name: ``*.json`` is one JSON document (vectors base64 inside,
parsed whole on open: fine for small graphs); any other name is the binary graph archive
(``graphmem.store.archive``), whose vectors are memory-mapped on open. Both are read whatever the
name. Saving is atomic: write a temp file in the same folder, fsync, rename, fsync the folder, so a
crash leaves either the old file or the new one, never a torn one. A writer holds an advisory lock
on the file from opening to ``close()`` (which saves pending changes), so a second process writing
the same file fails at once instead of overwriting the first one's work.
"""
from __future__ import annotations

import base64
import binascii
import bisect
import io
import json
import os
import re
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

import networkx as nx
import numpy as np

from ..atomicfile import atomic_write
from ..filelock import FileLock
from ..gcpause import gc_paused
from ..jsonfile import parse_json
from ..model import Episode, Triple
from .archive import (ArchiveError, ArchiveReader, TripleTable, buffer_writer, is_archive, newest, read_archive,
                      write_archive)
from .base import CypherError, GraphStore, StoreError
from .cypher_guard import write_clause

FORMAT = "graphmem-graph"
VERSION = 1


def _encode_matrix(vectors: list[np.ndarray]) -> str:
    return base64.b64encode(np.stack(vectors).astype("<f4").tobytes()).decode("ascii")


def _decode_matrix(data: str, dim: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(data, validate=True), dtype="<f4").reshape(-1, dim).astype(np.float32)


def is_json_path(path: str | os.PathLike) -> bool:
    """Graph files named ``*.json`` are written as JSON; any other name as a binary archive."""
    return Path(path).suffix.lower() == ".json"


class EmbeddedStore(GraphStore):
    """GraphStore in process; ``path`` None keeps it in memory only.

    ``create``: start empty when the file is missing (else StoreError). ``readonly``: take no lock and
    never save (a reader never waits for a writer: saves are atomic). ``replace``: start empty even if
    the file exists; the old graph stays on disk until the first save.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True,
                 readonly: bool = False, replace: bool = False):
        self.path = Path(path) if path is not None else None
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
        self._mapped: tuple[list[str], np.ndarray] | None = None  # archive vectors, while unchanged
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
            return self._mapped
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
        return self._episodes.get(episode_id)

    def episodes(self) -> list[Episode]:
        return sorted(self._episodes.values(), key=lambda e: (e.step, e.id))

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
            g = nx.MultiDiGraph()
            for name in self.entities():
                g.add_node(name, name=name, __labels__={"Entity"})
            for t in self.triples(current_only=False):
                g.add_edge(t.subject, t.object, key=t.id, relation=t.relation, id=t.id,
                           valid_from=t.valid_from, valid_until=t.valid_until, sources=list(t.sources),
                           __labels__={"REL"})
            self._nx = g
        return self._nx

    def cypher(self, query: str, params: dict | None = None, write: bool = False) -> list[dict]:
        if write or write_clause(query):
            raise CypherError(
                "the embedded store answers read-only Cypher (MATCH ... WHERE ... RETURN); "
                "to change the graph use the Python API or a Bolt store with --write")
        if params:
            raise CypherError("the embedded store does not take query parameters; inline the values")
        from grandcypher import GrandCypher

        try:
            result = GrandCypher(self.graph).run(_upper_aggregates(_double_quoted(query)))
        except Exception as exc:  # grand-cypher raises lark and plain errors alike
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CypherError(f"cannot run this Cypher on the embedded store: {first}") from exc
        columns = [str(c) for c in result]
        values = list(result.values())
        rows = len(values[0]) if values else 0
        return [{c: _plain(v[i]) for c, v in zip(columns, values)} for i in range(rows)]

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
        doc = {"format": FORMAT, "version": VERSION, "meta": self._meta,
               "triples": [t.to_dict() for t in self.triples(current_only=False)],
               "episodes": [e.to_dict() for e in self.episodes()], "vectors": {}}
        for kind, items in (("triples", self.triples(current_only=False)), ("episodes", self.episodes())):
            with_vec = [x for x in items if x.embedding is not None]
            if with_vec:
                doc["vectors"][kind] = {"dim": int(with_vec[0].embedding.shape[0]),
                                        "ids": [x.id for x in with_vec],
                                        "data": _encode_matrix([x.embedding for x in with_vec])}
        return doc

    def save(self, path: str | os.PathLike) -> None:
        """Atomic: the file at ``path`` is either the old graph or the complete new one.

        ``*.json`` gets the JSON format, any other name the binary archive."""
        path = Path(path)
        if is_json_path(path):
            def write(fh: BinaryIO) -> None:
                text = io.TextIOWrapper(fh, encoding="utf-8")
                json.dump(self.to_dict(), text, ensure_ascii=False, separators=(",", ":"))
                text.flush()
                text.detach()
        else:
            def write(fh: BinaryIO) -> None:
                try:
                    write_archive(fh, self._meta, self.triples(current_only=False), self.episodes(),
                                  self._attachment_writers())
                except ValueError as exc:
                    raise StoreError(f"cannot save {path}: {exc}") from None
        atomic_write(path, write)
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
        try:
            with open(path, "rb") as fh:
                head = fh.read(4)
        except OSError as exc:
            raise StoreError(f"cannot read graph file {path}: {exc.strerror}") from None
        if is_archive(head):
            self._load_archive(path)
            return
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read graph file {path}: {exc.strerror}") from None
        doc = parse_json(data, StoreError, f"graph file {path}")
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise StoreError(f"{path} is not a graphmem graph file (expected format {FORMAT!r})")
        version = doc.get("version")
        if type(version) is not int or version < 1:
            raise StoreError(f"{path}: unknown graph format version {version!r} (this graphmem reads "
                             f"version {VERSION})")
        if version > VERSION:
            raise StoreError(f"{path} was written by a newer graphmem (format version {version}; this "
                             f"one reads version {VERSION}): upgrade graphmem")
        try:
            self.load_dict(doc)
        except (ValueError, TypeError, KeyError) as exc:
            raise StoreError(f"{path} is not a valid graphmem graph file: {exc}") from None

    def _load_archive(self, path: Path) -> None:
        with gc_paused():
            try:
                contents, self._reader = read_archive(path)
            except ArchiveError as exc:
                raise StoreError(f"{path} is not a valid graphmem graph archive: {exc}") from None
            self._index_archive(contents)

    def _index_archive(self, contents) -> None:
        table = contents.table
        self._episodes = {e.id: e for e in contents.episodes}
        self._meta = dict(contents.meta)
        self._attachments = {name: (fp, None) for name, fp in contents.attachments.items()}
        if table.vectors is not None:
            self._mapped = (table.vector_ids, table.vectors)
        if table.in_time_order():
            self._table = table  # read from its columns until the first write
        else:
            self.add_triples(table.all())

    def _thaw(self) -> None:
        """Before the first write to an opened archive: index its triples as Python objects (the
        ones handed out already stay the same objects)."""
        table, self._table = self._table, None
        if table is None:
            return
        with gc_paused():
            self._index_objects(table)

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

    def load_dict(self, doc: dict) -> None:
        """Read a graph document; ValueError, TypeError or KeyError name what is malformed."""
        triples = [Triple.from_dict(d) for d in _list(doc, "triples")]
        episodes = [Episode.from_dict(d) for d in _list(doc, "episodes")]
        vectors = doc.get("vectors") or {}
        meta = doc.get("meta") or {}
        if not isinstance(vectors, dict) or not isinstance(meta, dict):
            raise ValueError("'vectors' and 'meta' must be objects")
        for kind, items in (("triples", triples), ("episodes", episodes)):
            if vectors.get(kind):
                _attach_vectors(kind, vectors[kind], items)
        self.add_triples(triples)
        for ep in episodes:
            self.add_episode(ep)
        self._meta = dict(meta)


def _fact(t: Triple) -> tuple[str, str, str]:
    return t.subject, t.relation, t.object


def _list(doc: dict, key: str) -> list:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key!r} must be a list")
    return value


def _attach_vectors(kind: str, block, items: list) -> None:
    """Set the embedding of each item from a vectors block, which must be whole and consistent."""
    if not isinstance(block, dict) or type(block.get("dim")) is not int or block["dim"] < 1 \
            or not isinstance(block.get("ids"), list) or not isinstance(block.get("data"), str):
        raise ValueError(f"vectors.{kind} needs a positive integer 'dim', a list 'ids' and base64 'data'")
    try:
        matrix = _decode_matrix(block["data"], block["dim"])
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"vectors.{kind}: bad vector data ({exc})") from None
    if len(matrix) != len(block["ids"]):
        raise ValueError(f"vectors.{kind}: {len(block['ids'])} ids but {len(matrix)} vectors")
    by_id = {x.id: x for x in items}
    for key, vec in zip(block["ids"], matrix):
        if isinstance(key, str) and key in by_id:
            by_id[key].embedding = vec


_SINGLE_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|(\"(?:[^\"\\]|\\.)*\")")


def _double_quoted(query: str) -> str:
    """grand-cypher only parses "double-quoted" strings; Cypher users write 'single' ones too."""
    def swap(m: re.Match) -> str:
        if m.group(2) is not None:
            return m.group(2)
        return '"' + m.group(1).replace("\\'", "'").replace('"', '\\"') + '"'

    return _SINGLE_QUOTED.sub(swap, query)


# Quoted text first (kept as it is), else an aggregate call in any case.
_AGGREGATE = re.compile(r"(\"(?:[^\"\\]|\\.)*\"|`[^`]*`)|\b(count|sum|avg|min|max)(\s*\()", re.IGNORECASE)


def _upper_aggregates(query: str) -> str:
    """grand-cypher knows COUNT(...) but not count(...); Cypher function names ignore case."""
    return _AGGREGATE.sub(lambda m: m.group(1) or m.group(2).upper() + m.group(3), query)


def _plain(value):
    """grand-cypher returns dicts/sets/tokens; make them JSON-friendly and deterministic."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if str(k) != "__labels__"}
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
