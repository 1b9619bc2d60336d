"""Corpus graphs for multi-hop QA (HippoRAG 2 style) and Personalized PageRank retrieval.

Passages are episodes of a ``GraphStore``; the triples extracted from them are store triples whose
``sources`` are the passage ids, so deleting a passage removes exactly what only it supported.
Around the store this module keeps the indices retrieval needs, all rebuilt from the store on load:
passage, fact and entity embeddings, passage -> entity mentions, and synonym edges between entities
whose name embeddings are close.

Retrieval links the question to facts (and to entity names it contains), seeds PageRank on their
entities, adds the dense passage similarity as a small seed on every passage (as HippoRAG 2 does),
and ranks passages by their PageRank mass.
"""
from __future__ import annotations

import base64
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ..embed import Embedder, VectorIndex, default_embedder
from ..errors import ConfigError
from ..model import Episode, Triple
from ..normalize import canonical_entity, canonical_relation
from ..store.base import GraphStore
from .base import PassageLike, passage_text, top_k
from .dense import DenseRetriever
from .mentions import MentionIndex, find_names, match_tokens
from .ppr import personalized_pagerank, transition_matrix

log = logging.getLogger(__name__)

ENTITY_VECTORS = "entity_vectors"  # store meta key
# Subjects/objects that name nothing on their own: linking them would join unrelated passages.
_VAGUE = frozenset("it he she they them him her his its their this that these those which who whom "
                   "what there here one ones i we you me us".split())


@dataclass
class GraphRAGConfig:
    synonym_threshold: float = 0.8   # cosine between entity names for a synonym edge
    synonym_top_k: int = 20          # at most this many synonym edges per new entity
    # Defaults tuned for Recall@2/@5 on the 100-question MuSiQue and HotpotQA samples with the
    # offline extractor (HippoRAG 2 uses 0.5 / 5 / 0.05 with LLM-extracted, LLM-filtered facts;
    # noisier offline facts call for fewer of them, a stronger dense prior and shorter walks).
    damping: float = 0.3             # probability of following an edge
    fact_top_k: int = 3              # facts linked to the question
    passage_weight: float = 0.5      # weight of dense passage similarity among the seeds
    title_entities: bool = True      # a passage's title is an entity it mentions
    link_titles: bool = True         # ... and so is any other passage's title named in its text
    name_match: bool = True          # entities whose name occurs in the question are seeds too
    ppr_tol: float = 1e-8
    ppr_max_iter: int = 100

    def __post_init__(self) -> None:
        if not 0.0 < self.damping < 1.0:
            raise ConfigError(f"damping must be in (0, 1), got {self.damping}")
        if not -1.0 <= self.synonym_threshold <= 1.0:
            raise ConfigError(f"synonym_threshold is a cosine in [-1, 1], got {self.synonym_threshold}")
        if self.fact_top_k < 0 or self.passage_weight < 0:
            raise ConfigError("fact_top_k and passage_weight must not be negative")


@dataclass
class Retrieval:
    """What one question retrieved, for answering and for explaining the answer."""

    passages: list[tuple[str, float]]
    facts: list[tuple[Triple, float]] = field(default_factory=list)
    seeds: dict[str, float] = field(default_factory=dict)


class CorpusGraph:
    """A passage retriever backed by a knowledge graph; add and remove passages incrementally."""

    name = "graph"

    def __init__(self, store: GraphStore | None = None, embedder: Embedder | None = None,
                 extractor=None, config: GraphRAGConfig | None = None, extract_workers: int = 4):
        if store is None:
            from ..store.embedded import EmbeddedStore

            store = EmbeddedStore()
        self.store = store
        self.embedder = embedder or default_embedder()
        self._extractor = extractor
        self.config = config or GraphRAGConfig()
        self.extract_workers = extract_workers
        self.dense = DenseRetriever(self.embedder)
        self.facts = VectorIndex(self.embedder.dim)
        self.entity_index = VectorIndex(self.embedder.dim)
        self.mentions = MentionIndex(self.config.link_titles)
        self._names: dict[str, str] | None = None      # match tokens -> entity, for questions
        self._synonyms: dict[tuple[str, str], float] = {}
        self._matrix = None
        self.dropped_triples = 0
        self._load_from_store()

    # --- building ------------------------------------------------------------------------------
    @property
    def extractor(self):
        if self._extractor is None:
            from ..extract.offline import OfflineExtractor

            self._extractor = OfflineExtractor()
        return self._extractor

    def __len__(self) -> int:
        return len(self.mentions)

    def __contains__(self, passage_id: str) -> bool:
        return passage_id in self.mentions

    def add(self, passages: Sequence[PassageLike], progress: bool = False,
            on_batch: Callable[[int], None] | None = None, batch_size: int = 64,
            passage_vectors: Mapping[str, np.ndarray] | None = None) -> int:
        """Extract, embed and link passages not yet in the graph; returns how many were added.

        Works in batches so a long build can be saved between them (``on_batch`` gets the count
        done so far) and resumed: passages already in the graph are skipped.
        ``passage_vectors`` reuses passage embeddings already computed with the same embedder.
        """
        new = list({p.id: p for p in passages if p.id not in self.mentions}.values())
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(new), desc="indexing passages", unit="passage")
        for start in range(0, len(new), batch_size):
            batch = new[start:start + batch_size]
            self._add_batch(batch, self._extract(batch), passage_vectors or {})
            if bar is not None:
                bar.update(len(batch))
            if on_batch is not None:
                on_batch(start + len(batch))
        if bar is not None:
            bar.close()
        if self.dropped_triples:
            log.info("dropped %d extracted triples with empty or vague names so far",
                     self.dropped_triples)
        return len(new)

    def _extract(self, passages: Sequence[PassageLike]) -> list[list[tuple[str, str, str]]]:
        texts = [p.text for p in passages]
        many = getattr(self.extractor, "extract_many", None)
        if many is not None:
            return list(many(texts))
        if self.extract_workers <= 1:
            return [self.extractor.extract(t) for t in texts]
        # Per-text extractors (LLM requests) wait on I/O: run a bounded number at once, in order.
        with ThreadPoolExecutor(max_workers=self.extract_workers) as pool:
            return list(pool.map(self.extractor.extract, texts))

    def _clean(self, raw: tuple[str, str, str]) -> tuple[str, str, str] | None:
        s, r, o = canonical_entity(raw[0]), canonical_relation(raw[1]), canonical_entity(raw[2])
        if not s or not r or not o or s == o or s in _VAGUE or o in _VAGUE:
            self.dropped_triples += 1
            return None
        return s, r, o

    def _add_batch(self, passages: Sequence[PassageLike], extracted, known_vectors) -> None:
        step = len(self.mentions)
        new_triples: dict[str, Triple] = {}
        episodes = []
        for p, raws in zip(passages, extracted):
            ids = []
            for raw in raws:
                spo = self._clean(raw)
                if spo is None:
                    continue
                t = Triple(*spo)
                t = new_triples.get(t.id) or self.store.get_triple(t.id) or t
                if p.id not in t.sources:
                    t.sources = [*t.sources, p.id]
                new_triples[t.id] = t
                ids.append(t.id)
            episodes.append(Episode(id=p.id, step=step, text=p.text, title=p.title,
                                    triple_ids=list(dict.fromkeys(ids))))
            step += 1
        for t in new_triples.values():
            if t.embedding is None:  # a fact deleted earlier keeps its row: reuse the vector
                t.embedding = self.facts.vector(t.id)
        fresh = [t for t in new_triples.values() if t.embedding is None]
        for t, v in zip(fresh, self.embedder.encode([t.text for t in fresh])):
            t.embedding = v
        for ep in episodes:
            ep.embedding = known_vectors.get(ep.id)
        self.store.add_triples(new_triples.values())
        for ep in episodes:
            self.store.add_episode(ep)
        self._index(episodes, list(new_triples.values()))

    def remove(self, passage_ids: Sequence[str]) -> list[str]:
        """Delete passages and what only they supported; returns the deleted triple ids."""
        deleted: list[str] = []
        orphans: list[str] = []
        for pid in passage_ids:
            if pid not in self.mentions:
                continue
            deleted += self.store.delete_source(pid)
            orphans += self.mentions.remove(pid)
        self.facts.deactivate(deleted)
        self.dense.remove(list(passage_ids))
        orphans = sorted(n for n in set(orphans) if n not in self.mentions.passages_of)
        self.entity_index.deactivate(orphans)
        gone = set(orphans)
        self._synonyms = {k: v for k, v in self._synonyms.items() if not gone.intersection(k)}
        self._matrix = self._names = None
        return sorted(deleted)

    # --- indices around the store ----------------------------------------------------------------
    def _load_from_store(self) -> None:
        saved = self.store.meta().get(ENTITY_VECTORS)
        if saved and saved.get("dim") == self.embedder.dim and saved.get("embedder") == self.embedder.name:
            vecs = np.frombuffer(base64.b64decode(saved["data"]), dtype="<f4").reshape(-1, saved["dim"])
            self.entity_index.add(saved["names"], vecs)
        episodes = self.store.episodes()
        triples = self.store.triples()
        missing = [t for t in triples if t.embedding is None]
        for t, v in zip(missing, self.embedder.encode([t.text for t in missing])):
            t.embedding = v
        self._index(episodes, triples)

    def _index(self, episodes: Sequence[Episode], triples: Sequence[Triple]) -> None:
        if triples:
            self.facts.add([t.id for t in triples], np.stack([t.embedding for t in triples]))
        need = [e for e in episodes if e.embedding is None]
        for ep, v in zip(need, self.embedder.encode([passage_text(e) for e in need])):
            ep.embedding = v
        if episodes:
            self.dense.add(episodes, np.stack([e.embedding for e in episodes]))
        title = self.config.title_entities
        new_entities = self.mentions.add(
            (ep.id, ep.title if title else "", self._fact_names(ep), ep.text) for ep in episodes)
        if new_entities:
            known = [n for n in new_entities if n in self.entity_index]
            unseen = [n for n in new_entities if n not in self.entity_index]
            if known:  # entities that come back after a deletion keep their vectors
                self.entity_index.add(known, np.stack([self.entity_index.vector(n) for n in known]))
            if unseen:
                self.entity_index.add(unseen, self.embedder.encode(unseen))
            self._link_synonyms(new_entities)
        self._matrix = self._names = None

    def _fact_names(self, ep: Episode) -> list[str]:
        names = []
        for tid in ep.triple_ids:
            t = self.store.get_triple(tid)
            if t is not None:
                names += [t.subject, t.object]
        return [n for n in dict.fromkeys(names) if n]

    def _link_synonyms(self, names: Sequence[str]) -> None:
        """Synonym edges from each new entity to its closest known ones above the threshold."""
        cfg = self.config
        mat, ids = self.entity_index.matrix, self.entity_index.ids
        for start in range(0, len(names), 512):
            chunk = names[start:start + 512]
            sims = np.stack([self.entity_index.vector(n) for n in chunk]) @ mat.T
            for name, row in zip(chunk, sims):
                for other, sim in top_k(ids, row, cfg.synonym_top_k + 1):
                    if sim < cfg.synonym_threshold:
                        break
                    if other != name and other in self.mentions.passages_of:
                        self._synonyms[tuple(sorted((name, other)))] = sim

    # --- retrieval -----------------------------------------------------------------------------
    def _graph(self):
        """Node order, node index and transition matrix; rebuilt only after the graph changed."""
        if self._matrix is None:
            entities = sorted(self.mentions.passages_of)
            passages = sorted(self.mentions.kinds)
            nodes = entities + passages
            pos = {n: i for i, n in enumerate(nodes)}
            rows, cols, w = [], [], []
            for t in self.store.triples():
                if t.subject in pos and t.object in pos:
                    rows.append(pos[t.subject]); cols.append(pos[t.object]); w.append(1.0)
            for pid, kinds in self.mentions.kinds.items():
                for name in kinds:
                    rows.append(pos[pid]); cols.append(pos[name]); w.append(1.0)
            for (a, b), sim in self._synonyms.items():
                rows.append(pos[a]); cols.append(pos[b]); w.append(sim)
            self._matrix = (nodes, pos, len(entities),
                            transition_matrix(len(nodes), rows, cols, w))
        return self._matrix

    def _name_matches(self, question: str) -> list[str]:
        """Known entity names that occur as whole words in the question (longest names win)."""
        if self._names is None:
            self._names = {}
            for name in sorted(self.mentions.passages_of):
                key = " ".join(match_tokens(name))
                if len(key) > 2:
                    self._names.setdefault(key, name)
        hits = find_names(match_tokens(question), self._names, 8)
        hits.sort(key=lambda n: (-len(n), n))
        kept: list[str] = []
        for n in hits:
            if not any(f" {n} " in f" {k} " for k in kept):
                kept.append(n)
        return kept

    def query(self, question: str, k: int) -> Retrieval:
        if not self.mentions:
            return Retrieval([])
        cfg = self.config
        q = self.embedder.encode([question])[0]
        passage_ids, dense_scores = self.dense.scores(q)
        facts = [(self.store.get_triple(tid), s) for tid, s in self.facts.search(q, cfg.fact_top_k)]
        seeds: dict[str, float] = {}
        for t, score in facts:
            for name in (t.subject, t.object):
                if name in self.mentions.passages_of:
                    # Specific entities (few passages) say more about where the answer is.
                    seeds[name] = seeds.get(name, 0.0) + score / len(self.mentions.passages_of[name])
        if cfg.name_match:
            for name in self._name_matches(question):
                seeds[name] = seeds.get(name, 0.0) + 1.0 / len(self.mentions.passages_of[name])
        if not seeds:
            return Retrieval(top_k(passage_ids, dense_scores, k), facts, seeds)
        nodes, pos, n_entities, transition = self._graph()
        p = np.zeros(len(nodes))
        for name, weight in seeds.items():
            p[pos[name]] = weight
        lo, hi = float(dense_scores.min()), float(dense_scores.max())
        norm = (dense_scores - lo) / (hi - lo) if hi > lo else np.ones_like(dense_scores)
        for pid, s in zip(passage_ids, norm):
            p[pos[pid]] = cfg.passage_weight * s
        r = personalized_pagerank(transition, p, cfg.damping, cfg.ppr_tol, cfg.ppr_max_iter)
        ranked = top_k(nodes[n_entities:], r[n_entities:], k)
        return Retrieval(ranked, facts, seeds)

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        return self.query(question, k).passages

    def passage(self, passage_id: str) -> Episode | None:
        return self.store.get_episode(passage_id)

    # --- persistence ---------------------------------------------------------------------------
    def save(self, path=None) -> None:
        # Entity names have no place in the store's vectors; keeping them here saves re-embedding
        # thousands of names on every load.
        names = self.entities()
        vecs = np.stack([self.entity_index.vector(n) for n in names]) if names else np.zeros((0, 1))
        self.store.set_meta(ENTITY_VECTORS, {
            "embedder": self.embedder.name, "dim": self.embedder.dim, "names": names,
            "data": base64.b64encode(vecs.astype("<f4").tobytes()).decode("ascii")})
        if path is None:
            self.store.flush()
        else:
            self.store.save(path)

    @classmethod
    def load(cls, path, embedder: Embedder | None = None, extractor=None,
             config: GraphRAGConfig | None = None, create: bool = False,
             extract_workers: int = 4) -> "CorpusGraph":
        """Open a saved corpus graph (``create``: start an empty one if the file is missing).

        Retrieval settings are not part of the file: everything derived from them (mentions,
        synonym edges) is rebuilt on load, so one graph can be queried with any ``config``."""
        from ..store.embedded import EmbeddedStore

        store = EmbeddedStore(path, create=create)
        return cls(store, embedder, extractor, config, extract_workers)

    def entities(self) -> list[str]:
        return sorted(self.mentions.passages_of)

    def stats(self) -> dict:
        return {"passages": len(self.mentions), "entities": len(self.mentions.passages_of),
                "triples": len(self.facts), "synonym_edges": len(self._synonyms),
                "dropped_triples": self.dropped_triples}
