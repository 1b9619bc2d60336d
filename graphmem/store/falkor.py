"""GraphStore on a FalkorDB server (``falkor://HOST:PORT[/GRAPH]`` or ``redis://``), where the server
is the memory: the fact and episode vectors live in the server's vector indexes, and recall's
vector search and neighbourhood scoring run there as queries (``supports_vector_search``), so a
client opening a memory reads its metadata only and sees every other client's writes on its next
call.

The layout is the Bolt store's (``bolt_layout``): entities are ``(:Entity {name})`` nodes, each
triple one ``[:REL]`` relationship, episodes ``(:Episode)`` nodes, metadata ``(:GraphmemMeta)``
nodes; the reads are ``CypherStore``'s. The vectors are not theirs but on vector nodes written once
(``falkor_layout``: FalkorDB's vector index goes stale as indexed entities change), stored as
``vecf32`` (the type vector indexes hold); a graph written with vectors on the triples and episodes
themselves (the layout before) is moved to vector nodes on open (``falkor_migration``). Each namespace is a graph of its own on the
server: ``GRAPH`` for the default one, ``GRAPH__name`` for others (``namespaces.label_suffix``), so
Cypher is scoped to one namespace by the server itself. Every write is one atomic query, except
``delete_source`` (a read, then one write); a write that deletes vector nodes may then count the
live ones and rebuild an index (``REBUILD_SHARE``).
"""
from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import uuid
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..model import Episode, Triple, ordered_unique
from . import falkor_bulk, falkor_fresh
from . import falkor_writes as writes
from .base import DEFAULT_NAMESPACE, CypherError, StoreError
from .bolt_layout import TRIPLE_RETURN_BARE, episode_row, meta_property, triple_of, triple_row
from .cypher_guard import reject_writes
from .cypher_limits import DEFAULT_LIMITS, CypherLimits, run_bounded
from .cypher_store import CypherStore
from .falkor_connection import FalkorAddress, FalkorConnection
from .falkor_layout import (EPISODE_RETURN_WITH_VECTOR, FACT_VECTOR, FALKOR_VECTORS, INDEX_STATE, READ_DEAD,
                            TRIPLE_RETURN_WITH_VECTOR, VECTOR_KINDS, VECTOR_LABELS)
from .falkor_migration import migrate_vectors_to_nodes
from .falkor_params import with_vector
from .falkor_recent import RECENT, RECENT_BATCH, RECENT_FACTS, append_recent, expansion_query, remake_recent, unlisted_rows
from .falkor_values import plain
from .namespaces import checked_namespace, label_suffix
from .server_vectors import ServerVectorSearch, VectorKind

# Range indexes the reads rely on (FalkorDB answers "already indexed" when one exists).
SCHEMA = (
    "CREATE INDEX FOR (n:Entity) ON (n.name)",
    "CREATE INDEX FOR ()-[r:REL]-() ON (r.id)",
    "CREATE INDEX FOR (e:Episode) ON (e.id)",
    "CREATE INDEX FOR (m:GraphmemMeta) ON (m.key)",
    "CREATE INDEX FOR (v:FactVec) ON (v.id)",
    "CREATE INDEX FOR (v:EpisodeVec) ON (v.id)",
    f"CREATE INDEX FOR (l:{RECENT}) ON (l.name)",
)
# HNSW settings: the server's defaults, but efRuntime (10 by default) raised for searches that ask
# for few results; recall asks for 128 at a time anyway. Agreement with an exact search is measured
# by scripts/bench_recall_server.py (recall@10 1.0 at 10k facts).
HNSW_OPTIONS = "M: 16, efConstruction: 200, efRuntime: 200"
EXPANSION_QUERY = expansion_query(FALKOR_VECTORS, FACT_VECTOR)  # recall's expansion, hubs from their lists
DROP_WAIT_S = 30.0  # the longest a dropped vector index may stay listed (``_drop_vector_index``)
# Dead index entries (vector nodes deleted since the index was built) per live vector node past which
# the next write or open rebuilds the index. Why a tenth: a dead entry takes one of the places a
# search asks the index for (twice k), so at a tenth an answer still holds k current facts unless
# about half the vectors near the query are retired facts'; a search left short scans every vector
# on the server. A rebuild re-inserts every live node (~1 ms each at 384 dimensions), so rebuilding
# at a share s costs 1/s insertions per deleted node, amortized: 10 at a tenth.
REBUILD_SHARE = 0.1
# FalkorDB 4.16's refusal, in some bulk loads of writer batches, to read staging nodes it holds
# (docs/servers.md, Limits): the load then writes its batches as Cypher (``_write_staged_batch``).
UNREADABLE_STAGING = "Attempted to access undefined attribute"
IN_FLIGHT = 4  # writes of a load into an empty graph left unanswered as the next is sent (``_send_staged``)
log = logging.getLogger(__name__)
_ENCODED = re.compile(r"_(5f|2d)")


class FalkorStore(ServerVectorSearch, CypherStore):
    """A GraphStore kept in a FalkorDB graph. ``connection``: another store's, to share
    (``open_namespace``); it stays that store's to close. ``vector_search``: False to have a memory
    load every vector into its own indexes instead, as on servers without vector indexes (to
    compare the two)."""

    triple_return = TRIPLE_RETURN_WITH_VECTOR
    episode_return = EPISODE_RETURN_WITH_VECTOR
    vector_dialect = FALKOR_VECTORS
    fact_vector = FACT_VECTOR
    recent_facts = RECENT_FACTS  # keys of its newest current facts each entity keeps (``falkor_recent``)

    def __init__(self, uri: str = "falkor://127.0.0.1:6379", *, namespace: str = DEFAULT_NAMESPACE,
                 connection: FalkorConnection | None = None, graph: str | None = None,
                 vector_search: bool = True) -> None:
        self.supports_vector_search = vector_search
        self._owns_connection = connection is None
        self._conn = connection or FalkorConnection(FalkorAddress.parse(uri))
        self.base_graph = graph or self._conn.address.graph
        self.namespace = checked_namespace(namespace)
        self.graph = self.base_graph + label_suffix(namespace)
        self._vector_dims: dict[str, int] = {}  # kind -> dimension of its index on the server
        self._dead_seen: dict[str, int] = {}  # label -> the dead-entry count last checked against the share
        self._loading: dict[str, int] | None = None  # during bulk_load: kind -> dimension of its index to make
        self._loaded_names: set[str] = set()  # during bulk_load: the entities written, to list at its end
        self._fresh: falkor_fresh.FreshLoad | None = None  # during a bulk load into a graph without facts
        self._staging_refused = False  # during a bulk load: the server could not read staging nodes
        self.staging_fallbacks = 0  # batches written as Cypher after that refusal, for the logs and tests
        self._schema_lock = threading.Lock()
        try:
            for statement in SCHEMA:
                self._write_schema(statement)
            migrate_vectors_to_nodes(self)
            self._rebuild_if_due(self._dead_counts())
        except BaseException:
            self.close()
            raise

    @property
    def uri(self) -> str:
        return f"{self._conn.where}/{self.base_graph}"

    @property
    def queries(self) -> int:
        """Round trips to the server, for measuring; may be reset."""
        return self._conn.queries

    @queries.setter
    def queries(self, value: int) -> None:
        self._conn.queries = value

    def _write_schema(self, statement: str) -> None:
        try:
            self._write(statement, "creating indexes")
        except CypherError as e:
            if "already indexed" not in str(e):
                raise

    def _read(self, query: str, doing: str, **params: Any) -> list[dict]:
        return self._conn.query(self.graph, query, params, write=False, doing=doing)

    def _write(self, query: str, doing: str, **params: Any) -> list[dict]:
        return self._conn.query(self.graph, query, params, write=True, doing=doing)

    # --- writes --------------------------------------------------------------------------------
    def add_triples(self, triples: Iterable[Triple]) -> None:
        self.write_batch(list(triples), [])

    def write_batch(self, triples: Sequence[Triple], episodes: Sequence[Episode],
                    read_sources: Mapping[str, Sequence[str]] | None = None) -> None:
        """Triples and episodes in one atomic query. With ``read_sources``, each triple is the
        batch's decision on what it read, applied to the copy the server holds now
        (``falkor_writes.WRITE_TRIPLES``)."""
        text = self._loading is None  # vectors as Cypher text, else as binary (``falkor_bulk``)
        rows = list({t.id: with_vector(triple_row(t, False), t.embedding, text) for t in triples}.values())
        if read_sources is not None:
            for row in rows:
                was = read_sources.get(row["id"], ())
                row["added"] = [x for x in row["sources"] if x not in was]
        episode_rows = [with_vector(episode_row(e, False), e.embedding, text) for e in episodes]
        if not rows:
            self.add_episodes(episodes)
            return
        self._index_vectors("triples", rows)
        self._index_vectors("episodes", episode_rows)
        mark = writes.MARK_UNEMBEDDED if any(r["embedding"] is None for r in rows) else ""
        doing = f"writing {len(rows)} triples"
        if self._loading is not None and (self._write_fresh(rows, episode_rows, bool(mark), doing)
                                          or self._write_staged_batch(rows, episode_rows, mark, doing)):
            self._loaded_names.update(n for r in rows for n in (r["s"], r["o"]))  # listed at the end
            return
        # The endpoints' lists of newest facts, in the same atomic query (``falkor_recent``).
        mark += " " + append_recent(self.recent_facts)
        query = writes.WRITE_TRIPLES + mark
        names = sorted({r["s"] for r in rows} | {r["o"] for r in rows})
        if not episode_rows:
            self._write_counting(query, doing, names=names, rows=rows)
            return
        self._write_counting(query + writes.AND_EPISODES, f"{doing} and {len(episode_rows)} episodes", names=names,
                             rows=rows, episodes=episode_rows)

    def _write_staged_batch(self, rows: list[dict], episode_rows: list[dict], mark: str, doing: str) -> bool:
        """A bulk load's batch through staging nodes (``falkor_bulk``); False where it cannot travel in
        binary, or the server could not read staging nodes (the batch is then written as Cypher)."""
        tail = " WITH count(*) AS _ " + writes.episodes_without_vectors("$episodes") if episode_rows else ""
        query = writes.triples_without_vectors(falkor_bulk.STAGED_NAMES, falkor_bulk.STAGED_ROWS) + mark + tail
        if self._write_staged(query, doing, rows, {"triples": rows, "episodes": episode_rows},
                              **({"episodes": falkor_bulk.without_vectors(episode_rows)} if episode_rows else {})
                              ) is None:
            return False
        if self._fresh is not None:
            self._fresh.wrote(rows, staged=True)
        return True

    def _write_fresh(self, rows: list[dict], episode_rows: list[dict], unembedded: bool, doing: str) -> bool:
        """A bulk load's batch into a graph that held no facts (``falkor_fresh``): the vectors as
        staging nodes, then one query that makes them vector nodes, writes the episodes and the
        entities not met yet and gives those entities' node ids, then the triples as relationships
        in binary. A batch cut short leaves vector nodes and entities but no fact. False where the
        batch cannot go this way.

        Sent without waiting (``_send_staged``): the server writes a batch while the client
        prepares the next, so a batch's failure is raised by a later call (``bulk_load``)."""
        fresh = self._fresh
        if fresh is None or not fresh.takes(rows):
            return False
        try:
            properties = falkor_bulk.relationship_properties(rows)
        except falkor_bulk.NotBulkSafe:
            return False
        stages = ([writes.UNEMBEDDED_FLAG] if unembedded else []) + \
            ([writes.episodes_without_vectors("$episodes")] if episode_rows else [])
        staged = self._staging(" WITH count(*) AS _ ".join(stages), [], {"triples": rows, "episodes": episode_rows},
                               returning=falkor_fresh.NAME_IDS, replacing={"FactVec": False})
        if staged is None:
            return False

        def relate(found: list[dict]) -> None:
            fresh.learn(found)
            self._conn.send_bulk(self.graph, f"{doing} (their relationships)", relationship_count=len(rows),
                                 relationships=[falkor_bulk.relationships(properties, fresh.ends(rows))],
                                 on_error=self._stop_fresh)

        self._send_staged(staged, doing, dict(
            names=fresh.unknown_names(rows),
            **({"episodes": falkor_bulk.without_vectors(episode_rows)} if episode_rows else {})), on_rows=relate)
        fresh.wrote(rows, staged=False)
        return True

    def _send_staged(self, staged: falkor_bulk.Staged, doing: str, params: dict,
                     on_rows: Callable[[list[dict]], None] | None = None) -> None:
        """A staged write (``_staging``) sent without waiting for it, once at most ``IN_FLIGHT``
        writes sent before are unanswered (the server writes while the client prepares the next
        batch, and never has more than about two queued); where it fails, the load goes the staged
        way from then on."""
        self._conn.settle(leave=IN_FLIGHT)

        def failed() -> None:
            self._stop_fresh()
            self._drop_staging(staged)

        self._conn.send_bulk(self.graph, f"{doing} (sending them)", staged.sections, staged.nodes)
        self._conn.send_write(self.graph, staged.query, dict(batch=staged.batch, **params), doing, on_rows=on_rows,
                              on_error=failed)

    def _stop_fresh(self) -> None:
        """A write of a load into an empty graph failed, and may have left vector nodes or entities
        behind: the staged way, which is right in every case, from now on (``falkor_fresh``)."""
        self._fresh = None

    def retire(self, triple_ids: Iterable[str], step: int, by: str | None = None) -> list[str]:
        ids = ordered_unique(triple_ids)
        if not ids:
            return []
        if self._fresh is not None:
            self._fresh.retired = True
        done = {r["id"] for r in self._write(writes.RETIRE, f"retiring {len(ids)} triples",
                                             ids=ids, step=int(step), by=by)}
        return [i for i in ids if i in done]

    def add_episodes(self, episodes: Iterable[Episode]) -> None:
        rows = [with_vector(episode_row(e, False), e.embedding, self._loading is None) for e in episodes]
        if not rows:
            return
        self._index_vectors("episodes", rows)
        doing = f"writing {len(rows)} episodes"
        if self._fresh is not None:  # like the load's triples, sent without waiting
            staged = self._staging(writes.episodes_without_vectors(), [], {"episodes": rows})
            if staged is not None:
                self._send_staged(staged, doing, {"rows": falkor_bulk.without_vectors(rows)})
                return
        if self._loading is not None and self._write_staged(
                writes.episodes_without_vectors(), doing, [], {"episodes": rows},
                rows=falkor_bulk.without_vectors(rows)) is not None:
            return
        self._write_counting(writes.WRITE_EPISODES, doing, rows=rows)

    def set_episode_meta(self, episode_id: str, meta: dict[str, str]) -> bool:
        found = self._write(writes.SET_EPISODE_META, "setting an episode's meta", id=episode_id,
                            meta=meta_property(meta))
        return bool(found and found[0]["n"])

    def delete_source(self, source_id: str) -> list[str]:
        self._fresh = None  # an entity deleted: its node id may be handed out again (``falkor_fresh``)
        touched = self._read(writes.SOURCE_TRIPLES, f"reading source {source_id!r}'s triples", id=source_id)
        doomed = sorted(r["id"] for r in touched if set(r["sources"]) == {source_id})
        kept = [r["id"] for r in touched if r["id"] not in doomed]
        names = sorted({r["s"] for r in touched} | {r["o"] for r in touched})
        self._write_counting(writes.DELETE_SOURCE, f"deleting source {source_id!r}", id=source_id, doomed=doomed,
                             kept=kept, names=names, unlisted=unlisted_rows(touched, set(doomed)))
        return doomed

    def flush(self) -> None:
        """Every call committed its own write, but a bulk load's last batches may still be on their
        way (``_write_fresh``): waits for them, raising where one failed."""
        self._conn.settle()

    def set_meta(self, key: str, value: Any) -> None:
        # JSON text, as on every server: properties hold no maps.
        self._write(writes.SET_META, f"writing metadata {key!r}", key=key, value=json.dumps(value, sort_keys=True))

    # --- bulk loads --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def bulk_load(self, wait: bool = False) -> Iterator["FalkorStore"]:
        """A context for loading many facts: meanwhile this client's writes send their vectors as
        binary (``falkor_bulk``) and no vector index exists, so none inserts a vector one by one;
        at the end the indexes are made once, of the dimension written, and the server fills them
        in the background. Until an index is ready, every search of its kind (by any client) is
        an exact scan on the server: slower, never wrong; ``vector_indexes_ready`` tells, and
        ``wait`` returns only once they are (``wait_for_vector_indexes``).

        A batch is two round trips (the vectors, then one atomic query for the rest that turns them
        into vector nodes); a batch cut short between them leaves no fact behind. The entities'
        lists of newest facts (``falkor_recent``) are made once at the end too, for the entities
        written (until then a hub's expansion may miss the load's facts). Into a graph without
        facts, the triples go as relationships in binary instead, and the writes are sent without
        waiting, so that the server writes a batch while the client prepares the next
        (``falkor_fresh``: other clients must not delete sources meanwhile; a batch's failure is
        raised by a later call, at the latest on leaving the context, and the graph then holds the
        batches before it and part of those after it: load them again, as writes replace by id).
        Nested, the outer context makes the indexes."""
        if self._loading is not None:
            yield self
            return
        loading: dict[str, int] = {}
        for kind, dimension in dict(self._indexed_dims()).items():
            loading[kind] = dimension
            self._drop_vector_index(kind)
        self._loading, self._loaded_names = loading, set()
        empty = self._read(falkor_fresh.EMPTY, "looking for facts")
        self._fresh = falkor_fresh.FreshLoad(self.recent_facts) if empty else None
        try:
            yield self
        finally:
            try:
                self._conn.settle()  # the last batches sent without waiting; a failure raised below
                made = self._send_lists(self._fresh.lists()) if self._fresh is not None else set()
                self._loading = self._fresh = None
                names = sorted(self._loaded_names - made)
                for start in range(0, len(names), RECENT_BATCH):
                    self._write(remake_recent(self.recent_facts), "listing entities' newest facts",
                                names=names[start:start + RECENT_BATCH])
            finally:
                self._loading, self._fresh, self._loaded_names, self._staging_refused = None, None, set(), False
                # The fact index last: the server starts filling a second index only once the first
                # is filled (seen: that CREATE waited for it), so the small one goes first.
                for kind in sorted(loading, key=lambda kind: kind == "triples"):
                    self._rebuild_index(kind, loading[kind])  # its dead-entry count starts again with it
            if wait:
                self.wait_for_vector_indexes()

    def _send_lists(self, lists: dict[str, list[str]]) -> set[str]:
        """Creates the lists of newest facts ``lists`` (name -> keys) in binary, in a graph that had
        none (``falkor_fresh``); the names listed."""
        names = list(lists)
        for start in range(0, len(names), RECENT_BATCH):
            chunk = {name: lists[name] for name in names[start:start + RECENT_BATCH]}
            self._conn.bulk(self.graph, "listing entities' newest facts", [falkor_bulk.lists(chunk, RECENT)], len(chunk))
        return set(names)

    def _write_staged(self, query: str, doing: str, facts: list[dict], vectors: dict[str, list[dict]],
                      **params: Any) -> list[dict] | None:
        """``query`` with ``facts`` and ``vectors`` staged (``_staging``), in two round trips; the rows
        the query returns. None, having written nothing, where a string cannot travel in binary, or
        once the server has refused to read staging nodes during this load: FalkorDB 4.16 did, after
        some batches of the writer's, on a label scan of nodes it held (docs/servers.md, Limits);
        the rest of the load is then written as Cypher (slower, right), counted in
        ``staging_fallbacks`` and logged once."""
        if self._staging_refused:
            self.staging_fallbacks += 1
            return None
        staged = self._staging(query, facts, vectors)
        if staged is None:
            return None
        self._conn.bulk(self.graph, f"{doing} (sending them)", staged.sections, staged.nodes)
        try:
            return self._write(staged.query, doing, batch=staged.batch, **params)
        except BaseException as e:
            self._drop_staging(staged)
            if not isinstance(e, CypherError) or UNREADABLE_STAGING not in str(e):
                raise
            log.warning("the FalkorDB server could not read this bulk load's staging nodes (%s): the rest of "
                        "the load is written as Cypher queries instead (slower)", e)
        self._staging_refused = True
        self.staging_fallbacks += 1
        return None

    def _staging(self, query: str, facts: list[dict], vectors: dict[str, list[dict]], returning: str = "",
                 replacing: Mapping[str, bool] | None = None) -> falkor_bulk.Staged | None:
        """The staging of ``query`` (a write that leaves vector nodes alone and reads its triples,
        where it has ``facts``, from staging nodes): ``facts`` and the vectors of ``vectors`` (kind
        -> rows) as staging nodes, and the one atomic query that runs ``query``, turns them into
        vector nodes and deletes them, then runs the stage ``returning`` (whose rows it gives);
        ``replacing``: vector label -> False where no vector node of the batch's ids exists
        (``falkor_bulk.unstage``). None where a string cannot travel in binary (a NUL in it)."""
        batch = uuid.uuid4().hex
        staged = {VECTOR_LABELS[kind]: list({r["id"]: r for r in rows}.values())  # one per id, the last
                  for kind, rows in vectors.items() if rows}
        try:
            sections = [falkor_bulk.staged_vectors(label, rows, batch) for label, rows in staged.items()]
            if facts:
                sections.append(falkor_bulk.staged_facts(facts, batch))
        except falkor_bulk.NotBulkSafe:
            return None
        stages = ([query] if query else []) + \
            [falkor_bulk.unstage(label, (replacing or {}).get(label, True)) for label in staged] + \
            ([falkor_bulk.UNSTAGE_FACTS] if facts else []) + ([returning] if returning else [])
        labels = [falkor_bulk.staged_label(label) for label in staged] + ([falkor_bulk.STAGED_FACTS] if facts else [])
        return falkor_bulk.Staged(sections, len(facts) + sum(map(len, staged.values())),
                                  " WITH count(*) AS _ ".join(stages), labels, batch)

    def _drop_staging(self, staged: falkor_bulk.Staged) -> None:
        """Deletes a failed batch's staging nodes, where the server is still there (else they stay, inert)."""
        with contextlib.suppress(StoreError):
            for label in staged.labels:
                self._write(falkor_bulk.drop_staged(label), "dropping a failed batch's staging nodes",
                            batch=staged.batch)

    # --- vector search on the server -----------------------------------------------------------
    def _index_vectors(self, kind: str, rows: list[dict]) -> None:
        """Make the vector index of ``kind`` before its first vector is written, with that
        vector's dimension (vectors of another dimension are kept but not indexed); during a bulk
        load, note the dimension for the index made at its end."""
        if kind in self._vector_dims and self._loading is None:
            return
        first = next((r["embedding"] for r in rows if r["embedding"] is not None), None)
        if first is None:
            return
        if self._loading is not None:
            self._loading.setdefault(kind, len(first))
        elif not self._has_vector_index(kind):
            self._create_vector_index(kind, len(first))

    def _create_vector_index(self, kind: str, dimension: int) -> None:
        """The server fills a new index from the vector nodes already there, in the background
        (searches meanwhile use the index it replaces, if any)."""
        with self._schema_lock:
            self._write_schema(f"CREATE VECTOR INDEX FOR (v:{VECTOR_LABELS[kind]}) ON (v.embedding) OPTIONS "
                               f"{{dimension: {dimension}, similarityFunction: 'cosine', {HNSW_OPTIONS}}}")
        self._vector_dims[kind] = dimension

    # --- dead index entries and rebuilds ---------------------------------------------------------
    def _write_counting(self, query: str, doing: str, **params: Any) -> None:
        """A write that may delete vector nodes: it reads the dead-entry counts back, and a count
        past the share rebuilds its index."""
        self._rebuild_if_due({r["label"]: int(r["dead"] or 0) for r in self._write(query + READ_DEAD, doing, **params)})

    def _dead_counts(self) -> dict[str, int]:
        """Label -> dead entries counted on the server since its index was last built."""
        return {r["label"]: int(r["dead"] or 0) for r in
                self._read(f"MATCH (c:{INDEX_STATE}) RETURN c.label AS label, c.dead AS dead", "reading index state")}

    def dead_vectors(self) -> dict[str, int]:
        """Kind -> dead entries in its vector index (vector nodes deleted since the index was
        built: forgotten facts and episodes, replaced vectors), as counted on the server."""
        dead = self._dead_counts()
        return {kind: dead.get(label, 0) for kind, label in VECTOR_LABELS.items()}

    def _rebuild_if_due(self, dead: dict[str, int]) -> None:
        """Rebuild each index whose dead count changed since this client last looked and passes
        ``REBUILD_SHARE`` of its live vector nodes (counted then: one query, which the server
        answers from its label counts)."""
        for kind, label in VECTOR_LABELS.items():
            n = dead.get(label, 0)
            if n == self._dead_seen.get(label, 0) or self._loading is not None:  # a load makes them afresh
                continue
            self._dead_seen[label] = n
            live = int(self._read(f"MATCH (v:{label}) RETURN count(v) AS n", f"counting {kind} vectors")[0]["n"])
            if n > REBUILD_SHARE * live:
                log.info("%s: rebuilding the %s vector index (%d dead entries, %d live)", self, kind, n, live)
                self._rebuild_index(kind)

    def _rebuild_index(self, kind: str, dimension: int | None = None) -> int:
        """Drop and create ``kind``'s vector index (of ``dimension``, else the one it has), its count
        reset first (so a delete during the rebuild is counted rather than lost); the dead entries
        it held."""
        label = VECTOR_LABELS[kind]
        was = int(self._write(f"MERGE (c:{INDEX_STATE} {{label: $label}}) WITH c, coalesce(c.dead, 0) AS was "
                              "SET c.dead = 0 RETURN was", f"resetting the {kind} index's count", label=label)[0]["was"])
        self._dead_seen[label] = 0
        dimension = dimension or self._indexed_dims().get(kind)
        if dimension is None:
            return was
        self._drop_vector_index(kind)
        self._create_vector_index(kind, dimension)
        return was

    def _drop_vector_index(self, kind: str) -> None:
        """Drop ``kind``'s vector index and return once the server no longer lists it: FalkorDB
        answers a DROP before the index is gone (seen: still listed ~10 ms later, after about one drop
        in thirty), and a CREATE meanwhile is refused as "already indexed", which left the graph
        with no index once the drop took effect."""
        self._vector_dims.pop(kind, None)
        try:
            self._write(f"DROP VECTOR INDEX FOR (v:{VECTOR_LABELS[kind]}) ON (v.embedding)",
                        f"dropping the {kind} vector index")
        except CypherError as e:
            if "no such index" not in str(e):  # else another client dropped it first
                raise
        label, deadline, pause = VECTOR_LABELS[kind], time.monotonic() + DROP_WAIT_S, 0.005
        while any(listed == label for _, listed, _ in self.vector_indexes()):
            if time.monotonic() > deadline:  # another client may have made it again: it serves
                log.warning("%s: the %s vector index is still listed %.0f s after it was dropped",
                            self, kind, DROP_WAIT_S)
                return
            time.sleep(pause)
            pause = min(2 * pause, 0.2)

    def reindex_vectors(self, wait: bool = True) -> dict[str, int]:
        """Rebuild the vector indexes now, so that no dead entry is left; kind -> the dead entries
        dropped. ``wait``: return once the server has filled them (``wait_for_vector_indexes``)."""
        dropped = {kind: self._rebuild_index(kind) for kind in VECTOR_LABELS}
        if wait:
            self.wait_for_vector_indexes()
        return dropped

    def wait_for_vector_indexes(self, poll_s: float = 0.1) -> None:
        """Return once no vector index of this graph is being filled (the server fills a new one
        in the background; searches meanwhile scan: ``vector_search``)."""
        while not self.vector_indexes_ready():
            time.sleep(poll_s)

    def vector_indexes_ready(self) -> bool:
        """Whether no vector index of this graph is being filled (one round trip). The server fills
        a new index in the background and refuses searches of it until it is done
        ("[Indexing] i/n: UNDER CONSTRUCTION" in ``db.indexes()``); meanwhile searches scan."""
        return not self._filling(set(VECTOR_LABELS.values()))

    def _filling(self, labels: set[str]) -> bool:
        return any(r["label"] in labels and "UNDER CONSTRUCTION" in str(r["status"]) for r in self._read(
            "CALL db.indexes() YIELD label, status RETURN label, status", "listing indexes"))

    def _vector_index_ready(self, kind: str) -> bool:
        self._vector_dims.pop(kind, None)  # asked afresh: another client may have dropped it
        return self._has_vector_index(kind) and not self._filling({VECTOR_LABELS[kind]})

    def vector_indexes(self) -> list[tuple[str, str, int]]:
        """The vector indexes on ``embedding`` in this graph: (entity type, label, dimension) each."""
        return [(rec["entitytype"], rec["label"], int(rec["options"]["embedding"]["dimension"]))
                for rec in self._read("CALL db.indexes() YIELD label, types, options, entitytype "
                                      "RETURN label, types, options, entitytype", "listing indexes")
                if "VECTOR" in (rec["types"].get("embedding") or ())]

    def _indexed_dims(self) -> dict[str, int]:
        """The vector indexes on the server (another client may have made one since)."""
        kinds = {label: kind for kind, label in VECTOR_LABELS.items()}
        for entity, label, dim in self.vector_indexes():
            if entity == "NODE" and label in kinds:
                self._vector_dims[kinds[label]] = dim
        return self._vector_dims

    def neighbour_scores(self, entities: Sequence[str], vectors: np.ndarray, limit: int,
                         pool: Sequence[str], min_score: float = -1.0) -> dict[str, list[tuple[str, float]]]:
        """``ServerVectorSearch.neighbour_scores`` in one round trip: a hub's candidates read from
        its list of newest current facts instead of a walk over all of them (``falkor_recent``),
        the others' (an entity whose list holds fewer than ``limit``) by the walk."""
        names = ordered_unique(entities)
        out: dict[str, list[tuple[str, float]]] = {n: [] for n in names}
        if not names:
            return out
        for r in self._read(EXPANSION_QUERY, "scoring entities' facts", qs=np.asarray(vectors, dtype=np.float32).tolist(),
                            names=names, limit=int(limit), pool=list(pool), min_score=float(min_score)):
            out[r["name"]].append((r["id"], float(r["score"])))
        return out

    def _has_vector_index(self, kind: str) -> bool:
        """Whether ``kind`` has its vector index on the server (asked until one is there: another
        client may make it)."""
        return kind in self._vector_dims or kind in self._indexed_dims()

    def _vector_kind(self, kind: str) -> VectorKind:
        return VECTOR_KINDS[kind]

    def triples_without_vectors(self) -> list[Triple]:
        """The triples, retired ones included, that carry no vector (to embed on open). Scanned for
        only while the graph is marked as holding some (``falkor_writes.MARK_UNEMBEDDED``), so an
        open reads no triple otherwise; a scan that finds none drops the mark."""
        if not self._read(writes.MARKED_UNEMBEDDED, "reading metadata")[0]["n"]:
            return []
        recs = self._read(writes.WITHOUT_VECTOR + TRIPLE_RETURN_BARE,
                          "reading triples without vectors")
        if not recs:
            self._write(writes.UNMARK_UNEMBEDDED, "writing metadata")
        return [triple_of(r) for r in recs]

    # --- namespaces ----------------------------------------------------------------------------
    def open_namespace(self, namespace: str) -> "FalkorStore":
        """The store of ``namespace``: the graph ``GRAPH__name`` on the same server and connection."""
        return FalkorStore(namespace=namespace, connection=self._conn, graph=self.base_graph,
                           vector_search=self.supports_vector_search)

    def namespaces(self) -> list[str]:
        prefix = self.base_graph + "__"
        found = {DEFAULT_NAMESPACE}
        for name in self._conn.graphs():
            if name.startswith(prefix):
                found.add(_ENCODED.sub(lambda m: "_" if m.group(1) == "5f" else "-", name[len(prefix):]))
        return sorted(found)

    # --- queries and lifecycle -----------------------------------------------------------------
    def cypher(self, query: str, params: dict | None = None, write: bool = False,
               limits: CypherLimits | None = None) -> list[dict]:
        """A user's query on this namespace's graph; read-only ones run as GRAPH.RO_QUERY (the
        server refuses writes there too), with the time limit given to the server."""
        limits = limits or DEFAULT_LIMITS
        if not write:
            reject_writes(query)
        else:
            self._fresh = None  # it may delete an entity (``falkor_fresh``)

        def run() -> list[dict]:
            rows = self._conn.query(self.graph, query, params, write=write, doing="running a Cypher query",
                                    timeout_s=limits.timeout or None)
            limits.check_rows(len(rows))
            return [{k: plain(v) for k, v in row.items()} for row in rows]

        return run_bounded(run, limits, stoppable=False)

    def close(self) -> None:
        if self._owns_connection:
            self._conn.close()

    def __repr__(self) -> str:
        where = "" if self.namespace == DEFAULT_NAMESPACE else f", namespace {self.namespace!r}"
        return f"FalkorStore({self.uri}{where})"

