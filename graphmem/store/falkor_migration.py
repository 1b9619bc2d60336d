"""Graphs written by the FalkorDB store's first layout, which kept each vector as a property of its
``[:REL]`` relationship or ``(:Episode)`` node, in vector indexes over those: opening one moves the
vectors to vector nodes (``falkor_layout``), once, since a search of the old indexes goes short as
soon as triples change.

The vectors are read in batches and each batch is written to vector nodes, its properties cleared,
in one atomic query; the old indexes are dropped when none is left. So a move cut short goes on at
the next open (the old index is still there to say so), and two clients opening at once move the
same batch twice at worst, which writes each vector node once (``write_vectors`` keeps an equal one).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from .falkor_layout import write_vectors
from .falkor_params import with_vector

if TYPE_CHECKING:
    from .falkor import FalkorStore

log = logging.getLogger(__name__)

BATCH = 2000  # vectors read and written per round trip


# Per kind: the old index's entity type and label, the pattern that drops it, the entities that held
# the vectors (bound as x), and the query that moves a batch of $rows to vector nodes.
OLD_LAYOUT = {
    "triples": ("RELATIONSHIP", "REL", "()-[x:REL]-()", "MATCH ()-[x:REL]->()",
                "UNWIND $rows AS row MATCH ()-[x:REL {id: row.id}]->() SET x.embedding = NULL "
                "WITH count(*) AS _ " + write_vectors("FactVec")),
    "episodes": ("NODE", "Episode", "(x:Episode)", "MATCH (x:Episode)",
                 "UNWIND $rows AS row MATCH (x:Episode {id: row.id}) SET x.embedding = NULL "
                 "WITH count(*) AS _ " + write_vectors("EpisodeVec")),
}


def migrate_vectors_to_nodes(store: "FalkorStore") -> int:
    """Move the vectors of ``store``'s graph to vector nodes where it has the old layout's indexes;
    how many were moved (0, after one query, for a graph in today's layout)."""
    old = {(entity, label) for entity, label, _ in store.vector_indexes()}
    moved = 0
    for kind, (entity, label, pattern, holders, move) in OLD_LAYOUT.items():
        if (entity, label) not in old:
            continue
        log.warning("%s: moving the %s vectors of graph %r to vector nodes (the earlier layout); this "
                    "happens once", store, kind, store.graph)
        while True:
            recs = store._read(f"{holders} WHERE x.embedding IS NOT NULL "
                               "RETURN x.id AS id, x.embedding AS embedding LIMIT $n",
                               f"reading {kind} vectors to move", n=BATCH)
            if not recs:
                break
            rows = [with_vector({"id": r["id"]}, np.asarray(r["embedding"], dtype=np.float32)) for r in recs]
            store._index_vectors(kind, rows)
            store._write(move, f"moving {len(rows)} {kind} vectors to vector nodes", rows=rows)
            moved += len(rows)
        store._write(f"DROP VECTOR INDEX FOR {pattern} ON (x.embedding)", f"dropping the old {kind} vector index")
    return moved
