"""A bulk load into a FalkorDB graph that held no facts when it began: its triples go to the server
as relationships in binary (``falkor_bulk.relationships`` through ``GRAPH.BULK``), between entity
nodes whose ids the client keeps for the load, so that no Cypher reads or writes a triple; their
vector nodes are made without looking for older ones; and the client makes the entities' lists of
newest facts (``falkor_recent``) itself and sends them in binary at the load's end (unless the load
retires facts: Cypher then makes them all, as for any bulk load).

Why: a staged batch's write query (``FalkorStore._write_staged``) looks each triple's endpoints up
by name in the entity index, looks for an older copy of it and of its vector node by id, and
creates it: at 200,000 facts about 120 ms of the query's 220 ms per 5,000 facts (profiled on the
2-core machine); remaking the lists at the end by Cypher took another 12 µs a fact.

When it holds: in a graph without facts, fact vectors or lists (``EMPTY``), a triple id the load
has not written has no older copy to replace, so a batch of such ids (and no decision on a read:
``added``) is created outright; any other batch goes the staged way, which is right in every case,
and the entities it touches get their lists from Cypher. ``GRAPH.BULK`` takes the endpoints as the
server's internal node ids, which it hands out again once a node is deleted; the ids come from the
server in the load itself (``NAME_IDS``), and stay right while no entity is deleted: this client
stops taking the fast way at its own first deletion, Cypher write or failed batch
(``FalkorStore``), and other clients must not delete sources of the graph during the load (a bulk
load is a maintenance step already: it drops the vector indexes until its end).
"""
from __future__ import annotations

from .falkor_recent import RECENT, key_of

# The stage that makes sure the entities $names exist and gives their node ids.
NAME_IDS = "UNWIND $names AS name MERGE (e:Entity {name: name}) RETURN name, id(e) AS id"
# Whether a graph holds no fact, fact vector or list of newest facts (no row where it does not).
EMPTY = ("OPTIONAL MATCH ()-[r:REL]->() WITH r LIMIT 1 OPTIONAL MATCH (v:FactVec) WITH r, v LIMIT 1 "
         f"OPTIONAL MATCH (l:{RECENT}) WITH r, v, l LIMIT 1 "
         "WITH r, v, l WHERE r IS NULL AND v IS NULL AND l IS NULL RETURN 1 AS empty")


class FreshLoad:
    """What a bulk load into an empty graph keeps: its entities' node ids, the ids of the facts it
    wrote, and the keys of each entity's current facts written the fast way (``falkor_recent``)."""

    def __init__(self, keep: int) -> None:
        self.keep = keep  # keys kept per list
        self.node_ids: dict[str, int] = {}
        self.written: set[str] = set()
        self.keys: dict[str, list[str]] = {}
        self.staged: set[str] = set()  # entities a staged batch touched: listed by Cypher
        self.retired = False  # a retirement during the load: every list made by Cypher

    def takes(self, rows: list[dict]) -> bool:
        """Whether a batch of ``triple_row`` rows (one per id) can be created outright."""
        return all(row["id"] not in self.written and row.get("added") is None for row in rows)

    def unknown_names(self, rows: list[dict]) -> list[str]:
        return sorted({name for row in rows for name in (row["s"], row["o"])} - self.node_ids.keys())

    def learn(self, found: list[dict]) -> None:
        """Keeps the node ids of ``NAME_IDS``'s rows."""
        self.node_ids.update((row["name"], int(row["id"])) for row in found)

    def ends(self, rows: list[dict]) -> list[tuple[int, int]]:
        return [(self.node_ids[row["s"]], self.node_ids[row["o"]]) for row in rows]

    def wrote(self, rows: list[dict], staged: bool) -> None:
        self.written.update(row["id"] for row in rows)
        if staged:
            self.staged.update(name for row in rows for name in (row["s"], row["o"]))
            return
        for row in rows:
            if row["valid_until"] is None:
                key = key_of(row["valid_from"], row["id"])
                for name in {row["s"], row["o"]}:
                    keys = self.keys.setdefault(name, [])
                    keys.append(key)
                    if len(keys) > 2 * self.keep:
                        keys[:] = sorted(keys)[-self.keep:]

    def lists(self) -> dict[str, list[str]]:
        """Each entity's list as ``falkor_recent.remake_recent`` makes it, but for the entities a
        staged batch touched; none after a retirement (the client does not know whose facts it
        retired)."""
        if self.retired:
            return {}
        return {name: sorted(keys)[-self.keep:] for name, keys in self.keys.items() if name not in self.staged}
