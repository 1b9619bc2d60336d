"""Entity names compared by their character trigrams, for synonym edges ("jan philip solovej" and
"jan solovej", "1 january 2008" and "january 2008").

A name's trigrams are those of the name padded with a space on each side; the similarity of two
names is the cosine of their trigram sets (shared / sqrt(|a| |b|)). It needs no model: embedding
thousands of names cost a build about as much as embedding its passages, and the name embeddings
linked mostly numbers and dates of the same shape ("101.5 fm" and "104.9 fm" at cosine 0.83).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp


def trigrams(name: str) -> list[str]:
    padded = f" {name} "
    return sorted({padded[i:i + 3] for i in range(len(padded) - 2)})


class TrigramIndex:
    """Names (added once each, in order) and their trigram sets, as rows of a sparse matrix."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._pos: dict[str, int] = {}
        self._vocab: dict[str, int] = {}
        self._rows: list[np.ndarray] = []   # trigram columns of each name
        self._matrix: sp.csr_matrix | None = None

    def __contains__(self, name: str) -> bool:
        return name in self._pos

    def __len__(self) -> int:
        return len(self.names)

    def add(self, names: Sequence[str]) -> None:
        for name in names:
            if name in self._pos:
                continue
            self._pos[name] = len(self.names)
            self.names.append(name)
            cols = [self._vocab.setdefault(g, len(self._vocab)) for g in trigrams(name)]
            self._rows.append(np.asarray(cols, dtype=np.int64))
        self._matrix = None

    def _rows_of(self, positions: Sequence[int]) -> sp.csr_matrix:
        """Unit-normalised trigram rows of the names at ``positions``."""
        lengths = np.array([len(self._rows[p]) for p in positions], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        cols = np.concatenate([self._rows[p] for p in positions]) if positions else np.zeros(0, np.int64)
        data = np.repeat(1.0 / np.sqrt(np.maximum(lengths, 1)), lengths)
        return sp.csr_matrix((data, cols, indptr), shape=(len(positions), len(self._vocab)))

    def similarities(self, names: Sequence[str]) -> sp.csr_matrix:
        """(len(names), len(self)) cosines between ``names`` (added already) and every name."""
        if self._matrix is None or self._matrix.shape != (len(self.names), len(self._vocab)):
            self._matrix = self._rows_of(range(len(self.names))).T.tocsr()
        return (self._rows_of([self._pos[n] for n in names]) @ self._matrix).tocsr()
