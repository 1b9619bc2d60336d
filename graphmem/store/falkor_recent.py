"""Each entity's newest current facts, kept in a list beside it on the FalkorDB store, for recall's
expansion.

The expansion takes, per entity, its ``limit`` newest current facts (``server_vectors.neighbour_query``).
Found by walking the entity's relationships, that costs a hub all of them: at a million facts the
largest entity of the synthetic benchmark has 35,000, and walking, filtering and sorting them took
most of a recall's p95. FalkorDB keeps no order over one node's relationships, so the store keeps
one: a list of keys on a node of its own, ``(:GraphmemRecent {name, keys})`` (not on the entity, so
that users' Cypher sees entities as they were), one key per current fact of the entity, made of
the fact's ``valid_from`` (fixed width, so that keys sort as steps do) and its id
(``KEY_ID_AT``). Every graphmem write keeps it in the same atomic query: a write lists the current
facts it wrote and unlists the retired ones (``append_recent``), a retirement unlists its facts
(``falkor_writes.RETIRE``), a deletion its doomed ones and an entity left without facts its list
(``falkor_writes.DELETE_SOURCE``); each list keeps its last ``RECENT_FACTS`` keys. A bulk load
makes the lists once at its end instead (``remake_recent``).

An entity whose list holds at least ``limit`` keys is a hub: its candidates are the facts of its
``limit`` greatest keys, read by id from their vector nodes with no relationship read at all,
plus the queries' nearest facts that touch it (``hub_query``). Any other entity is walked as before.
So the candidates are the walk's wherever a list holds its entity's newest current facts: always,
unless more than ``RECENT_FACTS`` facts of the entity were written after one that is still among
its ``limit`` newest (facts written far out of step order), or facts were changed by Cypher of
one's own rather than by graphmem's writes. A list made before keys existed (``ids``, stop 44's
layout) is not read: such an entity is walked until its writes list ``limit`` facts again.
"""
from __future__ import annotations

from typing import Sequence

from .server_vectors import VectorDialect, neighbour_query

RECENT_FACTS = 1024  # keys kept per entity: twice recall's hub_scan (512), room for facts written late
RECENT_BATCH = 5000  # entities listed per query at the end of a bulk load
RECENT = "GraphmemRecent"  # the label of the lists' nodes (an index on name: ``FalkorStore``'s schema)
# A key: valid_from plus 2^62 as 19 digits (step numbers from -3.6e18 to 4.6e18 sort as their
# text), then "|" and the fact's id, which starts at KEY_ID_AT.
KEY_OFFSET = 2 ** 62
KEY_ID_AT = 20
# Whether the entity ``name``, its list bound as ``l`` (null where it has none), is a hub.
IS_HUB = "size(coalesce(l.keys, [])) >= $limit"


def fact_key(fact: str) -> str:
    """The Cypher expression of the relationship ``fact``'s key in its endpoints' lists."""
    return f"toString({fact}.valid_from + {KEY_OFFSET}) + '|' + {fact}.id"


def key_of(valid_from: int, fact_id: str) -> str:
    """The key ``fact_key`` gives a fact of ``valid_from`` and ``fact_id``, made by the client."""
    return f"{valid_from + KEY_OFFSET}|{fact_id}"


def key_id(key: str) -> str:
    """The Cypher expression of the fact id in the list key ``key``."""
    return f"substring({key}, {KEY_ID_AT})"


def unlisted(keys: str, ids: str) -> str:
    """The Cypher expression of the list ``keys`` without the keys of the facts ``ids``."""
    return f"[k IN {keys} WHERE NOT {key_id('k')} IN {ids}]"


def append_recent(keep: int) -> str:
    """The write stage that lists, for each endpoint of the facts ``$rows`` wrote (``rows[].id``),
    those now current (oldest first: valid_from, then id) and unlists the others, each list keeping
    its last ``keep`` keys (a query goes on after ``WITH count(*) AS _``). It reads the facts as the
    write left them, so one that stayed retired (another client's retirement, kept by a merge) is
    not listed."""
    # Aliases of its own: FalkorDB 4.16 crashed on this stage's MATCH where it reused the write's
    # (row, s, r, o) after the write's WITH, with the relationship index in place (seen).
    return ("WITH count(*) AS _ UNWIND $rows AS written MATCH (ws)-[wr:REL {id: written.id}]->(wo) "
            "UNWIND [ws.name, wo.name] AS endpoint WITH DISTINCT endpoint, wr ORDER BY wr.valid_from, wr.id "
            f"WITH endpoint, collect(wr.id) AS ids, collect(CASE WHEN wr.valid_until IS NULL THEN {fact_key('wr')} END) AS now "
            f"MERGE (wl:{RECENT} {{name: endpoint}}) SET wl.keys = ({unlisted('coalesce(wl.keys, [])', 'ids')} + now)[-{int(keep)}..]")


# The write stage that unlists, per entity of ``$unlisted`` (``unlisted_rows``), its facts ``ids``
# (a query goes on after ``WITH count(*) AS _``). Per entity: a list is compared with its own facts
# only, not with every fact a write touches.
UNLIST = (f"WITH count(*) AS _ UNWIND $unlisted AS u MATCH (ul:{RECENT} {{name: u.name}}) "
          f"SET ul.keys = {unlisted('ul.keys', 'u.ids')}")


def unlisted_rows(facts: Sequence[dict], ids: set[str]) -> list[dict]:
    """``$unlisted`` for ``UNLIST``: per endpoint (``s``, ``o``) of the ``facts`` whose id is in
    ``ids``, those ids."""
    by_name: dict[str, list[str]] = {}
    for fact in facts:
        if fact["id"] in ids:
            for name in dict.fromkeys((fact["s"], fact["o"])):
                by_name.setdefault(name, []).append(fact["id"])
    return [{"name": name, "ids": found} for name, found in sorted(by_name.items())]


def remake_recent(keep: int) -> str:
    """The write that makes the list of each entity of ``$names`` afresh from its current facts,
    keeping the newest ``keep``: a bulk load's end. Appending per batch slowed a bulk load to ~0.7x
    (100,000 facts: 7,522-7,849 against 9,875-11,371 facts/s, same server); listing once at the
    end, ~0.9x (8,397-10,454 against 10,555-11,036)."""
    return ("UNWIND $names AS name MATCH (n:Entity {name: name})-[r:REL]-() WHERE r.valid_until IS NULL "
            "WITH DISTINCT name, r ORDER BY r.valid_from, r.id "
            f"WITH name, collect({fact_key('r')}) AS keys MERGE (l:{RECENT} {{name: name}}) "
            f"SET l.keys = keys[-{int(keep)}..]")


def hub_query(dialect: VectorDialect) -> str:
    """Per hub of ``$names`` (an entity whose list holds at least ``$limit`` keys; the others give
    no row): the facts of its ``$limit`` greatest keys, and the current facts of ``$pool`` that
    touch it, each with its best similarity to ``$qs`` where it is at least ``$min_score``. The listed facts are read from their vector
    nodes alone: the list holds current facts only."""
    return (f"UNWIND $names AS name MATCH (l:{RECENT} {{name: name}}) WHERE {IS_HUB} "
            "UNWIND l.keys AS k WITH name, k ORDER BY k DESC "
            f"WITH name, [k IN collect(k)[..$limit] | {key_id('k')}] AS newest "
            # An empty pool would end every row at the UNWIND: one null keeps them.
            "UNWIND CASE WHEN size($pool) = 0 THEN [null] ELSE $pool END AS pid "
            "OPTIONAL MATCH ()-[p:REL {id: pid}]->() "
            "WHERE p.valid_until IS NULL AND (startNode(p).name = name OR endNode(p).name = name) "
            "WITH name, newest, collect(p.id) AS near "
            f"WITH {dialect.query_vectors()} AS qs, name, newest + [x IN near WHERE NOT x IN newest] AS cands "
            "UNWIND cands AS fid MATCH (v:FactVec {id: fid}) WITH qs, name, fid, v.embedding AS vec "
            f"WITH name, fid, {dialect.best_similarity('vec')} AS score WHERE score >= $min_score "
            "RETURN name, fid AS id, score")


def expansion_query(dialect: VectorDialect, fact_vector: str) -> str:
    """Recall's expansion in one round trip: ``hub_query`` for the hubs of ``$names``, and the walk
    (``server_vectors.neighbour_query``) for the others, those whose list holds fewer than
    ``$limit`` keys or who have none."""
    others = (f"UNWIND $names AS name OPTIONAL MATCH (l:{RECENT} {{name: name}}) "
              f"WITH name, l WHERE NOT {IS_HUB} WITH name ")
    return hub_query(dialect) + " UNION ALL " + neighbour_query(dialect, fact_vector, others)
