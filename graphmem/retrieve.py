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
from .model import Episode, ScoredEpisode, Triple
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
    """Retrieved triples with their best query similarity, in retrieval order."""
    picked: dict[str, tuple[Triple, float]] = {}
    frontier: list[str] = []
    for q in query_vecs:
        for tid, score in index.search(q, cfg.top_k):
            if score < cfg.threshold or tid in picked:
                continue
            t = store.get_triple(tid)
            if t is not None and t.current:
                picked[tid] = (t, score)
                frontier += [t.subject, t.object]
    visited: set[str] = set()
    for _ in range(cfg.depth - 1):
        next_frontier: list[str] = []
        for entity in dict.fromkeys(frontier):
            if entity in visited or len(picked) >= cfg.max_triples:
                continue
            visited.add(entity)
            cands = [t for t in store.triples_of_entity(entity) if t.id not in picked and t.id in index]
            if not cands:
                continue
            rows = index.matrix[index.positions([t.id for t in cands])]
            sims = (rows @ query_vecs.T).max(axis=1)
            order = sorted(range(len(cands)), key=lambda i: (-float(sims[i]), cands[i].id))
            for i in order[: cfg.width]:
                if sims[i] < cfg.threshold:
                    break
                t = cands[i]
                picked[t.id] = (t, float(sims[i]))
                next_frontier += [t.subject, t.object]
        frontier = next_frontier
        if not frontier:
            break
    return list(picked.values())[: cfg.max_triples]


def rank_episodes(triples: list[Triple], store: GraphStore, cfg: RecallConfig,
                  query_vecs: np.ndarray | None = None) -> list[ScoredEpisode]:
    """Episodes holding retrieved triples, by n/N * log(N) (+ optional query similarity)."""
    hits: dict[str, int] = {}
    for t in triples:
        for src in t.sources:
            hits[src] = hits.get(src, 0) + 1
    scored = []
    for ep_id, n in hits.items():
        ep: Episode | None = store.get_episode(ep_id)
        if ep is None:
            continue
        total = max(len(ep.triple_ids), n)
        score = n / total * math.log(total) if total > 1 else 0.0
        if cfg.episode_similarity and query_vecs is not None and ep.embedding is not None:
            score += cfg.episode_similarity * float((query_vecs @ ep.embedding).max())
        scored.append(ScoredEpisode(ep, score, n))
    scored.sort(key=lambda s: (-s.score, -s.hits, -s.episode.step, s.episode.id))
    return scored[: cfg.episodes]
