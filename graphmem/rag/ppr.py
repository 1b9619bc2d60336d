"""Personalized PageRank by power iteration on a scipy sparse matrix."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def transition_matrix(n: int, rows, cols, weights) -> sp.csr_matrix:
    """Row-stochastic matrix of an undirected weighted graph given as (row, col, weight) edges.

    Each edge counts both ways; parallel edges add up. Rows of isolated nodes stay zero (their mass
    is handed back to the personalisation vector by ``personalized_pagerank``).
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    adj = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([rows, cols]),
                                                  np.concatenate([cols, rows]))), shape=(n, n))
    adj = adj.tocsr()
    adj.sum_duplicates()
    out = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
    return sp.diags(inv) @ adj


class Walk:
    """A transition matrix prepared for many PageRank runs: transposed once, dangling rows found
    once (both cost more than the power iteration itself on a corpus graph)."""

    def __init__(self, transition: sp.csr_matrix):
        self.n = transition.shape[0]
        self.dangling = np.asarray(transition.sum(axis=1)).ravel() == 0
        self.walk = transition.T.tocsr()


def personalized_pagerank(transition: sp.csr_matrix | Walk, seeds: np.ndarray, damping: float = 0.5,
                          tol: float = 1e-8, max_iter: int = 100) -> np.ndarray:
    """Stationary distribution of: with prob ``damping`` follow an edge, else jump to a seed.

    ``seeds`` are non-negative weights (normalised here). Mass at nodes without edges jumps back to
    the seeds, so the result always sums to 1.
    """
    if not 0.0 < damping < 1.0:
        raise ValueError(f"damping must be in (0, 1), got {damping}")
    p = np.asarray(seeds, dtype=np.float64)
    total = p.sum()
    if total <= 0:
        raise ValueError("personalisation needs at least one positive seed weight")
    p = p / total
    prepared = transition if isinstance(transition, Walk) else Walk(transition)
    walk, dangling = prepared.walk, prepared.dangling
    r = p.copy()
    for _ in range(max_iter):
        nxt = damping * (walk @ r) + (damping * r[dangling].sum() + 1.0 - damping) * p
        if np.abs(nxt - r).sum() < tol:
            return nxt
        r = nxt
    return r
