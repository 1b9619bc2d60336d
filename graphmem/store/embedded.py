"""The embedded default store: a networkx MultiDiGraph in process, persisted to one JSON file.

Entities are nodes (property ``name``); each triple is an edge keyed by its id with properties
``relation``, ``id``, ``valid_from``, ``valid_until`` and ``sources``. Episodes and embeddings live
beside the graph. Saving is atomic: write a temp file in the same folder, fsync, rename, fsync the
folder, so a crash leaves either the old file or the new one, never a torn one.
"""
from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable

import networkx as nx
import numpy as np

from ..model import Episode, Triple, fact_key
from .base import CypherError, StoreError
from .cypher_guard import write_clause

FORMAT = "graphmem-graph"
VERSION = 1


def _encode_matrix(vectors: list[np.ndarray]) -> str:
    return base64.b64encode(np.stack(vectors).astype("<f4").tobytes()).decode("ascii")


def _decode_matrix(data: str, dim: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(data), dtype="<f4").reshape(-1, dim).astype(np.float32)


class EmbeddedStore:
    """GraphStore on networkx; ``path`` None keeps it in memory only."""

    def __init__(self, path: str | os.PathLike | None = None, *, create: bool = True):
        self.path = Path(path) if path is not None else None
        self.graph = nx.MultiDiGraph()
        self._triples: dict[str, Triple] = {}
        self._current: dict[str, str] = {}  # fact key -> id of its current triple
        self._episodes: dict[str, Episode] = {}
        self._meta: dict = {}
        if self.path is not None and self.path.exists():
            self._load(self.path)
        elif self.path is not None and not create:
            raise StoreError(f"no graph file at {self.path}: build one first (graphmem build ... --out FILE)")

    # --- triples -------------------------------------------------------------------------------
    def add_triples(self, triples: Iterable[Triple]) -> None:
        for t in triples:
            old = self._triples.get(t.id)
            if old is not None:
                self.graph.remove_edge(old.subject, old.object, key=old.id)
                if self._current.get(old.key) == old.id:
                    del self._current[old.key]
            self._triples[t.id] = t
            for name in (t.subject, t.object):
                if name not in self.graph:
                    self.graph.add_node(name, name=name, __labels__={"Entity"})
            self.graph.add_edge(t.subject, t.object, key=t.id, **self._edge_props(t))
            if t.current:
                self._current[t.key] = t.id
            self._drop_isolated(old)

    @staticmethod
    def _edge_props(t: Triple) -> dict:
        return {"relation": t.relation, "id": t.id, "valid_from": t.valid_from,
                "valid_until": t.valid_until, "sources": list(t.sources), "__labels__": {"REL"}}

    def get_triple(self, triple_id: str) -> Triple | None:
        return self._triples.get(triple_id)

    def triples(self, current_only: bool = True) -> list[Triple]:
        ts = (t for t in self._triples.values() if t.current or not current_only)
        return sorted(ts, key=lambda t: (t.valid_from, t.id))

    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        tid = self._current.get(fact_key(subject, relation, obj))
        return None if tid is None else self._triples[tid]

    def triples_of_entity(self, entity: str, current_only: bool = True) -> list[Triple]:
        if entity not in self.graph:
            return []
        ids = [k for _, _, k in self.graph.out_edges(entity, keys=True)]
        ids += [k for _, _, k in self.graph.in_edges(entity, keys=True)]
        ts = {i: self._triples[i] for i in ids}.values()
        return sorted((t for t in ts if t.current or not current_only), key=lambda t: (t.valid_from, t.id))

    def retire(self, triple_ids: Iterable[str], step: int) -> list[str]:
        done = []
        for tid in triple_ids:
            t = self._triples.get(tid)
            if t is None or not t.current:
                continue
            t.valid_until = step
            self.graph.edges[t.subject, t.object, tid]["valid_until"] = step
            self._current.pop(t.key, None)
            done.append(tid)
        return done

    def entities(self) -> list[str]:
        return sorted(self.graph.nodes)

    # --- episodes ------------------------------------------------------------------------------
    def add_episode(self, episode: Episode) -> None:
        self._episodes[episode.id] = episode

    def get_episode(self, episode_id: str) -> Episode | None:
        return self._episodes.get(episode_id)

    def episodes(self) -> list[Episode]:
        return sorted(self._episodes.values(), key=lambda e: (e.step, e.id))

    # --- provenance ----------------------------------------------------------------------------
    def delete_source(self, source_id: str) -> list[str]:
        deleted = []
        for t in list(self._triples.values()):
            if source_id not in t.sources:
                continue
            t.sources = [s for s in t.sources if s != source_id]
            if t.sources:
                self.graph.edges[t.subject, t.object, t.id]["sources"] = list(t.sources)
                continue
            del self._triples[t.id]
            self.graph.remove_edge(t.subject, t.object, key=t.id)
            if self._current.get(t.key) == t.id:
                del self._current[t.key]
            self._drop_isolated(t)
            deleted.append(t.id)
        self._episodes.pop(source_id, None)
        gone = set(deleted)
        for ep in self._episodes.values():
            if gone.intersection(ep.triple_ids):
                ep.triple_ids = [i for i in ep.triple_ids if i not in gone]
        return sorted(deleted)

    def _drop_isolated(self, t: Triple | None) -> None:
        if t is None:
            return
        for name in (t.subject, t.object):
            if name in self.graph and self.graph.degree(name) == 0:
                self.graph.remove_node(name)

    # --- metadata ------------------------------------------------------------------------------
    def meta(self) -> dict:
        return dict(self._meta)

    def set_meta(self, key: str, value) -> None:
        self._meta[key] = value

    # --- queries -------------------------------------------------------------------------------
    def cypher(self, query: str, params: dict | None = None, write: bool = False) -> list[dict]:
        if write or write_clause(query):
            raise CypherError(
                "the embedded store answers read-only Cypher (MATCH ... WHERE ... RETURN); "
                "to change the graph use the Python API or a Bolt store with --write")
        if params:
            raise CypherError("the embedded store does not take query parameters; inline the values")
        from grandcypher import GrandCypher

        try:
            result = GrandCypher(self.graph).run(_double_quoted(query))
        except Exception as exc:  # grand-cypher raises lark and plain errors alike
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CypherError(f"cannot run this Cypher on the embedded store: {first}") from exc
        columns = [str(c) for c in result]
        values = list(result.values())
        rows = len(values[0]) if values else 0
        return [{c: _plain(v[i]) for c, v in zip(columns, values)} for i in range(rows)]

    def counts(self) -> dict:
        return {"triples": len(self._triples), "current_triples": len(self._current),
                "entities": self.graph.number_of_nodes(), "episodes": len(self._episodes)}

    # --- persistence ---------------------------------------------------------------------------
    def flush(self) -> None:
        if self.path is not None:
            self.save(self.path)

    def close(self) -> None:
        pass

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
        """Atomic: the file at ``path`` is either the old graph or the complete new one."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_dict(), fh, ensure_ascii=False, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, _file_mode(path))  # mkstemp makes 0600; keep what a plain write would give
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _load(self, path: Path) -> None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read graph file {path}: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise StoreError(f"{path} is not a graphmem graph file (expected format {FORMAT!r})")
        if doc.get("version", 0) > VERSION:
            raise StoreError(f"{path} was written by a newer graphmem (format version {doc['version']})")
        self.load_dict(doc)

    def load_dict(self, doc: dict) -> None:
        triples = [Triple.from_dict(d) for d in doc.get("triples", [])]
        episodes = [Episode.from_dict(d) for d in doc.get("episodes", [])]
        for kind, items in (("triples", triples), ("episodes", episodes)):
            block = doc.get("vectors", {}).get(kind)
            if block:
                by_id = {x.id: x for x in items}
                for key, vec in zip(block["ids"], _decode_matrix(block["data"], block["dim"])):
                    if key in by_id:
                        by_id[key].embedding = vec
        self.add_triples(triples)
        for ep in episodes:
            self.add_episode(ep)
        self._meta = dict(doc.get("meta", {}))


_SINGLE_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|(\"(?:[^\"\\]|\\.)*\")")


def _double_quoted(query: str) -> str:
    """grand-cypher only parses "double-quoted" strings; Cypher users write 'single' ones too."""
    def swap(m: re.Match) -> str:
        if m.group(2) is not None:
            return m.group(2)
        return '"' + m.group(1).replace("\\'", "'").replace('"', '\\"') + '"'

    return _SINGLE_QUOTED.sub(swap, query)


def _file_mode(path: Path) -> int:
    """The existing file's mode, else 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


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
