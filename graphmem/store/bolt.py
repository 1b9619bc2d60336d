"""GraphStore over Bolt: Neo4j 5, ArcadeDB, Memgraph or any server that speaks Cypher over Bolt.

Only portable Cypher is used (no APOC, no ``db.index.*``, no vector indexes), values always travel
as parameters, and every public write is one transaction, so a failed call leaves nothing behind.
The graph's layout on the server is in ``bolt_layout``, what driver errors mean in ``bolt_errors``.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any, Callable, Iterable, TypeVar

from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase
from neo4j.exceptions import DriverError
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from ..model import Episode, Triple, ordered_unique
from .base import CypherError, GraphStore, StoreError
from .bolt_errors import retryable, translate
from .bolt_layout import EPISODE_RETURN, SCHEMA, TRIPLE_RETURN, episode_of, episode_row, triple_of, triple_row
from .cypher_guard import reject_writes
from .cypher_limits import DEFAULT_LIMITS, CypherLimits, run_bounded
from .transfer import write_graph_file
from .values import plain

log = logging.getLogger(__name__)
T = TypeVar("T")

# Rows per UNWIND statement: large enough to amortise round trips, small enough for any server's
# parameter limits. All chunks of one call still share one transaction.
CHUNK = 2000


def _chunks(rows: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


class BoltStore(GraphStore):
    """A GraphStore kept in a Bolt server. Arguments default to the NEO4J_* environment variables."""

    def __init__(
        self,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        *,
        attempts: int = 3,
        max_retry_s: float = 10.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.uri = uri or os.environ.get("NEO4J_URI") or "bolt://127.0.0.1:7687"
        self.user = user or os.environ.get("NEO4J_USER") or "neo4j"
        password = password if password is not None else os.environ.get("NEO4J_PASSWORD", "")
        self.database = database or os.environ.get("NEO4J_DATABASE") or None
        self._attempts = attempts
        self._max_retry_s = max_retry_s
        self.transactions = 0  # round trips to the server (retries not counted), for measuring
        try:
            self._driver = GraphDatabase.driver(
                self.uri, auth=(self.user, password),
                connection_timeout=connect_timeout_s,
                connection_acquisition_timeout=connect_timeout_s,
                max_transaction_retry_time=0,  # retries are ours (bounded, below)
            )
        except (ValueError, DriverError) as e:
            raise StoreError(f"Invalid Bolt URI {self.uri!r}: {e}. Use bolt://HOST:PORT or "
                             f"neo4j://HOST:PORT (NEO4J_URI).") from e
        try:
            self._retrying(self._driver.verify_connectivity)
            self.features = self._ensure_schema()
        except BaseException:
            self._driver.close()
            raise

    # --- plumbing ------------------------------------------------------------------------------
    @property
    def _where(self) -> str:
        db = f", database {self.database!r}" if self.database else ""
        return f"{self.uri} (user {self.user!r}{db})"

    def _retrying(self, fn: Callable[[], T], doing: str = "connecting") -> T:
        retrying = Retrying(
            retry=retry_if_exception(retryable),
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._max_retry_s),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        )
        try:
            return retrying(fn)
        except Exception as e:  # noqa: BLE001 - every failure leaves as a StoreError
            raise translate(e, self._where, self._attempts, doing) from e

    def _tx(self, work: Callable[[Any], T], *, write: bool, doing: str, timeout: float | None = None) -> T:
        """Run ``work(tx)`` in one explicit transaction, retried as a whole on transient errors;
        ``timeout``: seconds the server may give it (a server may ignore it).

        Every write here is idempotent (replace by id), so replaying a transaction whose commit
        outcome was unknown cannot duplicate anything.
        """
        mode = WRITE_ACCESS if write else READ_ACCESS
        self.transactions += 1

        def attempt() -> T:
            with self._driver.session(database=self.database, default_access_mode=mode) as session:
                with session.begin_transaction(timeout=timeout) as tx:
                    result = work(tx)
                    tx.commit()
                    return result

        return self._retrying(attempt, doing)

    def _read(self, query: str, doing: str, **params: Any) -> list[dict]:
        return self._tx(lambda tx: [r.data() for r in tx.run(query, params)], write=False,
                        doing=doing)

    def _by_ids(self, query: str, ids: Iterable[str], convert: Callable[[dict], T], doing: str) -> list[T]:
        """Records for many ids in one round trip, each once, in the order asked (unknown skipped)."""
        ids = ordered_unique(ids)
        if not ids:
            return []
        found = {r["id"]: convert(r) for r in self._read(query, doing, ids=ids)}
        return [found[i] for i in ids if i in found]

    def _ensure_schema(self) -> dict[str, bool]:
        """Create the indexes/constraints the server accepts; remember which features it has."""
        features = {}
        for feature, statements in SCHEMA.items():
            features[feature] = False
            for statement in statements:
                try:
                    self._tx(lambda tx: tx.run(statement).consume(), write=True,
                             doing="creating indexes")
                except CypherError as e:
                    log.info("server refused %r: %s", statement, e)
                    continue
                features[feature] = True
                break
        return features

    # --- triples -------------------------------------------------------------------------------
    def add_triples(self, triples: Iterable[Triple]) -> None:
        rows = list({t.id: triple_row(t) for t in triples}.values())
        if not rows:
            return
        names = sorted({r["s"] for r in rows} | {r["o"] for r in rows})

        def work(tx) -> None:
            # Measured on ArcadeDB: MERGE costs ~10x a lookup plus CREATE, and SET after CREATE
            # ~5x inline properties; Neo4j is indifferent. Hence find, create what is missing,
            # and create relationships with their properties inline.
            for chunk in _chunks(names):
                found = {rec["name"] for rec in tx.run(
                    "MATCH (n:Entity) WHERE n.name IN $names RETURN n.name AS name", names=chunk)}
                missing = [n for n in chunk if n not in found]
                if missing:
                    tx.run("UNWIND $names AS name CREATE (:Entity {name: name})",
                           names=missing).consume()
            for chunk in _chunks(rows):
                # Replace by id: drop any old copy (its endpoints may differ), then create.
                tx.run("MATCH ()-[r:REL]->() WHERE r.id IN $ids DELETE r",
                       ids=[r["id"] for r in chunk]).consume()
                tx.run(
                    "UNWIND $rows AS row "
                    "MATCH (s:Entity {name: row.s}), (o:Entity {name: row.o}) "
                    "CREATE (s)-[:REL {id: row.id, relation: row.relation, "
                    "valid_from: row.valid_from, valid_until: row.valid_until, "
                    "sources: row.sources, embedding: row.embedding}]->(o)",
                    rows=chunk,
                ).consume()

        self._tx(work, write=True, doing=f"writing {len(rows)} triples")

    def get_triple(self, triple_id: str) -> Triple | None:
        # Unlabelled endpoints: with labels ArcadeDB scans nodes instead of using the id index.
        recs = self._read(f"MATCH (s)-[r:REL]->(o) WHERE r.id = $id {TRIPLE_RETURN}",
                          "reading a triple", id=triple_id)
        return triple_of(recs[0]) if recs else None

    def get_triples(self, triple_ids: Iterable[str]) -> list[Triple]:
        # IN, not UNWIND + equality: ArcadeDB answers the latter with a scan of every relationship
        # per id (1.1 s an id at 100k triples, measured) and the former from its id index.
        return self._by_ids(f"MATCH (s)-[r:REL]->(o) WHERE r.id IN $ids {TRIPLE_RETURN}",
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

    def retire(self, triple_ids: Iterable[str], step: int) -> list[str]:
        ids = ordered_unique(triple_ids)
        if not ids:
            return []

        def work(tx) -> set[str]:
            result = tx.run(
                "MATCH ()-[r:REL]->() WHERE r.id IN $ids AND r.valid_until IS NULL "
                "SET r.valid_until = $step RETURN r.id AS id", ids=ids, step=int(step))
            return {rec["id"] for rec in result}

        retired = self._tx(work, write=True, doing=f"retiring {len(ids)} triples")
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

        def work(tx) -> None:
            for chunk in _chunks(rows):
                tx.run(
                    "UNWIND $rows AS row MERGE (e:Episode {id: row.id}) "
                    "SET e.step = row.step, e.text = row.text, e.title = row.title, "
                    "e.triple_ids = row.triple_ids, e.embedding = row.embedding",
                    rows=chunk,
                ).consume()

        if rows:
            self._tx(work, write=True, doing=f"writing {len(rows)} episodes")

    def get_episode(self, episode_id: str) -> Episode | None:
        recs = self._read(f"MATCH (e:Episode {{id: $id}}) {EPISODE_RETURN}", "reading an episode",
                          id=episode_id)
        return episode_of(recs[0]) if recs else None

    def get_episodes(self, episode_ids: Iterable[str]) -> list[Episode]:
        return self._by_ids(f"UNWIND $ids AS id MATCH (e:Episode {{id: id}}) {EPISODE_RETURN}",
                            episode_ids, episode_of, "reading episodes")

    def episodes(self) -> list[Episode]:
        recs = self._read(f"MATCH (e:Episode) {EPISODE_RETURN} ORDER BY step, id",
                          "reading episodes")
        return [episode_of(r) for r in recs]

    # --- provenance ----------------------------------------------------------------------------
    def delete_source(self, source_id: str) -> list[str]:
        def work(tx) -> list[str]:
            tx.run("MATCH (e:Episode {id: $id}) DETACH DELETE e", id=source_id).consume()
            touched = tx.run(
                "MATCH (s:Entity)-[r:REL]->(o:Entity) WHERE $id IN r.sources "
                "RETURN r.id AS id, r.sources AS sources, s.name AS s, o.name AS o",
                id=source_id).data()
            doomed = sorted(r["id"] for r in touched if set(r["sources"]) == {source_id})
            kept = [{"id": r["id"], "sources": [x for x in r["sources"] if x != source_id]}
                    for r in touched if r["id"] not in doomed]
            tx.run("MATCH ()-[r:REL]->() WHERE r.id IN $ids DELETE r", ids=doomed).consume()
            for row in kept:  # few rows; UNWIND + MATCH by id is a full scan per row on ArcadeDB
                tx.run("MATCH ()-[r:REL]->() WHERE r.id = $id SET r.sources = $sources",
                       **row).consume()
            tx.run("MATCH (e:Episode) WHERE any(x IN e.triple_ids WHERE x IN $ids) "
                   "SET e.triple_ids = [x IN e.triple_ids WHERE NOT x IN $ids]", ids=doomed).consume()
            # Entities exist only through triples: drop the ones left without any.
            names = sorted({r["s"] for r in touched} | {r["o"] for r in touched})
            tx.run("UNWIND $names AS name MATCH (n:Entity {name: name}) "
                   "OPTIONAL MATCH (n)-[r:REL]-() WITH n, count(r) AS degree WHERE degree = 0 "
                   "DELETE n", names=names).consume()
            return doomed

        return self._tx(work, write=True, doing=f"deleting source {source_id!r}")

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

    # --- queries and lifecycle -----------------------------------------------------------------
    def cypher(self, query: str, params: dict | None = None, write: bool = False,
               limits: CypherLimits | None = None) -> list[dict]:
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
        self._driver.close()

    def __repr__(self) -> str:
        return f"BoltStore({self._where})"
