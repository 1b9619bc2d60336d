"""The Bolt store's writes: each function is the body of one transaction (``work(tx)``), several
statements that commit together or not at all. They are shaped by what servers were measured to do
fast; portable Cypher only, values always as parameters."""
from __future__ import annotations

from typing import Any, Iterable

# Rows per UNWIND statement: large enough to amortise round trips, small enough for any server's
# parameter limits. All chunks of one call still share one transaction.
CHUNK = 2000


def _chunks(rows: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def write_triples(tx: Any, rows: list[dict]) -> None:
    """Insert or replace triples (``bolt_layout.triple_row`` rows, one per id), with their entities."""
    names = sorted({r["s"] for r in rows} | {r["o"] for r in rows})
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
            "sources: row.sources, embedding: row.embedding, retired_by: row.retired_by}]->(o)",
            rows=chunk,
        ).consume()


def retire_triples(tx: Any, ids: list[str], step: int, by: str | None) -> set[str]:
    """Set ``valid_until`` (and ``retired_by``) on the current ones among ``ids``; returns their ids."""
    result = tx.run(
        "MATCH ()-[r:REL]->() WHERE r.id IN $ids AND r.valid_until IS NULL "
        "SET r.valid_until = $step, r.retired_by = $by RETURN r.id AS id", ids=ids, step=int(step), by=by)
    return {rec["id"] for rec in result}


def write_episodes(tx: Any, rows: list[dict]) -> None:
    """Insert or replace episodes (``bolt_layout.episode_row`` rows)."""
    for chunk in _chunks(rows):
        tx.run(
            "UNWIND $rows AS row MERGE (e:Episode {id: row.id}) "
            "SET e.step = row.step, e.text = row.text, e.title = row.title, "
            "e.triple_ids = row.triple_ids, e.embedding = row.embedding, e.meta = row.meta",
            rows=chunk,
        ).consume()


def set_episode_meta(tx: Any, episode_id: str, meta: str | None) -> bool:
    """Set one episode's ``meta`` property (``bolt_layout.meta_property``); whether it is there."""
    found = tx.run("MATCH (e:Episode {id: $id}) SET e.meta = $meta RETURN count(e) AS n",
                   id=episode_id, meta=meta).single()
    return bool(found and found["n"])


def delete_source(tx: Any, source_id: str) -> list[str]:
    """Remove the episode or passage ``source_id`` and the triples only it supported, and take it
    out of the others' sources; returns the deleted triples' ids, sorted."""
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
