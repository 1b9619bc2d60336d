"""How a graph is laid out on a Bolt server, and the conversion of triples and episodes to and from
the rows that carry them.

Entities are ``(:Entity {name})`` nodes, each triple is one ``[:REL]`` relationship between them
carrying ``id, relation, valid_from, valid_until, sources, embedding`` and, once a source's write
retired it, ``retired_by``; episodes are
``(:Episode {id, step, text, title, triple_ids, embedding, meta})`` nodes (``meta``: the episode's
string metadata as JSON text, since properties hold no maps; null when it has none); metadata are
``(:GraphmemMeta {key, value})`` nodes with the value as JSON text.

That is the ``default`` namespace's layout. Another namespace has labels of its own, the same ones
with a suffix (``Entity__a``, ``REL__a``... ``namespaces.label_suffix``), and constraints and
indexes of its own: ``Labels.relabel`` turns the store's queries (written for the default labels)
into the namespace's. A ``(:GraphmemNamespace {name})`` node records each namespace written to.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model import Episode, Triple, is_string_map
from .base import StoreError
from .namespaces import label_suffix

# Schema wanted per feature, in each server's dialect (Neo4j 5 / ArcadeDB first, then Memgraph);
# the first statement a server accepts wins and a feature nobody accepts is simply done without.
SCHEMA = {
    "entity_name_unique": (
        "CREATE CONSTRAINT graphmem_entity_name IF NOT EXISTS FOR (n:Entity) REQUIRE n.name IS UNIQUE",
        "CREATE CONSTRAINT ON (n:Entity) ASSERT n.name IS UNIQUE",
    ),
    "episode_id_unique": (
        "CREATE CONSTRAINT graphmem_episode_id IF NOT EXISTS FOR (n:Episode) REQUIRE n.id IS UNIQUE",
        "CREATE CONSTRAINT ON (n:Episode) ASSERT n.id IS UNIQUE",
    ),
    "rel_id_index": (
        "CREATE INDEX graphmem_rel_id IF NOT EXISTS FOR ()-[r:REL]-() ON (r.id)",
        "CREATE EDGE INDEX ON :REL(id)",
    ),
}

NAMESPACE_LABEL = "GraphmemNamespace"
_LABEL = re.compile(r":(Entity|REL|Episode|GraphmemMeta)\b")
_SCHEMA_NAME = re.compile(r"\bgraphmem_\w+")


@dataclass(frozen=True)
class Labels:
    """A namespace's labels: ``suffix`` after each default label ('' for the default namespace)."""

    namespace: str
    suffix: str

    @classmethod
    def of(cls, namespace: str) -> "Labels":
        return cls(namespace, label_suffix(namespace))

    def relabel(self, query: str) -> str:
        """``query``, written with the default labels, for this namespace (for the store's own
        queries only: a user's Cypher is never rewritten)."""
        return _LABEL.sub(lambda m: m.group(0) + self.suffix, query) if self.suffix else query

    def scoped(self, statement: str) -> str:
        """A schema statement (or an index's name) for this namespace: its labels, and its
        ``graphmem_`` names made its own."""
        return _SCHEMA_NAME.sub(lambda m: m.group(0) + self.suffix, self.relabel(statement))

    def schema(self) -> dict[str, tuple[str, ...]]:
        """``SCHEMA`` for this namespace's labels, under names of its own."""
        return {feature: tuple(map(self.scoped, statements)) for feature, statements in SCHEMA.items()}


# startNode/endNode rather than pattern variables, so any query that binds r can share it.
TRIPLE_RETURN = (
    "RETURN startNode(r).name AS subject, r.relation AS relation, endNode(r).name AS object, "
    "r.id AS id, "
    "r.valid_from AS valid_from, r.valid_until AS valid_until, r.sources AS sources, "
    "r.embedding AS embedding, r.retired_by AS retired_by"
)
EPISODE_RETURN = (
    "RETURN e.id AS id, e.step AS step, e.text AS text, e.title AS title, "
    "e.triple_ids AS triple_ids, e.embedding AS embedding, e.meta AS meta"
)
# The same without the vectors, for reads that need none.
TRIPLE_RETURN_BARE = TRIPLE_RETURN.replace("r.embedding AS", "null AS")
EPISODE_RETURN_BARE = EPISODE_RETURN.replace("e.embedding AS", "null AS")


def _vector(values: Any) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.float32)


def _as_list(embedding: np.ndarray | None) -> list[float] | None:
    # float32 -> Python float is exact, and servers keep floats as doubles, so it comes back equal.
    return None if embedding is None else np.asarray(embedding, dtype=np.float32).ravel().tolist()


def triple_row(t: Triple, vector: bool = True) -> dict:
    """The parameters that write ``t`` (``s``/``o``: its endpoints' names); ``vector``: False leaves
    the embedding out (None), for a store that writes it its own way (``falkor_params.with_vector``)."""
    return {
        "s": t.subject, "o": t.object, "id": t.id, "relation": t.relation,
        "valid_from": int(t.valid_from),
        "valid_until": None if t.valid_until is None else int(t.valid_until),
        "sources": list(t.sources), "embedding": _as_list(t.embedding) if vector else None,
        "retired_by": t.retired_by,
    }


def episode_row(e: Episode, vector: bool = True) -> dict:
    return {"id": e.id, "step": int(e.step), "text": e.text, "title": e.title,
            "triple_ids": list(e.triple_ids), "embedding": _as_list(e.embedding) if vector else None,
            "meta": meta_property(e.meta)}


def meta_property(meta: dict[str, str]) -> str | None:
    """An episode's ``meta`` as its node keeps it: JSON text (a server keeps no maps), none if empty."""
    return json.dumps(meta, ensure_ascii=False) if meta else None


def triple_of(rec: dict) -> Triple:
    """The triple in a record read with ``TRIPLE_RETURN``."""
    t = Triple(
        subject=rec["subject"], relation=rec["relation"], object=rec["object"],
        valid_from=int(rec["valid_from"]),
        valid_until=None if rec["valid_until"] is None else int(rec["valid_until"]),
        sources=list(rec["sources"] or []), id=rec["id"], retired_by=rec.get("retired_by"),
    )
    t.embedding = _vector(rec["embedding"])
    return t


def episode_of(rec: dict) -> Episode:
    """The episode in a record read with ``EPISODE_RETURN``."""
    return Episode(
        id=rec["id"], step=int(rec["step"]), text=rec["text"] or "", title=rec["title"] or "",
        triple_ids=list(rec["triple_ids"] or []), embedding=_vector(rec["embedding"]),
        meta=_episode_meta(rec["meta"], rec["id"]),
    )


def _episode_meta(text: str | None, episode_id: str) -> dict[str, str]:
    """An episode's ``meta`` property read back; StoreError when something else wrote it."""
    if not text:
        return {}
    try:
        meta = json.loads(text)
    except (TypeError, ValueError):
        meta = None
    if not is_string_map(meta):
        raise StoreError(f"episode {episode_id!r} has a 'meta' property that is not a JSON object of "
                         f"strings: {str(text)[:80]!r}")
    return meta
