"""Where the FalkorDB store keeps vectors, and the clauses that read, write and search them.

The graph is the Bolt store's (``bolt_layout``: ``(:Entity)`` nodes, a ``[:REL]`` relationship per
triple, ``(:Episode)`` nodes), except that no vector is a property of a triple or an episode: each
lives on a vector node of its own, ``(:FactVec {id, digest, embedding})`` for the triple ``id`` and
``(:EpisodeVec {id, digest, embedding})`` for the episode ``id``, and the vector indexes cover those
nodes. Why: FalkorDB 4.16's vector index keeps a dead entry whenever an indexed entity changes
(any of its properties) or is deleted, and a dead entry still takes one of the ``k`` places of a
search (measured: after one change to each of 60 entities a search for 60 found 30). Triples change
all the time (a retirement, a confirmation's new source, a replacement by id); their vector nodes
are written once and never updated, so the index stays whole. A vector node is replaced only when
its vector changes (``digest``, a hash of the float32 values, tells; the server cannot compare two
vectors: ``=`` on vectors compares their sizes only) and deleted with its triple or episode: only
those leave dead entries, and a search they leave short of its k falls back to an exact scan
(``ServerVectorSearch.vector_search``). Every query that deletes vector nodes counts them on the server, per
label, on ``(:GraphmemIndexState {label, dead})`` (``count_dead``), so every client sees one count;
past a share of the live nodes the store rebuilds the index (``FalkorStore.reindex_vectors``).

A vector node of a retired triple stays: the vector is still the triple's (export, history), and a
search drops it by joining to the current triple on the server.
"""
from __future__ import annotations

from .bolt_layout import EPISODE_RETURN, TRIPLE_RETURN
from .server_vectors import VectorDialect, VectorKind

# FalkorDB's vector functions: vecf32 makes the vector type its indexes hold; its index and
# cosineDistance answer distances (1 - cosine).
FALKOR_VECTORS = VectorDialect(query_vector="vecf32({})", similarity="1 - vec.cosineDistance({a}, {b})",
                               index_score="1 - score")
VECTOR_LABELS = {"triples": "FactVec", "episodes": "EpisodeVec"}  # kind -> its vector nodes' label
# The clause that binds a fact r's vector as vec (recall's expansion, ``server_vectors``).
FACT_VECTOR = "MATCH (v:FactVec {id: r.id}) WITH qs, name, r, v.embedding AS vec"


def _index_query(label: str, owner: str) -> str:
    """The index of ``label`` asked for the nearest vector nodes ``v``, and ``owner``: a clause
    that binds ``x`` to each one's triple or episode where that is searched, else to null."""
    return (f"CALL db.idx.vector.queryNodes('{label}', 'embedding', $k, vecf32($qs[i])) "
            f"YIELD node AS v, score {owner}")


VECTOR_KINDS = {
    "triples": VectorKind(
        current="MATCH ()-[x:REL]->() WHERE x.valid_until IS NULL MATCH (v:FactVec {id: x.id})",
        id_of="v.id", vector_of="v.embedding",
        query=_index_query("FactVec", "OPTIONAL MATCH ()-[x:REL {id: v.id}]->() WHERE x.valid_until IS NULL"),
        hit_id="v.id", searched="x IS NOT NULL"),
    "episodes": VectorKind(
        current="MATCH (v:EpisodeVec)", id_of="v.id", vector_of="v.embedding",
        query=_index_query("EpisodeVec", "OPTIONAL MATCH (x:Episode {id: v.id})"),
        hit_id="v.id", searched="x IS NOT NULL"),
}

# The reads' RETURN clauses with each vector taken from its node (``cypher_store`` queries bind the
# triple as ``r`` and the episode as ``e``).
TRIPLE_RETURN_WITH_VECTOR = ("OPTIONAL MATCH (fv:FactVec {id: r.id}) "
                             + TRIPLE_RETURN.replace("r.embedding AS", "fv.embedding AS"))
EPISODE_RETURN_WITH_VECTOR = ("OPTIONAL MATCH (ev:EpisodeVec {id: e.id}) "
                              + EPISODE_RETURN.replace("e.embedding AS", "ev.embedding AS"))


# The node that counts a vector label's dead index entries, and the tail of a write that reads the
# counts back (``FalkorStore`` decides from them whether a rebuild is due).
INDEX_STATE = "GraphmemIndexState"
READ_DEAD = f" WITH count(*) AS _ MATCH (c:{INDEX_STATE}) RETURN c.label AS label, c.dead AS dead"


def count_dead(label: str, gone: str) -> str:
    """The stage that adds ``gone`` (an aggregate: the vector nodes of ``label`` this query deleted)
    to the label's dead-entry count (binding ``c``; a query goes on after ``WITH count(*) AS _``)."""
    return (f"WITH {gone} AS gone MERGE (c:{INDEX_STATE} {{label: '{label}'}}) "
            "SET c.dead = coalesce(c.dead, 0) + gone")


def write_vectors(label: str, rows: str = "$rows") -> str:
    """The write stage that gives each row of ``rows`` (a parameter: ``id``, ``digest``, ``embedding``,
    ``scale``; ``digest`` null where the row has no vector) its vector node under ``label``: the
    node is left alone where its digest is the row's, else replaced (or deleted: no vector). Only a
    changed vector touches the index, and each node replaced is counted dead (``count_dead``)."""
    return (f"UNWIND {rows} AS row OPTIONAL MATCH (v:{label} {{id: row.id}}) "
            "WITH row, v WHERE v IS NULL OR row.digest IS NULL OR v.digest <> row.digest "
            # FOREACH, not WITH ... WHERE: FalkorDB moved such a filter before the creation (seen).
            "FOREACH (old IN CASE WHEN v IS NULL THEN [] ELSE [v] END | DELETE old) "
            "FOREACH (_ IN CASE WHEN row.digest IS NULL THEN [] ELSE [1] END | "
            f"CREATE (:{label} {{id: row.id, digest: row.digest, "
            "embedding: vecf32([n IN row.embedding | n * row.scale])})) "
            + count_dead(label, "sum(CASE WHEN v IS NULL THEN 0 ELSE 1 END)"))
