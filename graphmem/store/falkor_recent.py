"""Each entity's newest facts, kept in a list beside it on the FalkorDB store, for recall's expansion.

The expansion takes, per entity, its ``limit`` newest current facts (``server_vectors.neighbour_query``).
Found by walking the entity's relationships, that costs a hub all of them: at a million facts the
largest entity of the synthetic benchmark has 35,000, and walking, filtering and sorting them took
most of a recall's p95. FalkorDB keeps no order over one node's relationships, so the store keeps
one: every write appends the ids of the facts it writes to each endpoint's list (in the order of
their valid_from, then id; a rewritten fact moves to the end), keeping the last ``RECENT_FACTS``.
The list lives on a node of its own, ``(:GraphmemRecent {name, ids})``, not on the entity, so that
users' Cypher sees entities as they were; it goes with its entity when ``forget`` deletes that.
An entity whose list is full is a hub: its candidates are the current facts its list names (found
by id through the relationship index), newest first, plus the queries' nearest facts that touch
it. Where fewer than ``limit`` of the listed facts are current (many retired or forgotten), or an
entity's list is not full (a small entity, or one written before lists existed), its facts are
walked as before, so the candidates are the walk's wherever facts were written in the order of
their steps (a fact written after ``RECENT_FACTS`` newer ones of its entity is the one case it
misses).
"""
from __future__ import annotations

from typing import Sequence

from .server_vectors import VectorDialect

RECENT_FACTS = 1024  # ids kept per entity: twice recall's hub_scan (512), room for retired ones
RECENT_BATCH = 5000  # entities listed per query at the end of a bulk load
RECENT = "GraphmemRecent"  # the label of the lists' nodes (an index on name: ``FalkorStore``'s schema)


def recent_rows(rows: Sequence[dict]) -> list[dict]:
    """Per endpoint of the triple ``rows`` (``bolt_layout.triple_row``): ``name`` and the ``ids``
    of its facts in this write, oldest first (valid_from, then id)."""
    ids: dict[str, list[str]] = {}
    for row in sorted(rows, key=lambda r: (r["valid_from"], r["id"])):
        for name in dict.fromkeys((row["s"], row["o"])):
            ids.setdefault(name, []).append(row["id"])
    return [{"name": name, "ids": list(dict.fromkeys(found))} for name, found in sorted(ids.items())]


def append_recent(keep: int) -> str:
    """The write stage that appends ``$recent`` (``recent_rows``) to the endpoints' lists, each
    keeping its last ``keep`` ids (a query goes on after ``WITH count(*) AS _``)."""
    return (f"WITH count(*) AS _ UNWIND $recent AS x MERGE (l:{RECENT} {{name: x.name}}) "
            f"SET l.ids = ([i IN coalesce(l.ids, []) WHERE NOT i IN x.ids] + x.ids)[-{int(keep)}..]")


def remake_recent(keep: int) -> str:
    """The write that makes the list of each entity of ``$names`` afresh from its facts, keeping
    the newest ``keep``: a bulk load's end. Appending per batch slowed a bulk load to ~0.7x (100,000
    facts: 7,522-7,849 against 9,875-11,371 facts/s, same server); listing once at the end,
    ~0.9x (8,397-10,454 against 10,555-11,036)."""
    return ("UNWIND $names AS name MATCH (n:Entity {name: name})-[r:REL]-() "
            "WITH DISTINCT name, r ORDER BY r.valid_from, r.id "
            f"WITH name, collect(r.id) AS ids MERGE (l:{RECENT} {{name: name}}) SET l.ids = ids[-{int(keep)}..]")


def hub_query(dialect: VectorDialect, fact_vector: str) -> str:
    """Per hub of ``$names`` (an entity whose list holds ``$keep`` ids; the others give no row):
    its ``$limit`` newest current facts among those its list names, and the current facts of
    ``$pool`` that touch it, each with its best similarity to ``$qs``; ``listed``: how many of its
    listed facts are current (fewer than ``$limit``: walk it instead).
    ``fact_vector``: a clause that binds the fact ``r``'s vector as ``vec``, carrying ``qs``,
    ``name`` and ``listed``."""
    best = dialect.cosine("vec", "q")
    return (f"UNWIND $names AS name MATCH (l:{RECENT} {{name: name}}) WHERE size(l.ids) >= $keep "
            "UNWIND l.ids AS fid MATCH ()-[r:REL {id: fid}]->() WHERE r.valid_until IS NULL "
            "WITH DISTINCT name, r ORDER BY r.valid_from DESC, r.id DESC "
            "WITH name, collect(r) AS rs "
            "WITH name, rs[..$limit] AS newest, size(rs) AS listed "
            # An empty pool would end every row at the UNWIND: one null keeps them.
            "UNWIND CASE WHEN size($pool) = 0 THEN [null] ELSE $pool END AS pid "
            "OPTIONAL MATCH ()-[p:REL {id: pid}]->() "
            "WHERE p.valid_until IS NULL AND (startNode(p).name = name OR endNode(p).name = name) "
            "WITH name, newest, listed, collect(p) AS near "
            f"WITH [q IN $qs | {dialect.query_vector.format('q')}] AS qs, name, listed, "
            "newest + [x IN near WHERE NOT x.id IN [y IN newest | y.id]] AS cands "
            f"UNWIND cands AS r {fact_vector} "
            f"RETURN name, listed, r.id AS id, reduce(best = -2.0, q IN qs | CASE WHEN {best} > best "
            f"THEN {best} ELSE best END) AS score")
