"""Associative retrieval (embedding seeds, breadth-first expansion) and episodic ranking.

1. Seeds: for each query, the ``top_k`` current triples most similar to it (cosine >= threshold).
2. Expansion: from the entities of what was retrieved, breadth-first up to ``depth`` levels; at each
   entity keep the ``width`` incident current triples most similar to the queries (>= threshold).
3. Episodes: each episode scores n/N * log(N) over the retrieved triples (n of its N triples were
   retrieved), plus ``episode_similarity`` x its cosine with the best query, if set.
Order is deterministic: by score, then id.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .embed import VectorIndex
from .errors import ConfigError
from .model import ScoredEpisode, Triple
from .store.base import GraphStore


@dataclass
class RecallConfig:
    top_k: int = 6
    depth: int = 2
    width: int = 6
    threshold: float = 0.2
    max_triples: int = 80
    episodes: int = 3
    episode_similarity: float = 0.0

    def __post_init__(self) -> None:
        # Negative counts would silently slice from the end of ranked lists.
        for name in ("top_k", "depth", "width", "max_triples", "episodes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"recall setting {name} must be a whole number >= 0, got {value!r}")


def associative(query_vecs: np.ndarray, index: VectorIndex, store: GraphStore,
                cfg: RecallConfig) -> list[tuple[Triple, float]]:
    """Retrieved triples with their best query similarity, in retrieval order.

    Store reads are batched: one for the seeds, one per level of the expansion (a server answers
    each in one round trip).
    """
    seeds: dict[str, float] = {}
    for q in query_vecs:
        for tid, score in index.search(q, cfg.top_k):
            if score >= cfg.threshold and tid not in seeds:
                seeds[tid] = score
    picked: dict[str, tuple[Triple, float]] = {}
    frontier: list[str] = []
    for t in store.get_triples(seeds):
        if t.current:
            picked[t.id] = (t, seeds[t.id])
            frontier += [t.subject, t.object]
    visited: set[str] = set()
    for _ in range(cfg.depth - 1):
        level = [e for e in dict.fromkeys(frontier) if e not in visited]
        visited.update(level)
        if not level or len(picked) >= cfg.max_triples:
            break
        touching: dict[str, list[Triple]] = {e: [] for e in level}
        for t in store.triples_of_entities(level):
            for name in dict.fromkeys((t.subject, t.object)):
                if name in touching:
                    touching[name].append(t)
        frontier = []
        for entity in level:
            if len(picked) >= cfg.max_triples:
                break
            frontier += _expand(touching[entity], picked, query_vecs, index, cfg)
        if not frontier:
            break
    return list(picked.values())[: cfg.max_triples]


def _expand(triples: list[Triple], picked: dict[str, tuple[Triple, float]], query_vecs: np.ndarray,
            index: VectorIndex, cfg: RecallConfig) -> list[str]:
    """Pick the ``width`` triples of one entity most similar to the queries; their entities next."""
    cands = [t for t in triples if t.id not in picked and t.id in index]
    if not cands:
        return []
    rows = index.matrix[index.positions([t.id for t in cands])]
    sims = (rows @ query_vecs.T).max(axis=1)
    order = sorted(range(len(cands)), key=lambda i: (-float(sims[i]), cands[i].id))
    nxt: list[str] = []
    for i in order[: cfg.width]:
        if sims[i] < cfg.threshold:
            break
        t = cands[i]
        picked[t.id] = (t, float(sims[i]))
        nxt += [t.subject, t.object]
    return nxt


def rank_episodes(triples: list[Triple], store: GraphStore, cfg: RecallConfig,
                  query_vecs: np.ndarray | None = None) -> list[ScoredEpisode]:
    """Episodes holding retrieved triples, by n/N * log(N) (+ optional query similarity)."""
    hits: dict[str, int] = {}
    for t in triples:
        for src in t.sources:
            hits[src] = hits.get(src, 0) + 1
    scored = []
    for ep in store.get_episodes(hits):
        n = hits[ep.id]
        total = max(len(ep.triple_ids), n)
        score = n / total * math.log(total) if total > 1 else 0.0
        if cfg.episode_similarity and query_vecs is not None and ep.embedding is not None:
            score += cfg.episode_similarity * float((query_vecs @ ep.embedding).max())
        scored.append(ScoredEpisode(ep, score, n))
    scored.sort(key=lambda s: (-s.score, -s.hits, -s.episode.step, s.episode.id))
    return scored[: cfg.episodes]
