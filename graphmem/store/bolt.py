"""GraphStore over Bolt: Neo4j 5, ArcadeDB, Memgraph or any server that speaks Cypher over Bolt.

Only portable Cypher is used (no APOC), values always travel as parameters, and every public write
is one transaction, so a failed call leaves nothing behind. Where the server has Neo4j's vector
indexes (5.18+, detected on open: ``neo4j_vectors``) the store searches its vectors there
(``supports_vector_search``), as the FalkorDB store does; elsewhere (ArcadeDB, Memgraph, older
Neo4j) a memory loads them into indexes of its own.
The reads are ``CypherStore``'s (shared with the FalkorDB store); the graph's layout on the server
is in ``bolt_layout``, the write transactions in ``bolt_writes``,
the connection (transactions, retries) in ``bolt_connection``, what driver errors mean in
``bolt_errors``.

A store answers for one namespace (``bolt_layout.Labels``); the stores of a database's namespaces
share one connection. A user's Cypher cannot be kept to one namespace's labels (``MATCH (n)``
reads them all), so on a database that holds more than the default namespace ``cypher`` is refused.
"""
from __future__ import annotations

import json
import threading
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

from ..model import Episode, Triple, ordered_unique
from . import bolt_writes, neo4j_vectors
from .base import DEFAULT_NAMESPACE, CypherError, StoreError
from .bolt_connection import BoltConnection
from .bolt_layout import NAMESPACE_LABEL, TRIPLE_RETURN_BARE, Labels, episode_row, meta_property, triple_of, triple_row
from .cypher_guard import reject_writes
from .cypher_limits import DEFAULT_LIMITS, CypherLimits, run_bounded
from .cypher_store import CypherStore
from .server_vectors import ServerVectorSearch, VectorKind
from .values import plain

T = TypeVar("T")


class BoltStore(ServerVectorSearch, CypherStore):
    """A GraphStore kept in a Bolt server. Arguments default to the NEO4J_* environment variables.
    ``namespace``: the namespace of the database's memory this store answers for. ``connection``:
    another store's connection to share (``open_namespace``); it stays that store's to close.
    ``vector_search``: False to have a memory load every vector into its own indexes even where
    the server has vector indexes (to compare the two)."""

    vector_dialect = neo4j_vectors.NEO4J_VECTORS
    fact_vector = neo4j_vectors.FACT_VECTOR

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
        vector_search: bool = True,
    ) -> None:
        self.labels = Labels.of(namespace)
        self.namespace = namespace
        self._owns_connection = connection is None
        self._bolt = connection or BoltConnection(uri, user, password, database, attempts=attempts,
                                                  max_retry_s=max_retry_s, connect_timeout_s=connect_timeout_s)
        self.uri, self.user, self.database = self._bolt.uri, self._bolt.user, self._bolt.database
        self._recorded = namespace == DEFAULT_NAMESPACE  # whether its GraphmemNamespace node is there
        self._vector_kinds = neo4j_vectors.vector_kinds(self.labels)
        self._indexed: set[str] = set()  # kinds whose vector index is known to be on the server
        try:
            self.features = self._bolt.apply_schema(self.labels.schema())
            self.supports_vector_search = vector_search and neo4j_vectors.has_vector_indexes(
                lambda query: self._bolt.read(query, "listing the server's procedures"))
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

    # Every query goes through these two, to the connection, in the namespace's labels.
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

    # --- triples -------------------------------------------------------------------------------
    def add_triples(self, triples: Iterable[Triple]) -> None:
        rows = list({t.id: triple_row(t) for t in triples}.values())
        if rows:
            self._index_vectors("triples", rows)
            self._tx(lambda tx: bolt_writes.write_triples(tx, rows), write=True,
                     doing=f"writing {len(rows)} triples")

    def write_batch(self, triples: Sequence[Triple], episodes: Sequence[Episode],
                    read_sources: Mapping[str, Sequence[str]] | None = None) -> None:
        """Triples and episodes in one transaction, written as the batch decided (``read_sources``
        unused: another client's write since the batch's reads can be lost, docs/servers.md)."""
        rows = list({t.id: triple_row(t) for t in triples}.values())
        episode_rows = [episode_row(e) for e in episodes]
        self._index_vectors("triples", rows)
        self._index_vectors("episodes", episode_rows)

        def work(tx: Any) -> None:
            if rows:
                bolt_writes.write_triples(tx, rows)
            if episode_rows:
                bolt_writes.write_episodes(tx, episode_rows)

        if rows or episode_rows:
            self._tx(work, write=True, doing=f"writing {len(rows)} triples and {len(episode_rows)} episodes")

    def retire(self, triple_ids: Iterable[str], step: int, by: str | None = None) -> list[str]:
        ids = ordered_unique(triple_ids)
        if not ids:
            return []
        retired = self._tx(lambda tx: bolt_writes.retire_triples(tx, ids, step, by), write=True,
                           doing=f"retiring {len(ids)} triples")
        return [i for i in ids if i in retired]

    # --- episodes ------------------------------------------------------------------------------
    def add_episodes(self, episodes: Iterable[Episode]) -> None:
        """Insert or replace many episodes in one transaction."""
        rows = [episode_row(e) for e in episodes]
        if rows:
            self._index_vectors("episodes", rows)
            self._tx(lambda tx: bolt_writes.write_episodes(tx, rows), write=True,
                     doing=f"writing {len(rows)} episodes")

    def set_episode_meta(self, episode_id: str, meta: dict[str, str]) -> bool:
        return self._tx(lambda tx: bolt_writes.set_episode_meta(tx, episode_id, meta_property(meta)), write=True,
                        doing="setting an episode's meta")

    # --- provenance ----------------------------------------------------------------------------
    def delete_source(self, source_id: str) -> list[str]:
        return self._tx(lambda tx: bolt_writes.delete_source(tx, source_id), write=True,
                        doing=f"deleting source {source_id!r}")

    # --- metadata ------------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        # JSON text, because servers only store flat lists of one type as properties.
        text = json.dumps(value, sort_keys=True)
        self._tx(lambda tx: tx.run("MERGE (m:GraphmemMeta {key: $key}) SET m.value = $value",
                                   key=key, value=text).consume(),
                 write=True, doing=f"writing metadata {key!r}")

    # --- vector search on the server (Neo4j 5.18+) ---------------------------------------------
    def _index_vectors(self, kind: str, rows: list[dict]) -> None:
        """Make the vector index of ``kind`` before its first vector is written, with that
        vector's dimension, and wait until the server has it (a schema change is a transaction of
        its own on Neo4j)."""
        if not self.supports_vector_search or kind in self._indexed:
            return
        first = next((r["embedding"] for r in rows if r["embedding"] is not None), None)
        if first is None or self._has_vector_index(kind):
            return
        name = neo4j_vectors.index_name(kind, self.labels)
        ddl = neo4j_vectors.index_ddl(kind, len(first), self.labels)
        self._bolt.transaction(lambda tx: tx.run(ddl).consume(), write=True, doing="creating a vector index")
        self._bolt.transaction(lambda tx: tx.run("CALL db.awaitIndex($name, 300)", name=name).consume(),
                               write=False, doing="waiting for a vector index")
        self._indexed.add(kind)

    def _has_vector_index(self, kind: str) -> bool:
        """Whether ``kind`` has its vector index on the server (asked until one is there: another
        client may make it)."""
        if kind not in self._indexed and self.supports_vector_search:
            names = {r["name"] for r in self._bolt.read(neo4j_vectors.LIST_INDEXES, "listing vector indexes")}
            self._indexed.update(k for k in neo4j_vectors.INDEX_NAMES
                                 if neo4j_vectors.index_name(k, self.labels) in names)
        return kind in self._indexed

    def _vector_kind(self, kind: str) -> VectorKind:
        if not self.supports_vector_search:
            raise StoreError(f"{self!r} has no vector search of its own: the server has no vector indexes")
        return self._vector_kinds[kind]

    def triples_without_vectors(self) -> list[Triple]:
        """The triples, retired ones included, that carry no vector: found on the server where it
        searches vectors (no vector travels), else among all triples."""
        if not self.supports_vector_search:
            return super().triples_without_vectors()
        recs = self._read(f"MATCH (s)-[r:REL]->(o) WHERE r.embedding IS NULL {TRIPLE_RETURN_BARE}",
                          "reading triples without vectors")
        return [triple_of(r) for r in recs]

    # --- namespaces ----------------------------------------------------------------------------
    def open_namespace(self, namespace: str) -> "BoltStore":
        """The store of ``namespace`` in the same database, on this store's connection."""
        return BoltStore(namespace=namespace, connection=self._bolt, vector_search=self.supports_vector_search)

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
