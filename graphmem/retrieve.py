"""Associative retrieval (embedding seeds, breadth-first expansion) and episodic ranking.

1. Seeds: for each query, the ``top_k`` current triples most similar to it (cosine >= threshold).
2. Expansion: from the entities of what was retrieved, breadth-first up to ``depth`` levels; at each
   entity keep the ``width`` incident current triples most similar to the queries (>= threshold).
   Width applies per entity before anything is fetched: the store hands over ids only, scoring
   uses the vector index, and only the kept triples are read. A hub entity (more than
   ``hub_scan`` current triples) is not scanned whole: its candidates are its ``hub_scan`` newest
   triples plus those of its triples among each query's ``hub_pool`` nearest neighbours in the
   whole index. Below ``hub_scan`` this is exactly "the best ``width`` of all its triples".
3. Episodes: each episode scores n/N * log(N) over the retrieved triples (n of its N triples were
   retrieved), plus ``episode_similarity`` x its cosine with the best query, if set.
Order is deterministic: by score, then id.

``associative_at`` does 1 and 2 over a given set of facts (those valid at a past step, retired ones
included), scoring them all exactly: the vector index searches current facts only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from .vectors.server_index import ServerVectorIndex
from .vectors.vector_index import VectorIndex
from .errors import ConfigError
from .model import ScoredEpisode, Triple
from .store.base import GraphStore, RowView


@dataclass
class RecallConfig:
    top_k: int = 6
    depth: int = 2
    width: int = 6
    threshold: float = 0.2
    max_triples: int = 80
    episodes: int = 3
    episode_similarity: float = 0.0
    hub_scan: int = 512
    hub_pool: int = 64

    def __post_init__(self) -> None:
        # Negative counts would silently slice from the end of ranked lists; no seeds (top_k 0), or
        # no facts kept per entity (width 0), would silently retrieve nothing (depth 0 stops at the seeds).
        for name in ("top_k", "depth", "width", "max_triples", "episodes", "hub_scan", "hub_pool"):
            value, least = getattr(self, name), 1 if name in ("top_k", "width") else 0
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ConfigError(f"recall setting {name} must be a whole number >= {least}, got {value!r}"
                                  + (" (depth=0 keeps the seeds only)" if name == "width" else ""))


def associative(query_vecs: np.ndarray, index: VectorIndex | ServerVectorIndex, store: GraphStore,
                cfg: RecallConfig, rows: RowView | None = None) -> list[tuple[Triple, float]]:
    """Retrieved triples with their best query similarity, in retrieval order.

    Store reads are batched: one for the seeds, then per level of the expansion one for the
    candidate ids and one for the triples kept, and once the first hub is met one for the queries'
    nearest neighbours (a server answers each in one round trip). ``rows``: the store's row view
    when its rows are the index's rows (a graph file as opened): candidates are then read as rows,
    with no id looked up. With a ``ServerVectorIndex`` the server searches and scores (one round
    trip for the seeds of all queries, one per level for the candidates and their scores).
    """
    wanted = max(cfg.top_k, cfg.hub_pool)
    pool: list[str] = []  # every query's nearest facts (filled below): a hub's candidates include them
    neighbours: _Neighbours
    if isinstance(index, ServerVectorIndex):  # then vectors stay there: none are read
        found_per_query = index.search_many(query_vecs, wanted)
        neighbours = _ServerNeighbours(store, query_vecs, cfg, pool)
    else:
        found_per_query = [index.search(q, wanted, candidates=cfg.hub_pool) for q in query_vecs]
        neighbours = _IndexNeighbours(index, store, query_vecs, cfg, pool, rows)
    on_server = isinstance(index, ServerVectorIndex)
    seeds: dict[str, float] = {}
    for found in found_per_query:
        for tid, score in found[: cfg.top_k]:
            if score >= cfg.threshold and tid not in seeds:
                seeds[tid] = score
        pool += [tid for tid, _ in found]
    picked: dict[str, tuple[Triple, float]] = {}
    frontier: list[str] = []
    for t in store.get_triples(seeds, vectors=not on_server):
        if t.current:
            picked[t.id] = (t, seeds[t.id])
            frontier += [t.subject, t.object]
    visited: set[str] = set()
    for _ in range(cfg.depth - 1):
        level = [e for e in dict.fromkeys(frontier) if e not in visited]
        visited.update(level)
        if not level or len(picked) >= cfg.max_triples:
            break
        best_of = neighbours.level(level)
        kept: dict[str, float] = {}
        for entity in level:
            if len(picked) + len(kept) >= cfg.max_triples:
                break
            kept.update(best_of(entity, picked, kept))
        frontier = []
        for t in store.get_triples(kept, vectors=not on_server):
            picked[t.id] = (t, kept[t.id])
            frontier += [t.subject, t.object]
        if not frontier:
            break
    return list(picked.values())[: cfg.max_triples]


Best = Callable[[str, dict, dict], list[tuple[str, float]]]


class _Neighbours(Protocol):
    def level(self, entities: list[str]) -> Best:
        """For one level of the expansion: ``best(entity, picked, kept)``, the ``width`` facts of the
        entity most similar to the queries (>= threshold) not picked or kept yet, best first, ties
        by id."""


class _IndexNeighbours:
    """Candidates scored here, with the vectors of the index (``_best``). A hub's candidates are
    its newest facts plus those among the queries' nearest (``pool``), read at the first hub."""

    def __init__(self, index: VectorIndex, store: GraphStore, query_vecs: np.ndarray, cfg: RecallConfig,
                 pool: list[str], rows: RowView | None):
        self.index, self.store, self.query_vecs, self.cfg, self.pool, self.rows = \
            index, store, query_vecs, cfg, pool, rows
        self.near: dict[str, np.ndarray] | None = None  # entity -> rows of its triples in the pool

    def level(self, entities: list[str]) -> Best:
        cfg, index = self.cfg, self.index
        ids_of = self.store.triple_ids_of_entities(entities, limit=cfg.hub_scan) if self.rows is None else None

        def best(entity: str, picked: dict, kept: dict) -> list[tuple[str, float]]:
            # Rows are looked up as the entities are reached: the level may fill up before its last.
            if ids_of is not None:
                cands = index.rows(ids_of[entity])
            else:
                assert self.rows is not None  # ids_of is looked up when the store has no row view
                cands = self.rows.newest_rows(entity, cfg.hub_scan)
            if len(cands) >= cfg.hub_scan:  # maybe a hub: add its triples near the queries
                if self.near is None:
                    self.near = {e: index.rows(ids) for e, ids in _by_entity(self.store.get_triples(self.pool)).items()}
                if entity in self.near:
                    cands = np.unique(np.concatenate([cands, self.near[entity]]))
            return _best(cands[cands >= 0], picked, kept, self.query_vecs, index, cfg)

        return best


class _ServerNeighbours:
    """Candidates (the same ones as ``_IndexNeighbours``') scored on the server, a level at a time."""

    def __init__(self, store: GraphStore, query_vecs: np.ndarray, cfg: RecallConfig, pool: list[str]):
        self.store, self.query_vecs, self.cfg, self.pool = store, query_vecs, cfg, pool

    def level(self, entities: list[str]) -> Best:
        scored = self.store.neighbour_scores(entities, self.query_vecs, self.cfg.hub_scan, self.pool,
                                             min_score=self.cfg.threshold)

        def best(entity: str, picked: dict, kept: dict) -> list[tuple[str, float]]:
            fresh = [(tid, score) for tid, score in scored.get(entity, ())
                     if score >= self.cfg.threshold and tid not in picked and tid not in kept]
            fresh.sort(key=lambda x: (-x[1], x[0]))
            return fresh[: self.cfg.width]

        return best


def associative_at(query_vecs: np.ndarray, facts: list[Triple], vectors: np.ndarray,
                   cfg: RecallConfig) -> list[tuple[Triple, float]]:
    """``associative`` over ``facts`` (``vectors``: one row each) rather than the index: the
    queries' ``top_k`` nearest facts as seeds, then breadth-first through their entities keeping
    ``width`` facts each, all scored exactly (a past step's facts are few next to a graph)."""
    if not facts:
        return []
    sims = vectors @ query_vecs.T  # (facts, queries)
    best = sims.max(axis=1)
    picked: dict[int, float] = {}
    for column in sims.T:
        for i in np.argsort(-column, kind="stable")[: cfg.top_k].tolist():
            if column[i] >= cfg.threshold and i not in picked:
                picked[i] = float(column[i])
    touching: dict[str, list[int]] = {}
    for i, t in enumerate(facts):
        for name in dict.fromkeys((t.subject, t.object)):
            touching.setdefault(name, []).append(i)
    frontier = [x for i in picked for x in (facts[i].subject, facts[i].object)]
    visited: set[str] = set()
    for _ in range(cfg.depth - 1):
        level = [e for e in dict.fromkeys(frontier) if e not in visited]
        visited.update(level)
        frontier = []
        for entity in level:
            if len(picked) >= cfg.max_triples:
                break
            fresh = [i for i in touching.get(entity, ()) if i not in picked and best[i] >= cfg.threshold]
            for i in sorted(fresh, key=lambda i: (-best[i], facts[i].id))[: cfg.width]:
                picked[i] = float(best[i])
                frontier += [facts[i].subject, facts[i].object]
        if not frontier:
            break
    return [(facts[i], score) for i, score in list(picked.items())[: cfg.max_triples]]


def _by_entity(triples: list[Triple]) -> dict[str, list[str]]:
    """Entity -> the ids of the given triples that touch it."""
    out: dict[str, list[str]] = {}
    for t in triples:
        for name in dict.fromkeys((t.subject, t.object)):
            out.setdefault(name, []).append(t.id)
    return out


def _best(rows: np.ndarray, picked: dict, kept: dict, query_vecs: np.ndarray, index: VectorIndex,
          cfg: RecallConfig) -> list[tuple[str, float]]:
    """The ``width`` triples of one entity (index ``rows``) most similar to the queries (>=
    threshold) that are not picked or kept yet, best first, ties by id. Only the ids of the best
    few are looked at: a hub offers hundreds of rows."""
    if not len(rows) or not cfg.width:
        return []
    vectors = index.matrix[rows]
    sims = vectors @ query_vecs[0] if len(query_vecs) == 1 else (vectors @ query_vecs.T).max(axis=1)
    ids = index.ids
    out: list[tuple[str, float]] = []
    for i in np.argsort(-sims, kind="stable").tolist():
        score = float(sims[i])
        if score < cfg.threshold or len(out) >= cfg.width and score < out[-1][1]:
            break  # past the width-th best, only its ties are still wanted (the id decides)
        tid = ids[rows[i]]
        if tid not in picked and tid not in kept:
            out.append((tid, score))
    out.sort(key=lambda x: (-x[1], x[0]))
    return out[: cfg.width]


def rank_episodes(triples: list[Triple], store: GraphStore, cfg: RecallConfig,
                  query_vecs: np.ndarray | None = None, vectors: bool = True) -> list[ScoredEpisode]:
    """Episodes holding retrieved triples, by n/N * log(N) (+ optional query similarity).
    ``vectors``: False to read the episodes without theirs where the score needs none (a server's)."""
    hits: dict[str, int] = {}
    for t in triples:
        for src in t.sources:
            hits[src] = hits.get(src, 0) + 1
    scored = []
    for ep in store.get_episodes(hits, vectors=vectors or bool(cfg.episode_similarity)):
        n = hits[ep.id]
        total = max(len(ep.triple_ids), n)
        score = n / total * math.log(total) if total > 1 else 0.0
        if cfg.episode_similarity and query_vecs is not None and ep.embedding is not None:
            score += cfg.episode_similarity * float((query_vecs @ ep.embedding).max())
        scored.append(ScoredEpisode(ep, score, n))
    scored.sort(key=lambda s: (-s.score, -s.hits, -s.episode.step, s.episode.id))
    return scored[: cfg.episodes]
