"""Which facts each change of a served graph touched, so that what a reader derives from the graph
(the reference tools' view of it) follows a write at the cost of what the write changed, rather
than being read again whole.

``ChangeLog`` numbers the changes (``version``) and keeps, for each of the last ``MAX_KEPT``, the
ids of the facts it added, retired, deleted or made current again, learnt from the memory's write
events (it is a ``WriteListener``). A change made past the write path (the graph read again from
its file, an import, a Cypher write) is marked unknown: a reader then derives everything again.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

from .writer import ObserveResult

MAX_KEPT = 256  # changes remembered; a reader further behind derives everything again


class ChangeLog:
    def __init__(self) -> None:
        self.version = 0
        self._touched: OrderedDict[int, set[str] | None] = OrderedDict()

    def begin(self, known: bool = True) -> None:
        """A new change; ``known``: whether the write events will tell all it touches."""
        self.version += 1
        self._touched[self.version] = set() if known else None
        while len(self._touched) > MAX_KEPT:
            self._touched.popitem(last=False)

    def since(self, version: int) -> set[str] | None:
        """The ids of the facts touched by the changes after ``version`` (empty: none), or None
        when one of them is unknown or forgotten."""
        if version == self.version:
            return set()
        if version + 1 not in self._touched:
            return None
        out: set[str] = set()
        for v in range(version + 1, self.version + 1):
            ids = self._touched[v]
            if ids is None:
                return None
            out |= ids
        return out

    def _note(self, ids) -> None:
        touched = self._touched.get(self.version)
        if touched is not None:
            touched.update(ids)

    # --- the memory's write events --------------------------------------------------------------
    def written(self, results: Sequence[ObserveResult]) -> None:
        for r in results:
            self._note(t.id for t in r.added)
            self._note(r.retired)

    def forgotten(self, source_ids: Sequence[str], deleted: Sequence[str], restored: Sequence[str] = ()) -> None:
        self._note(deleted)
        self._note(restored)

    def reloaded(self) -> None:
        self.begin(known=False)
