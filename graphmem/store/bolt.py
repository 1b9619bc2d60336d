"""GraphStore over Bolt: Neo4j 5, ArcadeDB, Memgraph or any server that speaks Cypher over Bolt.

Layout: entities are ``(:Entity {name})`` nodes, each triple is one ``[:REL]`` relationship between
them carrying ``id, relation, valid_from, valid_until, sources, embedding``; episodes are
``(:Episode {id, step, text, title, triple_ids, embedding})`` nodes.

Only portable Cypher is used (no APOC, no ``db.index.*``, no vector indexes), values always travel
as parameters, and every public write is one transaction, so a failed call leaves nothing behind.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Callable, Iterable, TypeVar

import numpy as np
from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase
from neo4j.exceptions import (
    AuthError,
    ClientError,
    CypherSyntaxError,
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from ..model import Episode, Triple, ordered_unique
from .base import CypherError, GraphStore, StoreError
from .cypher_guard import reject_writes
from .transfer import write_graph_file
from .values import plain

log = logging.getLogger(__name__)
T = TypeVar("T")

# Rows per UNWIND statement: large enough to amortise round trips, small enough for any server's
# parameter limits. All chunks of one call still share one transaction.
CHUNK = 2000

# Schema wanted per feature, in each server's dialect (Neo4j 5 / ArcadeDB first, then Memgraph);
# the first statement a server accepts wins and a feature nobody accepts is simply done without.
_SCHEMA = {
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

# startNode/endNode rather than pattern variables, so any query that binds r can share it.
_TRIPLE_RETURN = (
    "RETURN startNode(r).name AS subject, r.relation AS relation, endNode(r).name AS object, "
    "r.id AS id, "
    "r.valid_from AS valid_from, r.valid_until AS valid_until, r.sources AS sources, "
    "r.embedding AS embedding"
)
_EPISODE_RETURN = (
    "RETURN e.id AS id, e.step AS step, e.text AS text, e.title AS title, "
    "e.triple_ids AS triple_ids, e.embedding AS embedding"
)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, (DriverError, Neo4jError)) and exc.is_retryable()


def _vector(values: Any) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.float32)


def _as_list(embedding: np.ndarray | None) -> list[float] | None:
    # float32 -> Python float is exact, and servers keep floats as doubles, so it comes back equal.
    return None if embedding is None else np.asarray(embedding, dtype=np.float32).ravel().tolist()


def _triple_row(t: Triple) -> dict:
    return {
        "s": t.subject, "o": t.object, "id": t.id, "relation": t.relation,
        "valid_from": int(t.valid_from),
        "valid_until": None if t.valid_until is None else int(t.valid_until),
        "sources": list(t.sources), "embedding": _as_list(t.embedding),
    }


def _triple(rec: dict) -> Triple:
    t = Triple(
        subject=rec["subject"], relation=rec["relation"], object=rec["object"],
        valid_from=int(rec["valid_from"]),
        valid_until=None if rec["valid_until"] is None else int(rec["valid_until"]),
        sources=list(rec["sources"] or []), id=rec["id"],
    )
    t.embedding = _vector(rec["embedding"])
    return t


def _episode(rec: dict) -> Episode:
    return Episode(
        id=rec["id"], step=int(rec["step"]), text=rec["text"] or "", title=rec["title"] or "",
        triple_ids=list(rec["triple_ids"] or []), embedding=_vector(rec["embedding"]),
    )


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

    def _translate(self, e: Exception, doing: str) -> StoreError:
        """One place that turns driver errors into messages that say what to check."""
        if isinstance(e, StoreError):
            return e
        if isinstance(e, AuthError):
            return StoreError(f"Authentication failed at {self._where} while {doing}: check the "
                              f"user and password (--user/--password or NEO4J_USER/NEO4J_PASSWORD).")
        if isinstance(e, CypherSyntaxError):
            return CypherError(f"Cypher syntax error: {e.message}")
        if isinstance(e, IncompleteCommit):
            return StoreError(f"The connection to {self._where} broke during the commit while "
                              f"{doing}, so the server may or may not have saved it: check that "
                              f"the server is running, then run the same operation again (graph "
                              f"writes replace by id, so repeating them is safe).")
        if isinstance(e, (ServiceUnavailable, SessionExpired)) or _retryable(e):
            return StoreError(f"The graph server at {self._where} did not answer while {doing} "
                              f"(gave up after {self._attempts} attempts): {e}. Check that the "
                              f"server is running and that the URI host and port are right "
                              f"(--store or NEO4J_URI). Nothing from this operation was saved.")
        if isinstance(e, ClientError) and "Database" in (e.code or "") and "NotFound" in (e.code or ""):
            return StoreError(f"Database not found at {self._where}: create it on the server or "
                              f"pass another --database / NEO4J_DATABASE.")
        if isinstance(e, Neo4jError):
            return CypherError(f"The server rejected a query while {doing}: {e.message} "
                               f"[{e.code}]")
        return StoreError(f"Bolt error at {self._where} while {doing}: {e}")

    def _retrying(self, fn: Callable[[], T], doing: str = "connecting") -> T:
        retrying = Retrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._max_retry_s),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        )
        try:
            return retrying(fn)
        except Exception as e:  # noqa: BLE001 - every failure leaves as a StoreError
            raise self._translate(e, doing) from e

    def _tx(self, work: Callable[[Any], T], *, write: bool, doing: str) -> T:
        """Run ``work(tx)`` in one explicit transaction, retried as a whole on transient errors.

        Every write here is idempotent (replace by id), so replaying a transaction whose commit
        outcome was unknown cannot duplicate anything.
        """
        mode = WRITE_ACCESS if write else READ_ACCESS
        self.transactions += 1

        def attempt() -> T:
            with self._driver.session(database=self.database, default_access_mode=mode) as session:
                with session.begin_transaction() as tx:
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
        for feature, statements in _SCHEMA.items():
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
        rows = list({t.id: _triple_row(t) for t in triples}.values())
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
        recs = self._read(f"MATCH (s)-[r:REL]->(o) WHERE r.id = $id {_TRIPLE_RETURN}",
                          "reading a triple", id=triple_id)
        return _triple(recs[0]) if recs else None

    def get_triples(self, triple_ids: Iterable[str]) -> list[Triple]:
        # IN, not UNWIND + equality: ArcadeDB answers the latter with a scan of every relationship
        # per id (1.1 s an id at 100k triples, measured) and the former from its id index.
        return self._by_ids(f"MATCH (s)-[r:REL]->(o) WHERE r.id IN $ids {_TRIPLE_RETURN}",
                            triple_ids, _triple, "reading triples")

    def triples(self, current_only: bool = True) -> list[Triple]:
        where = "WHERE r.valid_until IS NULL " if current_only else ""
        recs = self._read(
            f"MATCH (s:Entity)-[r:REL]->(o:Entity) {where}{_TRIPLE_RETURN} "
            "ORDER BY valid_from, id", "reading triples")
        return [_triple(r) for r in recs]

    def retired_triple_ids(self) -> list[str]:
        recs = self._read("MATCH ()-[r:REL]->() WHERE r.valid_until IS NOT NULL RETURN r.id AS id ORDER BY id",
                          "reading retired triple ids")
        return [r["id"] for r in recs]

    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        recs = self._read(
            "MATCH (s:Entity {name: $s})-[r:REL]->(o:Entity {name: $o}) "
            f"WHERE r.relation = $relation AND r.valid_until IS NULL {_TRIPLE_RETURN} "
            "ORDER BY valid_from DESC, id LIMIT 1",
            "finding a current triple", s=subject, o=obj, relation=relation)
        return _triple(recs[0]) if recs else None

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
            f"WITH DISTINCT r {_TRIPLE_RETURN}",
            "reading an entity's triples", names=names)
        unique = {r["id"]: r for r in recs}
        return sorted((_triple(r) for r in unique.values()), key=lambda t: (t.valid_from, t.id))

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
        rows = [
            {"id": e.id, "step": int(e.step), "text": e.text, "title": e.title,
             "triple_ids": list(e.triple_ids), "embedding": _as_list(e.embedding)}
            for e in episodes
        ]

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
        recs = self._read(f"MATCH (e:Episode {{id: $id}}) {_EPISODE_RETURN}", "reading an episode",
                          id=episode_id)
        return _episode(recs[0]) if recs else None

    def get_episodes(self, episode_ids: Iterable[str]) -> list[Episode]:
        return self._by_ids(f"UNWIND $ids AS id MATCH (e:Episode {{id: id}}) {_EPISODE_RETURN}",
                            episode_ids, _episode, "reading episodes")

    def episodes(self) -> list[Episode]:
        recs = self._read(f"MATCH (e:Episode) {_EPISODE_RETURN} ORDER BY step, id",
                          "reading episodes")
        return [_episode(r) for r in recs]

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
    def cypher(self, query: str, params: dict | None = None, write: bool = False) -> list[dict]:
        if not write:
            reject_writes(query)

        def work(tx) -> list[dict]:
            result = tx.run(query, params or {})
            return [{k: plain(v) for k, v in rec.items()} for rec in result]

        return self._tx(work, write=write, doing="running a Cypher query")

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
