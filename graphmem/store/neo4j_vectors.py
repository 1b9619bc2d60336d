"""Neo4j's vector indexes, as the Bolt store uses them where the server has them (Neo4j 5.18 and
later): how that is detected, the indexes' DDL, and where each kind of vector is searched
(``server_vectors`` holds the queries every vector server shares).

Written to Neo4j's documented procedures and functions (``CREATE VECTOR INDEX``,
``db.index.vector.queryRelationships``/``queryNodes``, ``vector.similarity.cosine``); no Neo4j
server could be run where this was written (docs/servers.md).

Vectors stay where the Bolt layout keeps them (``bolt_layout``): a fact's on its ``[:REL]``
relationship, an episode's on its node, indexed there by a relationship index (5.18+) and a node
index. FalkorDB's vector nodes (``falkor_layout``) are not mirrored: they work around FalkorDB's
index keeping dead entries as entities change, whereas Neo4j's index is updated in the
transaction that changes a property (so ``GraphStore.reindex_vectors`` has nothing to do here); and keeping the layout means a graph that Neo4j already holds
is indexed by the server as it stands, with no migration, and the write path is the one ArcadeDB
uses. The price is 5.18: servers from 5.11 to 5.17 index nodes only and lack the similarity
function, and keep the client-side path, as servers without vector indexes do.
"""
from __future__ import annotations

from typing import Callable

from .base import CypherError
from .bolt_layout import Labels
from .server_vectors import VectorDialect, VectorKind

# Neo4j's cosine scores (index and function alike) are (1 + cosine) / 2, in [0, 1]; the query
# vector is a plain list.
NEO4J_VECTORS = VectorDialect(query_vector="{}", similarity="(2 * vector.similarity.cosine({a}, {b}) - 1)",
                              index_score="2 * score - 1")
# The clause that binds a fact r's vector as vec (recall's expansion): its own property.
FACT_VECTOR = "WITH qs, name, r, r.embedding AS vec WHERE vec IS NOT NULL"

# The procedures searched with; a server that lists both has relationship vector indexes (5.18+).
PROCEDURES = frozenset({"db.index.vector.queryNodes", "db.index.vector.queryRelationships"})
LIST_PROCEDURES = "SHOW PROCEDURES YIELD name WHERE name STARTS WITH 'db.index.vector.' RETURN name"
LIST_INDEXES = "SHOW VECTOR INDEXES YIELD name RETURN name"

# Per kind: the index's name (before a namespace's suffix) and what it covers, as ``x``.
INDEX_NAMES = {"triples": "graphmem_fact_vectors", "episodes": "graphmem_episode_vectors"}
_INDEXED = {"triples": "()-[x:REL]-()", "episodes": "(x:Episode)"}


def has_vector_indexes(read: Callable[[str], list[dict]]) -> bool:
    """Whether the server behind ``read`` (one read query's records) searches vector indexes of
    relationships and nodes: it lists both procedures. A server that refuses to list procedures
    (ArcadeDB, Memgraph) has none of Neo4j's."""
    try:
        names = {rec["name"] for rec in read(LIST_PROCEDURES)}
    except CypherError:
        return False
    return PROCEDURES <= names


def index_name(kind: str, labels: Labels) -> str:
    return labels.scoped(INDEX_NAMES[kind])


def index_ddl(kind: str, dimension: int, labels: Labels) -> str:
    """The statement that makes ``kind``'s vector index for vectors of ``dimension``, by cosine, in
    ``labels``' namespace (nothing if it exists)."""
    return labels.scoped(
        f"CREATE VECTOR INDEX {INDEX_NAMES[kind]} IF NOT EXISTS FOR {_INDEXED[kind]} ON (x.embedding) "
        f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(dimension)}, "
        "`vector.similarity_function`: 'cosine'}}")


def vector_kinds(labels: Labels) -> dict[str, VectorKind]:
    """Where each kind is searched, in ``labels``' namespace (the clauses' labels are the
    default ones: the store's reads relabel them)."""
    return {
        "triples": VectorKind(
            current="MATCH ()-[x:REL]->() WHERE x.valid_until IS NULL AND x.embedding IS NOT NULL",
            id_of="x.id", vector_of="x.embedding",
            query=(f"CALL db.index.vector.queryRelationships('{index_name('triples', labels)}', $k, $qs[i]) "
                   "YIELD relationship AS x, score"),
            hit_id="x.id", searched="x.valid_until IS NULL"),
        "episodes": VectorKind(
            current="MATCH (x:Episode) WHERE x.embedding IS NOT NULL", id_of="x.id", vector_of="x.embedding",
            query=(f"CALL db.index.vector.queryNodes('{index_name('episodes', labels)}', $k, $qs[i]) "
                   "YIELD node AS x, score"),
            hit_id="x.id", searched="true"),
    }
