"""``VectorIndex``: the cosine search behind a graph's fact and episode vectors."""
from __future__ import annotations

import itertools
import json
import math
import zlib
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from .reserved import zeros_with_room

if TYPE_CHECKING:
    from .ann import ANNIndex


class VectorIndex:
    """Cosine search over a growing matrix: exact while small, approximate candidates re-ranked
    exactly once it holds ``ann_threshold`` rows or more (``graphmem.vectors.ann``). Adding is amortised
    O(1) per row; a matrix handed to an empty index (e.g. memory-mapped from a graph file) is used
    as it is until something is added.

    Rows can be deactivated (retired facts) without moving the matrix; searches skip them.
    """

    def __init__(self, dim: int, ann_threshold: int | None = None, seed: int = 0):
        self.dim = dim
        self.ann_threshold = ANN_THRESHOLD if ann_threshold is None else ann_threshold
        self.seed = seed
        self.ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._mat = np.zeros((256, dim), dtype=np.float32)
        self._active = np.zeros(256, dtype=bool)
        self._inactive = 0  # rows deactivated: while none are, searches skip the mask
        self._ann: ANNIndex | None = None  # built when first needed
        self._ann_rows = np.zeros(0, dtype=np.int64)  # the row of each ANN label (-1: gone)
        self._ann_extra: list[int] = []  # rows the ANN lacks, or holds with an older vector
        self._ann_saved = False  # the ANN equals the one in the graph file
        self._scan = TransposedCopy(dim)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, key: str) -> bool:
        return key in self._pos

    @property
    def matrix(self) -> np.ndarray:
        return self._mat[: len(self.ids)]

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        n = len(self.ids)
        if n == 0:  # the usual first add (a graph's vectors): one dict, which also tells uniqueness
            pos = dict(zip(ids, range(len(ids))))
            fresh = len(pos) == len(ids)
        else:
            pos = None
            fresh = not any(k in self._pos for k in ids) and len(set(ids)) == len(ids)
        if fresh:
            if n == 0 and not vectors.flags.writeable and vectors.flags.c_contiguous:
                self._mat = vectors  # read-only (memory-mapped): adopt it, copy once something is added
                self._active = np.ones(len(ids), dtype=bool)
            else:
                self._reserve(n + len(ids))
                self._mat[n:n + len(ids)] = vectors
                self._active[n:n + len(ids)] = True
            self.ids.extend(ids)
            self._scan_write(n, vectors)
            if pos is not None:
                self._pos = pos
            else:
                self._pos.update(zip(ids, range(n, n + len(ids))))
            if self._ann is not None:
                self._ann_extra.extend(range(n, n + len(ids)))
            return
        for key, vec in zip(ids, vectors):
            row = self._pos.get(key)
            if row is None:
                row = len(self.ids)
                self._reserve(row + 1)
                self.ids.append(key)
                self._pos[key] = row
            else:
                self._reserve(len(self.ids))
                self._inactive -= not self._active[row]  # a retired row made current again
            if self._ann is not None:
                self._ann_extra.append(row)
            self._mat[row] = vec
            self._active[row] = True
            self._scan_write(row, vec[None, :])

    def _reserve(self, rows: int) -> None:
        """Room for ``rows`` rows in a matrix this index owns and may write."""
        cap = self._mat.shape[0]
        if rows <= cap and self._mat.flags.writeable:
            return
        mat = zeros_with_room(max(rows, cap * 2 if cap < (1 << 20) else cap + cap // 4, 256), self.dim)
        n = len(self.ids)
        mat[:n] = self._mat[:n]
        active = np.zeros(len(mat), dtype=bool)
        active[:n] = self._active[:n]
        self._mat, self._active = mat, active

    def _scan_write(self, row: int, vectors: np.ndarray) -> None:
        """Full scans stop once the ANN serves searches, or past the copy's size limit."""
        self._scan.write(row, vectors, len(self.ids), min(self.ann_threshold, SCAN_COPY_ROWS))

    def deactivate(self, ids: Sequence[str]) -> None:
        for key in ids:
            row = self._pos.get(key)
            if row is not None and self._active[row]:
                self._active[row] = False
                self._inactive += 1

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """The row of each id, -1 for an id this index lacks (one pass in C: at a million rows
        every lookup misses the CPU cache, and recall looks up hundreds)."""
        return np.fromiter(map(self._pos.get, ids, itertools.repeat(-1)), dtype=np.int64, count=len(ids))

    def views(self, ids: Sequence[str]) -> list[np.ndarray]:
        """This index's vector of each id, as views of its rows (not copies), for callers to keep
        instead of vectors of their own. A view stays valid when the index later moves its rows (it
        keeps the old matrix alive, which a big index avoids: ``graphmem.vectors.reserved``)."""
        rows = self.rows(ids)
        if len(rows) and rows.min() < 0:
            raise KeyError(f"not in this index: {ids[int(np.argmin(rows))]!r}")
        if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and (np.diff(rows) == 1).all():
            return list(self._mat[rows[0]:rows[-1] + 1])  # one call for a batch of fresh rows
        return [self._mat[r] for r in rows.tolist()]

    def vector(self, key: str) -> np.ndarray | None:
        row = self._pos.get(key)
        return None if row is None else self._mat[row]

    @property
    def n_active(self) -> int:
        return int(self._active[: len(self.ids)].sum())

    def active_scores(self, query: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Every active id with its similarity to ``query``, in insertion order (a full scan)."""
        n = len(self.ids)
        sims = self._scan.scores(self.matrix, np.asarray(query, dtype=np.float32))
        active = self._active[:n]
        if active.all():
            return self.ids, sims
        keep = np.flatnonzero(active)
        return [self.ids[i] for i in keep], sims[keep]

    def search(self, query: np.ndarray, k: int, candidates: int = 0) -> list[tuple[str, float]]:
        """Top-k active (id, score), best first, ties broken by id.

        Exact below ``ann_threshold`` rows; above it, the best of the ANN's candidates (at least
        ``candidates`` of them), scored exactly.
        """
        n = len(self.ids)
        if n == 0 or k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32)
        if n >= self.ann_threshold:
            rows = self._candidates(query, max(k * ANN_OVERFETCH, ANN_MIN_CANDIDATES, candidates))
            sims = self._mat[rows] @ query
        else:
            rows = None
            sims = self._scan.scores(self.matrix, query)
            if self._inactive:
                sims[~self._active[:n]] = -np.inf
        # partition keeps this O(n); only the k best (plus ties at the edge) are sorted.
        if k < len(sims):
            kth = np.partition(sims, len(sims) - k)[len(sims) - k]
            cand = np.flatnonzero(sims >= kth)
        else:
            cand = np.arange(len(sims))
        score = dict(zip((cand if rows is None else rows[cand]).tolist(), sims[cand].tolist()))
        ranked = sorted(score, key=lambda i: (-score[i], self.ids[i]))
        return [(self.ids[i], score[i]) for i in ranked[:k] if score[i] > -math.inf]

    # --- approximate search ----------------------------------------------------------------------
    def _candidates(self, query: np.ndarray, n: int) -> np.ndarray:
        """Active rows among the ANN's ``n`` best guesses (more when many rows are retired), plus
        the rows it lacks or holds with an older vector."""
        ann = self.build_ann()
        active = self._active[: len(self.ids)]
        share = max(1.0 - self._inactive / len(self.ids), 0.05)  # counted, not a scan of a million flags
        rows = self._ann_rows[ann.search(query, min(ann.ntotal, int(n / share)))]
        rows = rows[rows >= 0]
        if self._ann_extra:
            rows = np.unique(np.concatenate([rows, np.asarray(self._ann_extra, dtype=np.int64)]))
        return rows[active[rows]]

    def build_ann(self, order: Sequence[str] | None = None):
        """The ANN over this index's rows: built when first needed, extended when the rows it
        lacks (scanned exactly meanwhile) pile up. ``order``: ids in the order a graph file keeps
        them; a new ANN takes its rows in that order, so that opening the file finds each label's
        row without looking up a million ids."""
        from .ann import ANNIndex

        n = len(self.ids)
        if self._ann is None:
            rows = np.arange(n, dtype=np.int64)
            if order is not None:
                first = np.fromiter(map(self._pos.get, order, itertools.repeat(-1)), dtype=np.int64)
                first = first[first >= 0]
                rest = np.ones(n, dtype=bool)
                rest[first] = False
                rows = np.concatenate([first, np.flatnonzero(rest)])
            self._ann = ANNIndex.build(self.matrix, self.seed, rows)
            self._ann_rows, self._ann_extra, self._ann_saved = rows, [], False
        elif len(self._ann_extra) > max(ANN_MIN_CANDIDATES, self._ann.ntotal // 10):
            rows = np.unique(np.asarray(self._ann_extra, dtype=np.int64))
            self._ann.add(self._mat, rows)
            self._ann_rows = np.concatenate([self._ann_rows, rows])
            self._ann_extra, self._ann_saved = [], False
        return self._ann

    def ann_state(self, order: Callable[[], Sequence[str]] | None = None) -> tuple[str, np.ndarray, bytes] | None:
        """(fingerprint, serialized ANN, its labels' ids as JSON) to save with the graph: when the
        index is big enough to use one and it changed since it was loaded or saved. ``order()``:
        the graph file's id order, asked for only when the ANN is built now (see build_ann)."""
        if len(self.ids) < self.ann_threshold:
            return None
        ann = self.build_ann(order() if order is not None and self._ann is None else None)
        if self._ann_saved:
            return None
        self._ann_saved = True
        labels = json.dumps([self.ids[r] for r in self._ann_rows.tolist()]).encode("utf-8")
        return self._fingerprint(labels), ann.to_bytes(), labels

    def _fingerprint(self, labels: bytes) -> str:
        from .ann import FORMAT_TAG

        return f"{FORMAT_TAG}:{self.dim}:{zlib.crc32(labels):08x}:{len(labels)}"

    def load_ann(self, fingerprint: str, data: np.ndarray, labels: bytes | np.ndarray) -> bool:
        """Use a saved ANN (``ann_state``'s parts) whose labels are ids of this index; rows it lacks
        are scanned exactly. False (rebuilt when needed) when the parts do not match."""
        from .ann import ANNIndex

        labels = bytes(labels)
        if len(self.ids) < self.ann_threshold or fingerprint != self._fingerprint(labels):
            return False
        ids = json.loads(labels)
        ann = ANNIndex.from_bytes(data)
        if ann.ntotal != len(ids):
            return False
        if ids == self.ids[: len(ids)]:  # rows in the order the ANN was built on
            rows = np.arange(len(ids), dtype=np.int64)
        else:  # e.g. a graph file orders its triples by time, the ANN by insertion
            rows = np.fromiter(map(self._pos.get, ids, itertools.repeat(-1)), dtype=np.int64, count=len(ids))
        covered = np.zeros(len(self.ids), dtype=bool)
        covered[rows[rows >= 0]] = True
        self._ann, self._ann_rows = ann, rows
        self._ann_extra, self._ann_saved = np.flatnonzero(~covered).tolist(), True
        return True


class TransposedCopy:
    """An index's rows transposed (dim x capacity), kept while searches scan them whole: a scan of
    a row-major matrix runs 3-6x slower in OpenBLAS (one thread, or two on a busy machine). Made on
    the first scan, up to SCAN_COPY_ROWS rows; past that, a scan is rare (the ANN serves searches)
    and a second copy of a big matrix is not worth its memory."""

    def __init__(self, dim: int):
        self.dim = dim
        self._copy: np.ndarray | None = None

    def scores(self, matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
        """``query``'s similarity with every row of ``matrix`` (the index's rows)."""
        n = len(matrix)
        if n > SCAN_COPY_ROWS:
            return matrix @ query
        if self._copy is None:
            self._copy = np.zeros((self.dim, max(n, 256)), dtype=np.float32)
            self._copy[:, :n] = matrix.T
        return query @ self._copy[:, :n]

    def write(self, row: int, vectors: np.ndarray, n_rows: int, limit: int) -> None:
        """Keep the copy in step with rows written at ``row`` onwards (the index now holds ``n_rows``);
        drop it once it holds ``limit`` rows, where searches stop scanning."""
        if self._copy is None:
            return
        if n_rows >= limit:
            self._copy = None
            return
        end = row + len(vectors)
        if end > self._copy.shape[1]:
            grown = np.zeros((self.dim, max(end, 2 * self._copy.shape[1])), dtype=np.float32)
            grown[:, :row] = self._copy[:, :row]
            self._copy = grown
        self._copy[:, row:end] = vectors.T


# Past this many rows a full scan costs more than ANN candidates plus an exact re-rank (measured in
# scripts/bench_recall.py: ~2 ms a scan at 20k rows of 384 floats on 2 cores).
ANN_THRESHOLD = 20_000
SCAN_COPY_ROWS = 1 << 16  # full scans read a transposed copy up to this many rows (100 MB at 384 dims)
ANN_OVERFETCH = 16        # ANN candidates per result wanted...
ANN_MIN_CANDIDATES = 256  # ...and at least this many (recall is set by graphmem.vectors.ann.SEARCH_EFFORT)
