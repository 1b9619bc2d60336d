"""The reads that every Cypher server store shares (Bolt servers, FalkorDB): the queries are written
once, for the layout in ``bolt_layout``, and a subclass says how one reaches its server (``_read``)
and how it writes, since servers differ most there (transactions, vector types).

Only Cypher that both Neo4j-like servers and FalkorDB accept is used here: no shortestPath in
MATCH, no EXISTS subqueries, no map properties; values always travel as parameters.
"""
from __future__ import annotations

import json
import os
from abc import abstractmethod
from typing import Any, Callable, Iterable, Sequence, TypeVar

from ..model import Episode, Triple, ordered_unique
from .base import GraphStore
from .bolt_layout import (EPISODE_RETURN, EPISODE_RETURN_BARE, TRIPLE_RETURN, TRIPLE_RETURN_BARE, episode_of,
                          triple_of)
from .transfer import write_graph_file

T = TypeVar("T")


class CypherStore(GraphStore):
    """A GraphStore on a Cypher server: the reads, over ``_read``. ``triple_return`` and
    ``episode_return``: the clauses that end a read of triples (bound as ``r``) or episodes (``e``)
    with their vectors, for a server that keeps vectors elsewhere (FalkorDB) to replace."""

    triple_return = TRIPLE_RETURN
    episode_return = EPISODE_RETURN
    batches_writes = True  # every call is a round trip

    @abstractmethod
    def _read(self, query: str, doing: str, **params: Any) -> list[dict]:
        """The records of one read-only query (``doing``: what for, as errors say it)."""

    def _read_by_ids(self, query: str, ids: Iterable[str], convert: Callable[[dict], T], doing: str) -> list[T]:
        """Records for many ids (``$ids``) in one round trip, each once, in the order asked (unknown
        ones skipped)."""
        ids = ordered_unique(ids)
        if not ids:
            return []
        found = {r["id"]: convert(r) for r in self._read(query, doing, ids=ids)}
        return [found[i] for i in ids if i in found]

    # --- triples -------------------------------------------------------------------------------
    def get_triple(self, triple_id: str) -> Triple | None:
        # Unlabelled endpoints: with labels ArcadeDB scans nodes instead of using the id index.
        recs = self._read(f"MATCH (s)-[r:REL]->(o) WHERE r.id = $id {self.triple_return}",
                          "reading a triple", id=triple_id)
        return triple_of(recs[0]) if recs else None

    def get_triples(self, triple_ids: Iterable[str], vectors: bool = True) -> list[Triple]:
        # IN, not UNWIND + equality: ArcadeDB answers the latter with a scan of every relationship
        # per id (1.1 s an id at 100k triples, measured) and the former from its id index.
        returned = self.triple_return if vectors else TRIPLE_RETURN_BARE
        return self._read_by_ids(f"MATCH (s)-[r:REL]->(o) WHERE r.id IN $ids {returned}",
                                 triple_ids, triple_of, "reading triples")

    def triples(self, current_only: bool = True, vectors: bool = True) -> list[Triple]:
        where = "WHERE r.valid_until IS NULL " if current_only else ""
        returned = self.triple_return if vectors else TRIPLE_RETURN_BARE
        recs = self._read(
            f"MATCH (s:Entity)-[r:REL]->(o:Entity) {where}{returned} "
            "ORDER BY valid_from, id", "reading triples")
        return [triple_of(r) for r in recs]

    def retired_triple_ids(self) -> list[str]:
        recs = self._read("MATCH ()-[r:REL]->() WHERE r.valid_until IS NOT NULL RETURN r.id AS id ORDER BY id",
                          "reading retired triple ids")
        return [r["id"] for r in recs]

    def retired_by_source(self, source_id: str) -> list[Triple]:
        recs = self._read(f"MATCH (s)-[r:REL]->(o) WHERE r.retired_by = $id AND r.valid_until IS NOT NULL "
                          f"{self.triple_return} ORDER BY valid_from, id", "reading triples a source retired",
                          id=source_id)
        return [triple_of(rec) for rec in recs]

    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        recs = self._read(
            "MATCH (s:Entity {name: $s})-[r:REL]->(o:Entity {name: $o}) "
            f"WHERE r.relation = $relation AND r.valid_until IS NULL {self.triple_return} "
            "ORDER BY valid_from DESC, id LIMIT 1",
            "finding a current triple", s=subject, o=obj, relation=relation)
        return triple_of(recs[0]) if recs else None

    def find_current_many(self, facts: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], Triple]:
        keys = [{"s": s, "r": r, "o": o} for s, r, o in dict.fromkeys(facts)]
        if not keys:
            return {}
        recs = self._read(
            "UNWIND $keys AS k MATCH (s:Entity {name: k.s})-[r:REL]->(o:Entity {name: k.o}) "
            f"WHERE r.relation = k.r AND r.valid_until IS NULL {self.triple_return}",
            "finding current triples", keys=keys)
        best: dict[tuple[str, str, str], dict] = {}
        for rec in recs:  # per fact, as find_current orders: the newest, then the first id
            fact = (rec["subject"], rec["relation"], rec["object"])
            kept = best.get(fact)
            if kept is None or (-rec["valid_from"], rec["id"]) < (-kept["valid_from"], kept["id"]):
                best[fact] = rec
        return {fact: triple_of(rec) for fact, rec in best.items()}

    def triples_of_entity(self, entity: str, current_only: bool = True) -> list[Triple]:
        return self.triples_of_entities([entity], current_only)

    def triples_of_entities(self, entities: Iterable[str], current_only: bool = True) -> list[Triple]:
        """Triples touching any of ``entities`` in one round trip, ordered by (valid_from, id)."""
        where = "WHERE r.valid_until IS NULL " if current_only else ""
        names = ordered_unique(entities)
        # Anchor on the named node and walk both ways; DISTINCT returns a self-loop once. Labels on
        # the far end, or a second directed branch, make ArcadeDB scan instead of walk.
        recs = self._read(
            f"UNWIND $names AS name MATCH (n:Entity {{name: name}})-[r:REL]-() {where}"
            f"WITH DISTINCT r {self.triple_return}",
            "reading an entity's triples", names=names)
        unique = {r["id"]: r for r in recs}
        return sorted((triple_of(r) for r in unique.values()), key=lambda t: (t.valid_from, t.id))

    def triple_ids_of_entities(self, entities: Iterable[str], limit: int | None = None) -> dict[str, list[str]]:
        """Ids only (no vectors travel), for all names in one round trip; ranked and cut here."""
        names = ordered_unique(entities)
        if not names:
            return {}
        recs = self._read(
            "UNWIND $names AS name MATCH (n:Entity {name: name})-[r:REL]-() "
            "WHERE r.valid_until IS NULL RETURN DISTINCT name, r.id AS id, r.valid_from AS valid_from",
            "reading entities' triple ids", names=names)
        since: dict[str, dict[str, int]] = {n: {} for n in names}
        for r in recs:
            since[r["name"]][r["id"]] = r["valid_from"]
        out = {}
        for name, ids in since.items():
            ranked = sorted(ids, key=lambda i: (ids[i], i), reverse=True)
            out[name] = ranked if limit is None else ranked[:limit]
        return out

    def entities(self) -> list[str]:
        recs = self._read("MATCH (n:Entity)-[:REL]-() RETURN DISTINCT n.name AS name",
                          "listing entities")
        return sorted(r["name"] for r in recs)

    # --- episodes ------------------------------------------------------------------------------
    def add_episode(self, episode: Episode) -> None:
        self.add_episodes([episode])

    def get_episode(self, episode_id: str) -> Episode | None:
        recs = self._read(f"MATCH (e:Episode {{id: $id}}) {self.episode_return}", "reading an episode",
                          id=episode_id)
        return episode_of(recs[0]) if recs else None

    def get_episodes(self, episode_ids: Iterable[str], vectors: bool = True) -> list[Episode]:
        returned = self.episode_return if vectors else EPISODE_RETURN_BARE
        return self._read_by_ids(f"UNWIND $ids AS id MATCH (e:Episode {{id: id}}) {returned}",
                                 episode_ids, episode_of, "reading episodes")

    def episodes(self, vectors: bool = True) -> list[Episode]:
        returned = self.episode_return if vectors else EPISODE_RETURN_BARE
        recs = self._read(f"MATCH (e:Episode) {returned} ORDER BY step, id",
                          "reading episodes")
        return [episode_of(r) for r in recs]

    # --- metadata and lifecycle ----------------------------------------------------------------
    def meta(self) -> dict:
        recs = self._read("MATCH (m:GraphmemMeta) RETURN m.key AS key, m.value AS value",
                          "reading metadata")
        return {r["key"]: json.loads(r["value"]) for r in sorted(recs, key=lambda r: r["key"])}

    def counts(self) -> dict:
        rels = self._read(
            "MATCH ()-[r:REL]->() RETURN count(r) AS n, "
            "sum(CASE WHEN r.valid_until IS NULL THEN 1 ELSE 0 END) AS current", "counting")[0]
        entities = self._read("MATCH (n:Entity)-[:REL]-() RETURN count(DISTINCT n) AS n",
                              "counting")[0]["n"]
        episodes = self._read("MATCH (e:Episode) RETURN count(e) AS n", "counting")[0]["n"]
        return {"triples": int(rels["n"]), "current_triples": int(rels["current"] or 0),
                "entities": int(entities), "episodes": int(episodes)}

    def count_triples(self) -> int:
        # One count of a relationship type, which servers answer from their counts without a scan
        # (counts() reads every triple).
        return int(self._read("MATCH ()-[r:REL]->() RETURN count(r) AS n", "counting triples")[0]["n"])

    def flush(self) -> None:
        """Every call already committed its own write."""

    def save(self, path: str | os.PathLike) -> None:
        write_graph_file(self, path)
