"""Approximate nearest-neighbour candidates for big vector indexes (faiss HNSW over 8-bit codes).

``VectorIndex`` scans every row exactly while it is small; past a size threshold it asks this index
for a few hundred candidate rows and re-ranks them exactly against its float32 matrix, so scores and
order are exact among the candidates and only the candidate set is approximate.

Why HNSW over 8-bit scalar-quantised codes (measured on 100k benchmark vectors, 2 cores, see
``scripts/bench_recall.py``): recall@10 0.99 after re-ranking at ~1 ms a query, where an IVF
index (faiss IVF-SQ8, sqrt(n) lists) reached 0.76-0.90 probing 4-16 % of its lists: triple vectors
mix two entities, so one entity's facts fall into many clusters. Codes take one byte per dimension
(a quarter of the float32 matrix) plus ~128 bytes of links per row; rows are added incrementally;
the index serialises to one blob saved with the graph. Its price is building: ~0.3 ms of CPU a
row, paid when the index first needs it (a search or a save), not while loading triples.
Builds run on one thread so that the same rows give the same graph (deterministic results).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np

LINKS = 16            # HNSW neighbours per node (M)
BUILD_EFFORT = 64     # efConstruction
SEARCH_EFFORT = 384   # efSearch: recall@10 at 1M rows 0.970 / 0.983 / 0.989 / 0.991 for 128 / 256 / 384 / 512
#                       (1.9 / 2.6 / 3.1 / 3.8 ms a search, measured); faiss does not widen it for a larger k
TRAIN_ROWS = 20_000   # rows that set the 8-bit codes' ranges (a seeded sample)
FORMAT_TAG = "hnsw-sq8-v1"


def _faiss():
    import faiss

    return faiss


@contextmanager
def _one_thread() -> Iterator[None]:
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


class ANNIndex:
    """Candidate search over labels 0..ntotal-1 (rows in the order added) of unit vectors."""

    def __init__(self, index, borrowed: np.ndarray | None = None):
        self._index = index
        self._borrowed = borrowed  # the bytes a read-in-place index points into
        index.hnsw.efSearch = SEARCH_EFFORT

    @classmethod
    def build(cls, matrix: np.ndarray, seed: int = 0, rows: np.ndarray | None = None) -> "ANNIndex":
        """``rows``: the matrix rows to add, in label order (default: all, in order)."""
        faiss = _faiss()
        n, dim = matrix.shape
        index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, LINKS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = BUILD_EFFORT
        sample = np.sort(np.random.default_rng(seed).choice(n, size=min(n, TRAIN_ROWS), replace=False))
        index.train(np.ascontiguousarray(matrix[sample], dtype=np.float32))
        ann = cls(index)
        ann.add(matrix, rows)
        return ann

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def add(self, matrix: np.ndarray, rows: np.ndarray | None = None, chunk: int = 65536) -> None:
        """Add the matrix's ``rows`` (default: all) as the next labels, in chunks: the matrix may be
        memory-mapped."""
        if self._borrowed is not None:  # read in place from a file: take a copy of its own first
            self._index = _faiss().deserialize_index(self._borrowed)
            self._index.hnsw.efSearch = SEARCH_EFFORT
            self._borrowed = None
        total = len(matrix) if rows is None else len(rows)
        with _one_thread():
            for start in range(0, total, chunk):
                part = matrix[start:start + chunk] if rows is None else matrix[rows[start:start + chunk]]
                self._index.add(np.ascontiguousarray(part, dtype=np.float32))

    def search(self, query: np.ndarray, n: int) -> np.ndarray:
        """Labels of up to ``n`` candidates for ``query`` (approximately the best first)."""
        _, labels = self._index.search(np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), n)
        labels = labels[0]
        return labels[labels >= 0]

    def to_bytes(self) -> np.ndarray:
        return _faiss().serialize_index(self._index)

    @classmethod
    def from_bytes(cls, data: np.ndarray) -> "ANNIndex":
        """The index serialised in ``data``, read in place: its codes stay in ``data`` (memory-mapped
        from a graph file: 0.04 s instead of 1.9 s to copy a million rows), which it keeps alive."""
        faiss = _faiss()
        data = np.ascontiguousarray(data, dtype=np.uint8)
        reader = faiss.ZeroCopyIOReader(faiss.swig_ptr(data), data.nbytes)
        return cls(faiss.read_index(reader, faiss.IO_FLAG_MMAP_IFC), borrowed=data)
