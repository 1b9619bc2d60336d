"""A graph archive's triples kept as its columns, read in place: the rows the embedded store answers
from until its first write, and the row view recall scans. The columns are ``archive``'s, in its
order: id, subject, relation, object, valid_from, valid_until, has_until, vector row."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..model import Triple

_CHUNK = 65536


class TripleTable:
    """An archive's triples kept as its columns: a ``Triple`` object is made only for a row that is
    asked for, and kept, so every reader of a row gets the same object (as from a graph read whole).
    Opening a million-triple graph makes no per-triple objects beyond the id strings.

    Entities' rows (ordered by valid_from, id, as the rows are) are found through a CSR table built
    with numpy sorts on first use.
    """

    def __init__(self, strings: list[str], cols: np.ndarray, sources: np.ndarray,
                 source_ends: np.ndarray, vectors: Callable[[], np.ndarray] | None,
                 retired_by: np.ndarray | None = None):
        self.strings = strings
        self.cols = cols
        self._retired_by = retired_by  # per row: the string index of the source that retired it, or -1
        # Gives the float32 rows of the triples that have one, memory-mapped; the archive checks them
        # on the first call (``archive.InPlaceArray``), so only when a vector is first asked for.
        self.vectors = vectors
        self._sources = sources
        self._source_starts = np.r_[0, source_ends].astype(np.int64)
        self.ids: list[str] = list(map(strings.__getitem__, cols[:, 0].tolist()))
        self.row_of: dict[str, int] = dict(zip(self.ids, range(len(self.ids))))
        vec_row = cols[:, 7]
        self.vector_ids = self.ids if len(vec_row) and vec_row[0] == 0 and vec_row[-1] == len(vec_row) - 1 \
            else [self.ids[i] for i in np.flatnonzero(vec_row >= 0).tolist()]
        self._made: dict[int, Triple] = {}
        self._all: list[Triple] | None = None
        self._retired = bool(np.any(cols[:, 6]))
        self._entity_ids: dict[str, list[str]] = {}
        self._entity_rows: dict[bool, tuple[dict[str, int], np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def in_time_order(self) -> bool:
        """Rows ordered by (valid_from, id), as the writer leaves them (anything else is repaired
        by indexing the triples one by one)."""
        valid_from = self.cols[:, 4]
        step = np.diff(valid_from)
        if np.any(step < 0):
            return False
        ties = np.flatnonzero(step == 0)
        at = self.ids.__getitem__
        return all(map(str.__lt__, map(at, ties.tolist()), map(at, (ties + 1).tolist())))  # C loops

    def triple(self, row: int) -> Triple:
        t = self._made.get(row)
        if t is None:
            text = self.strings
            key, subj, rel, obj, valid_from, until, has_until, vec = self.cols[row].tolist()
            a, b = self._source_starts[row:row + 2].tolist()
            t = Triple(text[subj], text[rel], text[obj], valid_from, until if has_until else None,
                       [text[i] for i in self._sources[a:b].tolist()], text[key])
            if vec >= 0:
                assert self.vectors is not None  # a row has a vector only in a table with vectors
                t.embedding = self.vectors()[vec]
            if self._retired_by is not None and self._retired_by[row] >= 0:
                t.retired_by = text[int(self._retired_by[row])]
            self._made[row] = t
        return t

    def all(self) -> list[Triple]:
        """Every triple, in row order (made in bulk; rows made before keep their objects)."""
        if self._all is None:
            text = self.strings.__getitem__
            bounds = self._source_starts.tolist()
            flat = list(map(text, self._sources.tolist()))
            out: list[Triple] = []
            for start in range(0, len(self.cols), _CHUNK):  # in chunks: a million rows as ints cost ~300 MB
                block = self.cols[start:start + _CHUNK]
                subj, rel, obj = (list(map(text, block[:, c].tolist())) for c in (1, 2, 3))
                # numpy's stubs refuse None as a branch of where; numpy takes it as an object scalar.
                until = np.where(block[:, 6] != 0, block[:, 5].astype(object), None).tolist()  # type: ignore[call-overload]
                srcs = [flat[bounds[i]:bounds[i + 1]] for i in range(start, start + len(block))]
                # map() runs the constructor from C: a third faster than a Python loop over rows.
                out += map(Triple, subj, rel, obj, block[:, 4].tolist(), until, srcs,
                           self.ids[start:start + len(block)])
            if self.vectors is not None:
                rows = np.flatnonzero(self.cols[:, 7] >= 0).tolist()
                for row, vec in zip(rows, self.vectors()):
                    out[row].embedding = vec
            if self._retired_by is not None:
                for row in np.flatnonzero(self._retired_by >= 0).tolist():
                    out[row].retired_by = text(int(self._retired_by[row]))
            for row, t in self._made.items():
                out[row] = t
            self._all = out
        return self._all

    def current_rows(self) -> np.ndarray:
        return np.flatnonzero(self.cols[:, 6] == 0)

    def retired_ids(self) -> list[str]:
        return [self.ids[r] for r in np.flatnonzero(self.cols[:, 6] != 0).tolist()]

    def entity_rows(self, name: str, current_only: bool) -> np.ndarray:
        """Rows of the triples touching ``name``, ordered by (valid_from, id)."""
        index, starts, rows = self._entities(current_only)
        k = index.get(name)
        return rows[starts[k]:starts[k + 1]] if k is not None else rows[:0]

    def newest_rows(self, name: str, limit: int) -> np.ndarray:
        return newest(self.entity_rows(name, current_only=True), limit)

    def entity_ids(self, name: str) -> list[str]:
        """Ids of the current triples touching ``name``, in time order (kept: recall asks for the
        same entities again and again)."""
        ids = self._entity_ids.get(name)
        if ids is None:
            ids = self._entity_ids[name] = list(map(self.ids.__getitem__,
                                                   self.entity_rows(name, current_only=True).tolist()))
        return ids

    def entity_names(self, current_only: bool = False) -> list[str]:
        return list(self._entities(current_only)[0])

    def _entities(self, current_only: bool) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """(name -> k, starts, rows): entity k's rows are rows[starts[k]:starts[k + 1]]."""
        if current_only and not self._retired:
            current_only = False  # nothing retired: one table serves both
        found = self._entity_rows.get(current_only)
        if found is None:
            cols = self.cols
            rows = self.current_rows() if current_only else np.arange(len(cols))
            subj, obj = cols[rows, 1], cols[rows, 3]
            other = obj != subj  # a self-loop is listed once
            ent = np.concatenate([subj, obj[other]])
            rows = np.concatenate([rows, rows[other]])
            order = np.lexsort((rows, ent))
            ent, rows = ent[order], rows[order]
            starts = np.flatnonzero(np.r_[True, ent[1:] != ent[:-1]]) if len(ent) else np.zeros(0, np.int64)
            names = map(self.strings.__getitem__, ent[starts].tolist())
            found = (dict(zip(names, range(len(starts)))), np.r_[starts, len(ent)], rows)
            self._entity_rows[current_only] = found
        return found

    def adjacency(self, current_only: bool) -> dict[str, list[str]]:
        """Entity name -> ids of its triples in row order (by valid_from, id)."""
        index, starts, rows = self._entities(current_only)
        ids = list(map(self.ids.__getitem__, rows.tolist()))
        bounds = starts.tolist()
        return dict(zip(index, (ids[a:b] for a, b in zip(bounds, bounds[1:]))))


def newest(items, limit: int | None):
    """The last ``limit`` items (all for None) of a list or array in time order, newest first."""
    return (items if limit is None else items[len(items) - min(limit, len(items)):])[::-1]
