"""Corpus graphs for multi-hop QA (HippoRAG 2 style) and Personalized PageRank retrieval.

Passages are written through ``Memory`` with the documents profile, the engine's one write path
(extractor -> resolver -> judge -> store): they are episodes, and the triples extracted from them are
store triples whose ``sources`` are the passage ids, so forgetting a passage removes exactly what only
it supported. The memory's vector indexes are the graph's fact and passage indexes (one set of
vectors per graph; a passage's fact vectors are pooled from the token embeddings of the passage's
own forward pass, ``indexes.PASSAGE_TOKENS``). On top of them a corpus graph keeps only derived
indices (``corpus_index.CorpusIndex``), rebuilt from the store on load and kept current by the
memory's write events, whoever writes: passage -> entity mentions, synonym edges between entities
whose names share most of their character trigrams, and the PageRank matrix, in which a document's
chunks meet at its node (their title) and the chunks of one section at the section's node.

Retrieval links the question to facts (and to entity names it contains), seeds PageRank on their
entities, adds the dense passage similarity as a small seed on every passage (as HippoRAG 2 does),
and ranks passages by their PageRank mass.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import numpy as np

from ..vectors.blas import one_blas_thread
from ..embedders.sentence_transformer import Embedder
from ..corpus import DOCUMENT, Corpus
from ..errors import ConfigError
from ..ingest import BATCH_PASSAGES, EXTRACT_WORKERS
from ..memory import PROFILE, Memory
from ..model import Episode, Triple
from ..profiles import DOCUMENTS, DomainProfile, profile_named
from ..store.base import GraphStore
from ..writer import ObserveResult
from .attribution import CHECKED_TURNS
from .base import PassageLike, top_k
from .config import GraphRAGConfig, Prior
from .corpus_index import CorpusIndex
from .dense import DenseRetriever
from .mentions import TITLE
from .ppr import personalized_pagerank

log = logging.getLogger(__name__)


@dataclass
class Retrieval:
    """What one question retrieved, for answering and for explaining the answer."""

    passages: list[tuple[str, float]]
    facts: list[tuple[Triple, float]] = field(default_factory=list)
    seeds: dict[str, float] = field(default_factory=dict)


def _unit_range(scores: np.ndarray) -> np.ndarray:
    lo, hi = float(scores.min()), float(scores.max())
    return (scores - lo) / (hi - lo) if hi > lo else np.ones_like(scores)


def corpus_profile(store: GraphStore) -> DomainProfile:
    """The profile a corpus graph in ``store`` reads by: the one it was written with (documents or
    dialogue), documents for a new graph."""
    stored = store.meta().get(PROFILE)
    return profile_named(stored) if stored else DOCUMENTS


class CorpusGraph:
    """A passage retriever backed by a knowledge graph; add and remove passages incrementally.

    ``store``: the graph's store (None: one in memory only), or a ``Memory`` already open on it with
    a profile whose episodes are texts to retrieve (documents, dialogue), whose embedder, extractor
    and settings then hold. ``embed_passages``
    False skips whole-passage embeddings (faster builds, no dense passage prior).
    """

    name = "graph"

    def __init__(self, store: GraphStore | Memory | None = None, embedder: Embedder | None = None,
                 extractor=None, config: GraphRAGConfig | None = None, extract_workers: int = EXTRACT_WORKERS,
                 embed_passages: bool = True):
        if isinstance(store, Memory):
            self.memory = store
        else:
            if store is None:
                from ..store.embedded import EmbeddedStore

                store = EmbeddedStore()
            self.memory = Memory(store, profile=corpus_profile(store), embedder=embedder, extractor=extractor,
                                 embed_episodes=embed_passages, extract_workers=extract_workers)
        if not self.memory.documents:
            raise ConfigError(f"a corpus graph holds passages or turns: this graph was written with the "
                              f"{self.memory.profile.name!r} profile")
        self.store = self.memory.store
        self.embedder = self.memory.embedder
        self.config = config or GraphRAGConfig()
        self._derive()
        self.memory.subscribe(self)

    def _derive(self) -> None:
        """The retrievers over the memory's indexes, and the indices derived from its store."""
        self.dense = DenseRetriever(self.embedder, index=self.memory.episode_index)
        self.facts = self.memory.triple_index
        self.index = CorpusIndex(self.store, self.config)
        self.mentions = self.index.mentions

    # --- the memory's write events (a WriteListener): the derived indices follow every write ------
    def written(self, results: Sequence[ObserveResult]) -> None:
        self.index.written(results)

    def forgotten(self, source_ids: Sequence[str], deleted: Sequence[str], restored: Sequence[str]) -> None:
        self.index.forgotten(source_ids, deleted)

    def reloaded(self) -> None:
        """The memory went back to its last save (``Memory.discard_changes``): its indexes are new
        ones, read from the store, and so are the indices derived here."""
        self._derive()

    @property
    def extractor(self):
        return self.memory.extractor

    def __len__(self) -> int:
        return len(self.mentions)

    @property
    def prior(self) -> Prior:
        """The passage prior's settings for this corpus as it stands (its shape decides the ones
        not given)."""
        return self.config.prior(self.index.title_share())

    def __contains__(self, passage_id: str) -> bool:
        return passage_id in self.mentions

    # --- writing (through the memory, whose write events keep the derived indices current) -------
    def add(self, passages: Sequence[PassageLike], progress: bool = False,
            on_batch: Callable[[int], None] | None = None, batch_size: int = BATCH_PASSAGES,
            passage_vectors: Mapping[str, np.ndarray] | None = None,
            save_every: int | None = None) -> int:
        """Extract, embed and link passages not yet in the graph; returns how many were added.

        Works in batches (``on_batch`` gets the count done so far). ``save_every``: save the graph
        after about this many passages, so an interrupted build resumes where it stopped (passages
        already in the graph are skipped). ``passage_vectors`` reuses passage embeddings already
        computed with the same embedder (a graph that pools its facts' vectors from the passages'
        tokens still runs each passage through the model once, for its facts).
        """
        new = list({p.id: p for p in passages if p.id not in self.mentions}.values())
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(new), desc="indexing passages", unit="passage")
        saved = shown = 0

        def after_batch(done: int) -> None:
            nonlocal saved, shown
            if save_every and done - saved >= save_every:
                self.save()
                saved = done
            if bar is not None:
                bar.update(done - shown)
            shown = done
            if on_batch is not None:
                on_batch(done)

        # A document's chunk brings its meta (document, section, position) along to its episode.
        self.memory.observe_many([(p.id, p.title, p.text, getattr(p, "meta", None)) for p in new],
                                 episode_vectors=passage_vectors,
                                 batch_size=batch_size, on_batch=after_batch)
        if bar is not None:
            bar.close()
        if self.memory.dropped_triples:
            log.info("dropped %d extracted triples with empty or vague names so far",
                     self.memory.dropped_triples)
        return len(new)

    def refresh_documents(self, corpus: Corpus) -> tuple[list[str], int]:
        """Bring the documents ``corpus`` read up to date after its passages were added: forget
        the graph's chunks of those documents that the read did not give again (their text changed
        or is gone), and give the chunks the graph held already their meta as read now (a chunk
        that moved in its document keeps its facts and takes its new position). Returns the ids
        forgotten and how many chunks moved. Run it after ``add``: a fact that a changed chunk's
        new text states again then keeps its first date."""
        read, given = set(corpus.documents), {p.id: p for p in corpus.passages}
        stale = [e.id for e in self.store.episodes() if e.meta.get(DOCUMENT) in read and e.id not in given]
        self.remove(stale)
        wanted = {pid: dict(p.meta) for pid, p in given.items() if p.meta and pid in self.mentions}
        moved = [e for e in self.store.get_episodes(list(wanted)) if e.meta != wanted[e.id]]
        for episode in moved:
            self.memory.set_episode_meta(episode.id, wanted[episode.id])
        self.index.moved([replace(e, meta=wanted[e.id]) for e in moved])
        return stale, len(moved)

    def remove(self, passage_ids: Sequence[str]) -> list[str]:
        """Forget passages and what only they supported; returns the deleted triple ids."""
        return sorted(self.memory.forget([pid for pid in dict.fromkeys(passage_ids) if pid in self.mentions]))

    # --- retrieval -----------------------------------------------------------------------------
    def query(self, question: str, k: int) -> Retrieval:
        with one_blas_thread():
            return self._query(question, k)

    def _query(self, question: str, k: int) -> Retrieval:
        if not self.mentions:
            return Retrieval([])
        cfg = self.config
        q = self.embedder.encode([question])[0]
        passage_ids, dense_scores = self.dense.scores(q)
        hits = self.facts.search(q, cfg.fact_top_k)
        found = {t.id: t for t in self.store.get_triples([tid for tid, _ in hits])}
        facts = [(found[tid], s) for tid, s in hits if tid in found]
        seeds: dict[str, float] = {}
        for t, score in facts:
            weight = score * self.index.fact_weight(t.sources, cfg.corroboration)
            for name in (t.subject, t.object):
                if name in self.mentions.passages_of:
                    # Specific entities (few passages) say more about where the answer is.
                    seeds[name] = seeds.get(name, 0.0) + weight / len(self.mentions.passages_of[name])
        if cfg.name_match:
            for name in self.index.name_matches(question):
                seeds[name] = seeds.get(name, 0.0) + 1.0 / len(self.mentions.passages_of[name])
        if not seeds:
            trusted = self._trusted(passage_ids, dense_scores)
            return Retrieval(top_k(passage_ids, self._in_conversation(passage_ids, trusted, question), k), facts, seeds)
        # Entity and section nodes come first (n_entities of them), then the passages.
        nodes, pos, n_entities, walk = self.index.walk()
        p = np.zeros(len(nodes))
        for name, weight in seeds.items():
            p[pos[name]] = weight
        # The passage prior, in node order (passages, sorted by id, follow the other nodes).
        prior = np.zeros(len(nodes) - n_entities)
        rows = self.index.passage_rows(passage_ids) - n_entities
        prior[rows] = _unit_range(dense_scores)
        weights = self.prior
        if weights.lexical_weight > 0 or weights.coverage_weight > 0 or weights.sentence_weight > 0:
            prior += self._lexical_prior(question, weights)
        passages = nodes[n_entities:]
        p[n_entities:] = weights.passage_weight * self._trusted(passages, prior)
        r = personalized_pagerank(walk, p, cfg.damping, cfg.ppr_tol, cfg.ppr_max_iter)
        scores = r[n_entities:]
        if cfg.bridge_weight > 0 or cfg.name_bridge_weight > 0:
            scores = self._bridge(passages, scores, pos, n_entities)
        scores = self._trusted(passages, scores)
        ranked = top_k(passages, self._in_conversation(passages, scores, question), k)
        return Retrieval(ranked, facts, seeds)

    def _lexical_prior(self, question: str, weights: Prior) -> np.ndarray:
        """The prior's word signals, per passage in id order: normalised BM25, the share of the
        question's words a passage holds, and the share its best sentence holds together."""
        lexical = self.index.lexical(weights.stems, sentences=weights.sentence_weight > 0)
        out = np.zeros(len(lexical))
        if weights.lexical_weight > 0:
            bm25 = lexical.scores(question)[1]
            out += weights.lexical_weight * (_unit_range(bm25) if len(bm25) else bm25)
        if weights.coverage_weight > 0:
            out += weights.coverage_weight * lexical.coverage(question)[1]
        if weights.sentence_weight > 0:
            out += weights.sentence_weight * lexical.sentence_coverage(question)[1]
        return out

    def _trusted(self, passage_ids: list[str], scores: np.ndarray) -> np.ndarray:
        """Passages' scores weighed by their sources' trust (episode meta "trust"), so an
        untrusted upload that restates a question cannot outrank the trusted passages it mimics."""
        trust = self.index.passage_trust(passage_ids)
        return scores if trust is None else scores * trust

    def _in_conversation(self, passage_ids: list[str], scores: np.ndarray, question: str) -> np.ndarray:
        """A conversation's turns scored as a conversation is read: with their neighbours, and
        those said by the person the question asks about first."""
        scores = self._with_neighbours(passage_ids, scores)
        weight = self.config.speaker_weight
        said = self.index.said_by_asked(passage_ids, question) if weight > 0 else None
        return scores if said is None else scores * (1.0 + weight * said)

    def _with_neighbours(self, passage_ids: list[str], scores: np.ndarray) -> np.ndarray:
        """Each passage's score plus ``neighbour_weight`` times the better of its session
        neighbours': in a conversation the answer is often the reply to the turn the question
        matches, or the turn a reply answers."""
        weight = self.config.neighbour_weight
        if weight <= 0 or not self.index.sessions:
            return scores
        top = float(np.max(scores)) if len(scores) else 0.0
        scores = scores / top if top > 0 else scores
        before, after = self.index.neighbours(passage_ids)
        own = np.arange(len(scores))
        nearby = np.maximum(np.where(before != own, scores[before], 0.0), np.where(after != own, scores[after], 0.0))
        return scores + weight * nearby

    def _bridge(self, passages: list[str], scores: np.ndarray, pos: dict[str, int],
                offset: int) -> np.ndarray:
        """Add to each passage a bonus for every top passage that names its title in its text:
        the second hop of a question is usually about an entity the first hop's passage names.
        A title the passage names is linked as a text mention, or as a fact mention when it is
        also an entity of one of the passage's facts: both count. When no passage is about a
        proper name that a top passage names ('Djibouti' of a village's passage), the passages
        that also name it share a smaller bonus: the second hop then names the bridge entity
        instead of being about it."""
        cfg, mentions = self.config, self.mentions
        scores = scores / scores.max() if scores.max() > 0 else scores
        out = scores.copy()
        for pid, score in top_k(passages, scores, cfg.bridge_top):
            for name, kind in mentions.kinds[pid].items():
                if kind == TITLE:
                    continue
                holders = mentions.passages_of.get(name, ())
                about = [o for o in holders if mentions.kinds[o].get(name) == TITLE]
                for other in about:
                    out[pos[other] - offset] += cfg.bridge_weight * score
                others = len(holders) - 1
                if (not about and cfg.name_bridge_weight > 0 and 0 < others <= cfg.name_bridge_max
                        and mentions.is_proper_name(name)):
                    for other in holders:
                        if other != pid:
                            out[pos[other] - offset] += cfg.name_bridge_weight * score / others
        return out

    def answer_depth(self, k: int) -> int:
        """How many passages to retrieve for an answer shown the best ``k``: in a conversation the
        speaker check also reads the next-best turns (``attribution.CHECKED_TURNS``)."""
        return max(k, CHECKED_TURNS) if self.index.speakers else k

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        return self.query(question, k).passages

    def passage(self, passage_id: str) -> Episode | None:
        return self.store.get_episode(passage_id)

    def passages(self, passage_ids: Sequence[str]) -> list[Episode]:
        """Passages in the order given, without their vectors, in one store call (one round trip
        on a server); ids deleted meanwhile are left out."""
        return self.store.get_episodes(passage_ids, vectors=False)

    # --- persistence ---------------------------------------------------------------------------
    def save(self, path=None) -> None:
        """Persist the graph: to its own store, or as a graph file at ``path`` (any store)."""
        if path is None:
            self.store.flush()
        else:
            self.store.save(path)

    def close(self) -> None:
        """Close the store; a store opened for writing saves what is pending."""
        self.memory.close()

    def __enter__(self) -> "CorpusGraph":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def load(cls, path, embedder: Embedder | None = None, extractor=None,
             config: GraphRAGConfig | None = None, create: bool = False,
             extract_workers: int = EXTRACT_WORKERS) -> "CorpusGraph":
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
                "triples": len(self.index.edges), "synonym_edges": len(self.index.synonyms),
                "dropped_triples": self.memory.dropped_triples}
