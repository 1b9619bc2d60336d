"""GraphStore over Bolt: Neo4j 5, ArcadeDB, Memgraph or any server that speaks Cypher over Bolt.

Only portable Cypher is used (no APOC, no ``db.index.*``, no vector indexes), values always travel
as parameters, and every public write is one transaction, so a failed call leaves nothing behind.
The graph's layout on the server is in ``bolt_layout``, the write transactions in ``bolt_writes``,
the connection (transactions, retries) in ``bolt_connection``, what driver errors mean in
``bolt_errors``.

A store answers for one namespace (``bolt_layout.Labels``); the stores of a database's namespaces
share one connection. A user's Cypher cannot be kept to one namespace's labels (``MATCH (n)``
reads them all), so on a database that holds more than the default namespace ``cypher`` is refused.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Callable, Iterable, TypeVar

from ..model import Episode, Triple, ordered_unique
from . import bolt_writes
from .base import DEFAULT_NAMESPACE, CypherError, GraphStore
from .bolt_connection import BoltConnection
from .bolt_layout import (EPISODE_RETURN, NAMESPACE_LABEL, TRIPLE_RETURN, Labels, episode_of, episode_row,
                          meta_property, triple_of, triple_row)
from .cypher_guard import reject_writes
from .cypher_limits import DEFAULT_LIMITS, CypherLimits, run_bounded
from .transfer import write_graph_file
from .values import plain

T = TypeVar("T")


class BoltStore(GraphStore):
    """A GraphStore kept in a Bolt server. Arguments default to the NEO4J_* environment variables.
    ``namespace``: the namespace of the database's memory this store answers for. ``connection``:
    another store's connection to share (``open_namespace``); it stays that store's to close."""

    def __init__(
        self,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        attempts: int = 3,
        max_retry_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        connection: BoltConnection | None = None,
    ) -> None:
        self.labels = Labels.of(namespace)
        self.namespace = namespace
        self._owns_connection = connection is None
        self._bolt = connection or BoltConnection(uri, user, password, database, attempts=attempts,
                                                  max_retry_s=max_retry_s, connect_timeout_s=connect_timeout_s)
        self.uri, self.user, self.database = self._bolt.uri, self._bolt.user, self._bolt.database
        self._recorded = namespace == DEFAULT_NAMESPACE  # whether its GraphmemNamespace node is there
        try:
            self.features = self._bolt.apply_schema(self.labels.schema())
        except BaseException:
            self.close()
            raise

    @property
    def transactions(self) -> int:
        """Round trips to the server (retries not counted), for measuring; may be reset."""
        return self._bolt.transactions

    @transactions.setter
    def transactions(self, value: int) -> None:
        self._bolt.transactions = value

    @property
    def server_agent(self) -> str:
        """The server's name and version, as it tells them (e.g. for a benchmark's report)."""
        return self._bolt.driver.get_server_info().agent

    # Every query below goes through these three, to the connection, in the namespace's labels.
    def _tx(self, work: Callable[[Any], T], *, write: bool, doing: str, timeout: float | None = None) -> T:
        if self.labels.suffix:
            inner = work

            def work(tx: Any) -> T:
                if write and not self._recorded:
                    tx.run(f"MERGE (:{NAMESPACE_LABEL} {{name: $name}})", name=self.namespace).consume()
                return inner(_Relabelled(tx, self.labels))

        result = self._bolt.transaction(work, write=write, doing=doing, timeout=timeout)
        self._recorded = self._recorded or write
        return result

    def _read(self, query: str, doing: str, **params: Any) -> list[dict]:
        return self._bolt.read(self.labels.relabel(query), doing, **params)

    def _read_by_ids(self, query: str, ids: Iterable[str], convert: Callable[[dict], T], doing: str) -> list[T]:
        return self._bolt.read_by_ids(self.labels.relabel(query), ids, convert, doing)

    # --- triples -------------------------------------------------------------------------------
    def add_triples(self, triples: Iterable[Triple]) -> None:
        rows = list({t.id: triple_row(t) for t in triples}.values())
        if rows:
            self._tx(lambda tx: bolt_writes.write_triples(tx, rows), write=True,
                     doing=f"writing {len(rows)} triples")

    def get_triple(self, triple_id: str) -> Triple | None:
        # Unlabelled endpoints: with labels ArcadeDB scans nodes instead of using the id index.
        recs = self._read(f"MATCH (s)-[r:REL]->(o) WHERE r.id = $id {TRIPLE_RETURN}",
                          "reading a triple", id=triple_id)
        return triple_of(recs[0]) if recs else None

    def get_triples(self, triple_ids: Iterable[str]) -> list[Triple]:
        # IN, not UNWIND + equality: ArcadeDB answers the latter with a scan of every relationship
        # per id (1.1 s an id at 100k triples, measured) and the former from its id index.
        return self._read_by_ids(f"MATCH (s)-[r:REL]->(o) WHERE r.id IN $ids {TRIPLE_RETURN}",
                                 triple_ids, triple_of, "reading triples")

    def triples(self, current_only: bool = True) -> list[Triple]:
        where = "WHERE r.valid_until IS NULL " if current_only else ""
        recs = self._read(
            f"MATCH (s:Entity)-[r:REL]->(o:Entity) {where}{TRIPLE_RETURN} "
            "ORDER BY valid_from, id", "reading triples")
        return [triple_of(r) for r in recs]

    def retired_triple_ids(self) -> list[str]:
        recs = self._read("MATCH ()-[r:REL]->() WHERE r.valid_until IS NOT NULL RETURN r.id AS id ORDER BY id",
                          "reading retired triple ids")
        return [r["id"] for r in recs]

    def retired_by_source(self, source_id: str) -> list[Triple]:
        recs = self._read(f"MATCH (s)-[r:REL]->(o) WHERE r.retired_by = $id AND r.valid_until IS NOT NULL "
                          f"{TRIPLE_RETURN} ORDER BY valid_from, id", "reading triples a source retired",
                          id=source_id)
        return [triple_of(rec) for rec in recs]

    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        recs = self._read(
            "MATCH (s:Entity {name: $s})-[r:REL]->(o:Entity {name: $o}) "
            f"WHERE r.relation = $relation AND r.valid_until IS NULL {TRIPLE_RETURN} "
            "ORDER BY valid_from DESC, id LIMIT 1",
            "finding a current triple", s=subject, o=obj, relation=relation)
        return triple_of(recs[0]) if recs else None

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
            f"WITH DISTINCT r {TRIPLE_RETURN}",
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

    def retire(self, triple_ids: Iterable[str], step: int, by: str | None = None) -> list[str]:
        ids = ordered_unique(triple_ids)
        if not ids:
            return []
        retired = self._tx(lambda tx: bolt_writes.retire_triples(tx, ids, step, by), write=True,
                           doing=f"retiring {len(ids)} triples")
        return [i for i in ids if i in retired]

    def entities(self) -> list[str]:
        recs = self._read("MATCH (n:Entity)-[:REL]-() RETURN DISTINCT n.name AS name",
                          "listing entities")
        return sorted(r["name"] for r in recs)

    # --- episodes ------------------------------------------------------------------------------
    def add_episode(self, episode: Episode) -> None:
        self.add_episodes([episode])

    def add_episodes(self, episodes: Iterable[Episode]) -> None:
        """Insert or replace many episodes in one transaction."""
        rows = [episode_row(e) for e in episodes]
        if rows:
            self._tx(lambda tx: bolt_writes.write_episodes(tx, rows), write=True,
                     doing=f"writing {len(rows)} episodes")

    def set_episode_meta(self, episode_id: str, meta: dict[str, str]) -> bool:
        return self._tx(lambda tx: bolt_writes.set_episode_meta(tx, episode_id, meta_property(meta)), write=True,
                        doing="setting an episode's meta")

    def get_episode(self, episode_id: str) -> Episode | None:
        recs = self._read(f"MATCH (e:Episode {{id: $id}}) {EPISODE_RETURN}", "reading an episode",
                          id=episode_id)
        return episode_of(recs[0]) if recs else None

    def get_episodes(self, episode_ids: Iterable[str]) -> list[Episode]:
        return self._read_by_ids(f"UNWIND $ids AS id MATCH (e:Episode {{id: id}}) {EPISODE_RETURN}",
                                 episode_ids, episode_of, "reading episodes")

    def episodes(self) -> list[Episode]:
        recs = self._read(f"MATCH (e:Episode) {EPISODE_RETURN} ORDER BY step, id",
                          "reading episodes")
        return [episode_of(r) for r in recs]

    # --- provenance ----------------------------------------------------------------------------
    def delete_source(self, source_id: str) -> list[str]:
        return self._tx(lambda tx: bolt_writes.delete_source(tx, source_id), write=True,
                        doing=f"deleting source {source_id!r}")

    # --- metadata ------------------------------------------------------------------------------
    def meta(self) -> dict:
        recs = self._read("MATCH (m:GraphmemMeta) RETURN m.key AS key, m.value AS value",
                          "reading metadata")
        return {r["key"]: json.loads(r["value"]) for r in sorted(recs, key=lambda r: r["key"])}

    def set_meta(self, key: str, value: Any) -> None:
        # JSON text, because servers only store flat lists of one type as properties.
        text = json.dumps(value, sort_keys=True)
        self._tx(lambda tx: tx.run("MERGE (m:GraphmemMeta {key: $key}) SET m.value = $value",
                                   key=key, value=text).consume(),
                 write=True, doing=f"writing metadata {key!r}")

    # --- namespaces ----------------------------------------------------------------------------
    def open_namespace(self, namespace: str) -> "BoltStore":
        """The store of ``namespace`` in the same database, on this store's connection."""
        return BoltStore(namespace=namespace, connection=self._bolt)

    def namespaces(self) -> list[str]:
        recs = self._bolt.read(f"MATCH (n:{NAMESPACE_LABEL}) RETURN n.name AS name", "listing namespaces")
        return sorted({DEFAULT_NAMESPACE, *(r["name"] for r in recs)})

    def _check_cypher_scope(self) -> None:
        """Refuse Cypher that could read another namespace: any query outside the default one, and
        any query on a database that holds others."""
        if self.namespace != DEFAULT_NAMESPACE:
            raise CypherError(f"Cypher on a graph server reads the whole database, so it cannot be kept to "
                              f"namespace {self.namespace!r}: it is refused outside the default namespace "
                              f"(give the namespace a database of its own, --database, to query it)")
        if self._bolt.read(f"MATCH (n:{NAMESPACE_LABEL}) RETURN n.name AS name LIMIT 1", "checking namespaces"):
            raise CypherError("this database holds other namespaces than the default one, which Cypher on a "
                              "graph server could read: Cypher is refused here (give each namespace a "
                              "database of its own, --database, to query it)")

    # --- queries and lifecycle -----------------------------------------------------------------
    def cypher(self, query: str, params: dict | None = None, write: bool = False,
               limits: CypherLimits | None = None) -> list[dict]:
        self._check_cypher_scope()
        limits = limits or DEFAULT_LIMITS
        if not write:
            reject_writes(query)
        given_up = threading.Event()

        def work(tx) -> list[dict]:
            rows = []
            for rec in tx.run(query, params or {}):  # records stream in: stop at one past the limit
                rows.append({k: plain(v) for k, v in rec.items()})
                limits.check_rows(len(rows))
            if given_up.is_set():  # the caller was told it failed: roll back rather than commit
                raise limits.timed_out()
            return rows

        try:
            return run_bounded(lambda: self._tx(work, write=write, doing="running a Cypher query",
                                                timeout=limits.timeout or None), limits, stoppable=False)
        except CypherError:
            given_up.set()  # a worker still waiting on the server must not commit what failed here
            raise

    def counts(self) -> dict:
        rels = self._read(
            "MATCH ()-[r:REL]->() RETURN count(r) AS n, "
            "sum(CASE WHEN r.valid_until IS NULL THEN 1 ELSE 0 END) AS current", "counting")[0]
        entities = self._read("MATCH (n:Entity)-[:REL]-() RETURN count(DISTINCT n) AS n",
                              "counting")[0]["n"]
        episodes = self._read("MATCH (e:Episode) RETURN count(e) AS n", "counting")[0]["n"]
        return {"triples": int(rels["n"]), "current_triples": int(rels["current"] or 0),
                "entities": int(entities), "episodes": int(episodes)}

    def flush(self) -> None:
        """Every call already committed its own transaction."""

    def save(self, path: str | os.PathLike) -> None:
        write_graph_file(self, path)

    def close(self) -> None:
        if self._owns_connection:
            self._bolt.close()

    def __repr__(self) -> str:
        where = "" if self.namespace == DEFAULT_NAMESPACE else f", namespace {self.namespace!r}"
        return f"BoltStore({self._bolt.where}{where})"


class _Relabelled:
    """A transaction whose queries (the store's own, written with the default labels) run in a
    namespace's labels."""

    def __init__(self, tx: Any, labels: Labels) -> None:
        self._tx, self._labels = tx, labels

    def run(self, query: str, parameters: dict | None = None, **kwargs: Any) -> Any:
        return self._tx.run(self._labels.relabel(query), parameters, **kwargs)
