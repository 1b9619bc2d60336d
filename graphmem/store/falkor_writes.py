"""The FalkorDB store's writes. FalkorDB has no multi-statement transactions, but each query is
atomic, so every write is one query wherever it can be (stages joined by ``WITH count(*)``, which
keeps one row flowing whatever the stage matched). Vectors go to vector nodes of their own
(``falkor_layout``), stored as ``vecf32`` so that the server's vector indexes hold them; they read
back as the float32 values written. A row's vector comes as whole numbers and a scale
(``falkor_params.exact_vector``), multiplied back here."""
from __future__ import annotations

from .falkor_layout import count_dead, write_vectors
from .falkor_recent import RECENT, UNLIST, unlisted

# Insert or replace triples (``bolt_layout.triple_row`` rows, one per id) with their entities and
# vectors: drop any old copy by id (its endpoints may differ), then create; the vector node stays
# where the vector is the same. $names: every endpoint's name. A row with ``added`` (a batch's
# decision on a triple it read: the sources it added since) is applied to the copy the server
# holds now instead, in this same atomic query, so that what another client wrote since the read
# stays: that copy's sources plus the added ones, and its retirement if it was retired meanwhile.
# ``triples_without_vectors`` leaves the vector nodes to a bulk load, which gives its rows and names
# as clauses that read them from staging nodes (``falkor_bulk``).
def triples_without_vectors(names: str = "UNWIND $names AS name", rows: str = "UNWIND $rows AS row") -> str:
    return (
        f"{names} MERGE (:Entity {{name: name}}) "
        "WITH count(*) AS _ "
        f"{rows} OPTIONAL MATCH ()-[old:REL {{id: row.id}}]->() "
        "WITH row, old, old IS NOT NULL AND row.added IS NOT NULL AS merged, old.sources AS was, "
        "old.valid_until AS until, old.retired_by AS by "
        "FOREACH (x IN CASE WHEN old IS NULL THEN [] ELSE [old] END | DELETE x) "
        "WITH row, CASE WHEN merged THEN was + [x IN row.added WHERE NOT x IN was] ELSE row.sources END AS sources, "
        "merged AND until IS NOT NULL AS stays_retired, until, by "
        "MATCH (s:Entity {name: row.s}), (o:Entity {name: row.o}) "
        "CREATE (s)-[:REL {id: row.id, relation: row.relation, valid_from: row.valid_from, "
        "valid_until: CASE WHEN stays_retired THEN until ELSE row.valid_until END, sources: sources, "
        "retired_by: CASE WHEN stays_retired THEN by ELSE row.retired_by END}]->(o)"
    )


WRITE_TRIPLES = triples_without_vectors() + " WITH count(*) AS _ " + write_vectors("FactVec")

# Appended to WRITE_TRIPLES when some row has no vector: the mark that a scan for such triples is
# due (``FalkorStore.triples_without_vectors``), so that opening a memory scans nothing otherwise.
UNEMBEDDED_FLAG = "MERGE (:GraphmemFlag {key: 'unembedded'})"
MARK_UNEMBEDDED = " WITH count(*) AS _ " + UNEMBEDDED_FLAG
MARKED_UNEMBEDDED = "MATCH (f:GraphmemFlag {key: 'unembedded'}) RETURN count(f) AS n"
# Drops the mark where no triple without a vector is left (checked in the same atomic query, so a
# vectorless triple written meanwhile keeps it).
WITHOUT_VECTOR = "MATCH (s)-[r:REL]->(o) OPTIONAL MATCH (fv:FactVec {id: r.id}) WITH s, r, o, fv WHERE fv IS NULL "
UNMARK_UNEMBEDDED = (WITHOUT_VECTOR + "WITH count(r) AS n WHERE n = 0 "
                     "MATCH (f:GraphmemFlag {key: 'unembedded'}) DELETE f")

# Retires the current triples of $ids and unlists them from their endpoints' lists of newest
# current facts (``falkor_recent``); returns the ids it retired.
RETIRE = ("MATCH (s)-[r:REL]->(o) WHERE r.id IN $ids AND r.valid_until IS NULL "
          "SET r.valid_until = $step, r.retired_by = $by "
          "WITH r, [s.name, o.name] AS ends UNWIND ends AS name "
          "WITH name, collect(DISTINCT r.id) AS gone "  # per entity: its list is compared with its own
          f"OPTIONAL MATCH (l:{RECENT} {{name: name}}) "
          f"FOREACH (x IN CASE WHEN l IS NULL THEN [] ELSE [l] END | SET x.keys = {unlisted('x.keys', 'gone')}) "
          "WITH gone UNWIND gone AS id RETURN DISTINCT id")



def episodes_without_vectors(rows: str = "$rows") -> str:
    """Insert or replace the episodes of the parameter ``rows`` (``bolt_layout.episode_row`` rows),
    leaving their vector nodes alone."""
    return (f"UNWIND {rows} AS row MERGE (e:Episode {{id: row.id}}) "
            "SET e.step = row.step, e.text = row.text, e.title = row.title, e.triple_ids = row.triple_ids, "
            "e.meta = row.meta")


def write_episodes(rows: str = "$rows") -> str:
    """``episodes_without_vectors``, with their vectors."""
    return episodes_without_vectors(rows) + " WITH count(*) AS _ " + write_vectors("EpisodeVec", rows)


WRITE_EPISODES = write_episodes()
# Appended to WRITE_TRIPLES to write episodes ($episodes) in the same atomic query.
AND_EPISODES = " WITH count(*) AS _ " + write_episodes("$episodes")

SET_EPISODE_META = "MATCH (e:Episode {id: $id}) SET e.meta = $meta RETURN count(e) AS n"

SET_META = "MERGE (m:GraphmemMeta {key: $key}) SET m.value = $value"

# delete_source reads the triples the source supports (SOURCE_TRIPLES), then removes in one query
# the episode, the triples only it supported ($doomed), with their vector nodes (counted dead), the
# source from the others' sources ($kept), the doomed ids from episodes, and the entities left
# without a triple ($names), with their lists of newest facts (``falkor_recent``).
SOURCE_TRIPLES = ("MATCH (s:Entity)-[r:REL]->(o:Entity) WHERE $id IN r.sources "
                  "RETURN r.id AS id, r.sources AS sources, s.name AS s, o.name AS o")
DELETE_SOURCE = (
    "OPTIONAL MATCH (e:Episode {id: $id}) DETACH DELETE e "
    "WITH count(*) AS _ "
    "OPTIONAL MATCH (ev:EpisodeVec {id: $id}) DELETE ev " + count_dead("EpisodeVec", "count(ev)") + " WITH count(*) AS _ "
    "OPTIONAL MATCH ()-[r:REL]->() WHERE r.id IN $doomed DELETE r "
    "WITH count(*) AS _ "
    "OPTIONAL MATCH (fv:FactVec) WHERE fv.id IN $doomed DELETE fv " + count_dead("FactVec", "count(fv)") + " WITH count(*) AS _ "
    "OPTIONAL MATCH ()-[r:REL]->() WHERE r.id IN $kept SET r.sources = [x IN r.sources WHERE x <> $id] "
    "WITH count(*) AS _ "
    "OPTIONAL MATCH (e:Episode) WHERE any(x IN e.triple_ids WHERE x IN $doomed) "
    "SET e.triple_ids = [x IN e.triple_ids WHERE NOT x IN $doomed] "
    + UNLIST + " WITH count(*) AS _ "
    "UNWIND $names AS name MATCH (n:Entity {name: name}) "
    "OPTIONAL MATCH (n)-[r:REL]-() WITH n, count(r) AS degree WHERE degree = 0 "
    f"OPTIONAL MATCH (l:{RECENT} {{name: n.name}}) DELETE n, l"  # with its list of newest facts
)
