"""The embedded store's triples as Python objects, with the indices its reads and writes need.

Each entity's triples are kept in lists ordered by (valid_from, id), all of them and the current
ones apart, so a hub's newest facts are read without touching the rest; each fact knows its current
triple, so an update finds the one it supersedes at once. Loading a million facts runs through
``add`` alone: its loop makes no calls into other objects.
"""
from __future__ import annotations

import bisect
from operator import attrgetter
from typing import Collection, Iterable

from ..model import Triple
from .triple_table import TripleTable


class TripleIndex:
    """Triples by id, by entity (in time order) and by fact (the current one)."""

    def __init__(self) -> None:
        self._triples: dict[str, Triple] = {}
        self._adj: dict[str, list[str]] = {}  # entity -> ids of its triples by (valid_from, id)
        self._live: dict[str, list[str]] = {}  # the same for current triples only
        self._current: dict[tuple[str, str, str], str] = {}  # fact -> id of its current triple
        # Facts usually arrive in time order. No list holds a triple newer than _front, and those
        # holding one at _front are in _at_front (by id(); None: unknown), so a fact at _front or
        # newer goes to the end of the other lists without reading their last triple.
        self._front = -(1 << 62)
        self._at_front: set[int] | None = set()
        self._sorted: list[Triple] | None = []  # all triples by (valid_from, id); None: stale

    @classmethod
    def of_table(cls, table: TripleTable) -> TripleIndex:
        """An archive's triples (in time order) indexed in bulk, from its columns' own entity table
        rather than one triple at a time; the objects the table handed out already are kept."""
        index = cls()
        triples = table.all()
        index._triples = dict(zip(table.ids, triples))
        live = [t for t in triples if t.valid_until is None]
        index._current = dict(zip(map(attrgetter("subject", "relation", "object"), live),
                                  map(attrgetter("id"), live)))
        index._adj = table.adjacency(current_only=False)
        index._live = table.adjacency(current_only=True) if len(live) < len(triples) else \
            {name: list(ids) for name, ids in index._adj.items()}
        index._front, index._at_front = max((t.valid_from for t in triples), default=index._front), None
        index._sorted = list(triples)
        return index

    # --- writes --------------------------------------------------------------------------------
    def add(self, triples: list[Triple]) -> None:
        """Insert or replace by id."""
        if triples:
            self._sorted = None
        for t in triples:
            old = self._triples.get(t.id)
            if old is not None and self._linked_alike(old, t):
                self._triples[t.id] = t  # e.g. a fact told again by another source: no list moves
                continue
            if old is not None:
                self._drop(old)
            self._triples[t.id] = t
            if t.current:
                self._link(t, self._adj, self._live)
                self._current[_fact(t)] = t.id
            else:
                self._link(t, self._adj)

    def retire(self, triple_ids: Iterable[str], step: int, by: str | None) -> list[str]:
        """Set ``valid_until`` (and ``retired_by``) on the current ones among ``triple_ids``;
        returns their ids."""
        done = []
        for tid in triple_ids:
            t = self._triples.get(tid)
            if t is None or not t.current:
                continue
            t.valid_until, t.retired_by = step, by
            self._unlink(t, self._live)
            self._current.pop(_fact(t), None)
            done.append(tid)
        return done

    def delete_source(self, source_id: str) -> list[str]:
        """Take ``source_id`` out of every triple's sources and drop the triples left with none;
        returns the dropped ids, sorted."""
        deleted = []
        for t in list(self._triples.values()):
            if source_id not in t.sources:
                continue
            t.sources = [s for s in t.sources if s != source_id]
            if t.sources:
                continue
            del self._triples[t.id]
            self._drop(t)
            deleted.append(t.id)
        if deleted:
            self._sorted = None
        return sorted(deleted)

    def _linked_alike(self, old: Triple, new: Triple) -> bool:
        """Whether ``new`` would sit in exactly the lists that hold ``old``, which is current and
        linked as such (the usual re-add: only its sources changed). Unlinking searches an entity's
        whole list, and a hub's holds tens of thousands of ids."""
        return (new.current and new.valid_from == old.valid_from and new.subject == old.subject
                and new.object == old.object and self._current.get(_fact(new)) == old.id)

    def _order(self, triple_id: str) -> tuple[int, str]:
        t = self._triples[triple_id]
        return t.valid_from, t.id

    def _link(self, t: Triple, *adjs: dict[str, list[str]]) -> None:
        """Add ``t`` to its entities' lists in each of ``adjs``."""
        if t.valid_from > self._front:
            self._front, self._at_front = t.valid_from, set()
        at_front = self._at_front if t.valid_from == self._front else None
        names = (t.subject,) if t.subject == t.object else (t.subject, t.object)
        for adj in adjs:
            for name in names:
                ids = adj.get(name)
                if ids is None:
                    adj[name] = ids = [t.id]
                elif at_front is not None and id(ids) not in at_front:
                    ids.append(t.id)  # the usual case (time order), at a million triples a cache miss less
                else:
                    last = self._triples[ids[-1]]
                    if last.valid_from < t.valid_from or last.valid_from == t.valid_from and last.id <= t.id:
                        ids.append(t.id)
                    else:
                        bisect.insort(ids, t.id, key=self._order)
                if at_front is not None:
                    at_front.add(id(ids))

    def _drop(self, t: Triple) -> None:
        """Take ``t`` out of every list and, if it is its fact's current triple, out of that too."""
        self._unlink(t, self._adj)
        self._unlink(t, self._live)
        if self._current.get(_fact(t)) == t.id:
            del self._current[_fact(t)]

    @staticmethod
    def _unlink(t: Triple, adj: dict[str, list[str]]) -> None:
        """Drop ``t`` from the lists of its entities, where it is (a caller may have retired the
        object it passes back in place)."""
        for name in dict.fromkeys((t.subject, t.object)):
            ids = adj.get(name)
            if ids is not None and t.id in ids:
                ids.remove(t.id)
                if not ids:
                    del adj[name]

    # --- reads ---------------------------------------------------------------------------------
    def get(self, triple_id: str) -> Triple | None:
        return self._triples.get(triple_id)

    def ordered(self) -> list[Triple]:
        """All triples by (valid_from, id): the list kept, not a copy."""
        if self._sorted is None:
            self._sorted = sorted(self._triples.values(), key=lambda t: (t.valid_from, t.id))
        return self._sorted

    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        tid = self._current.get((subject, relation, obj))
        return None if tid is None else self._triples[tid]

    def of_entity(self, entity: str, current_only: bool) -> list[Triple]:
        """Triples touching ``entity``, by (valid_from, id)."""
        adj = self._live if current_only else self._adj
        return [self._triples[i] for i in adj.get(entity, ())]

    def current_ids(self, entity: str) -> list[str]:
        """Ids of the current triples touching ``entity``, by (valid_from, id): the list kept."""
        return self._live.get(entity, [])

    def entity_names(self) -> Collection[str]:
        return self._adj.keys()

    def __len__(self) -> int:
        return len(self._triples)

    def count_current(self) -> int:
        return len(self._current)


def _fact(t: Triple) -> tuple[str, str, str]:
    return t.subject, t.relation, t.object
