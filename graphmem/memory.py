"""``Memory``: the facade every user of a graph opens, whatever its domain profile.

observe(text, step) extracts triples, resolves their names onto known entities, retires what they
make outdated, embeds what is new (once, batched) and links everything to an episode. Every writer
(agents, ``graphmem build``/``add``, the QA harness, the MCP server) goes this way: extractor ->
resolver -> judge -> store, with the rules of a domain profile (``graphmem.profiles``: a text game,
or documents). recall(queries) returns a Subgraph of associatively retrieved triples and the
episodes that hold most of them; forget(source_ids) deletes episodes and what only they supported.

The work is done beside it: ``writer`` stores facts (the one write path, which tells listeners such
as a corpus graph's derived indices of every write), ``indexes`` keeps the vector indexes, and
``ingest`` runs extraction beside encoding.
"""
from __future__ import annotations

import functools
import os
import threading
from dataclasses import replace
from typing import Callable, Concatenate, Iterable, Mapping, ParamSpec, Sequence, TypeVar

import numpy as np

from .vectors.blas import one_blas_thread
from .vectors.server_index import ServerVectorIndex
from .embedders.sentence_transformer import Embedder, default_embedder
from .dialogue import prepared
from .errors import ConfigError
from .extract.base import Extractor, RawTriple
from .util.gcpause import gc_paused
from .indexes import FACT_VECTORS, PASSAGE_TOKENS, TEXT, GraphIndexes
from .ingest import BATCH_PASSAGES, EXTRACT_WORKERS, EncodedPassages, Passage, encode_passages, extract_all, pipeline
from .model import Subgraph, Triple, stable_id
from .normalize import EntityResolver, ResolverConfig
from .profiles import TEXT_GAME, DomainProfile, profile_named
from .retrieve import RecallConfig, associative, associative_at, rank_episodes
from .store.base import GraphStore, StoreError
from .update import OutdatedJudge, RuleJudge
from .writer import (Forgotten, ObserveResult, Source, WriteListener, Writer, checked_meta, checked_step,
                     checked_vectors, squared_norms)

QUERY_CACHE_SIZE = 1024
EpisodeMeta = Mapping[str, str] | None  # a new episode's string metadata (None: none)
PassageWithMeta = tuple[str, str, str, EpisodeMeta]  # (source_id, title, text, meta)
PROFILE = "profile"  # store meta key: the domain profile a graph was written with
Args = ParamSpec("Args")
Result = TypeVar("Result")
MemoryMethod = Callable[Concatenate["Memory", Args], Result]


def _open_only(why: str) -> Callable[[MemoryMethod[Args, Result]], MemoryMethod[Args, Result]]:
    """A decorator running a public method holding the memory's lock (threads sharing one memory
    take turns, since a write reads and changes the store, the indexes and the resolver in several
    steps), refused once the memory is closed, with ``why``."""
    def decorate(method: MemoryMethod[Args, Result]) -> MemoryMethod[Args, Result]:
        @functools.wraps(method)
        def run(self: Memory, *args: Args.args, **kwargs: Args.kwargs) -> Result:
            with self._lock:
                if self._closed:
                    raise StoreError(f"{method.__name__}: this memory is closed{why}")
                return method(self, *args, **kwargs)
        return run
    return decorate


# A closed store let go of the graph (a file's mapped arrays are closed) and of its file's lock, so
# a write saved after close could overwrite another process's work.
_reading = _open_only("; open the graph again to read it")
_writing = _open_only(" (its graph file is no longer locked for it); open the graph again to write to it")


class Memory:
    """Semantic + episodic graph memory over any GraphStore (embedded file store by default).

    ``profile``: the domain profile (a name or a DomainProfile); by default the one the graph was
    written with, else the text-game profile. Opening a graph with another profile is refused:
    its facts were retired by the other profile's rules.
    ``extract_workers``: texts extracted at once by an extractor that waits on requests (an LLM).
    ``fact_vectors``: TEXT or PASSAGE_TOKENS, for a new graph (default: PASSAGE_TOKENS for
    documents, TEXT for games); a graph keeps the kind it was written with (PASSAGE_TOKENS needs an
    embedder with ``encode_tokens``).

    Threads may share a memory: its public methods take turns on one re-entrant lock. After
    ``close()`` writes and saves are refused.
    """

    def __init__(self, store: GraphStore | str | os.PathLike | None = None, *,
                 profile: DomainProfile | str | None = None,
                 embedder: Embedder | None = None, extractor: Extractor | None = None,
                 judge: OutdatedJudge | None = None, resolver: ResolverConfig | None = None,
                 recall_config: RecallConfig | None = None, embed_episodes: bool = True,
                 extract_workers: int = EXTRACT_WORKERS, fact_vectors: str | None = None):
        self._lock = threading.RLock()
        self._closed = False
        if store is None or isinstance(store, (str, os.PathLike)):
            from .store import open_store

            store = open_store(store)
        self.store: GraphStore = store
        self.profile = self._choose_profile(profile)
        self.embedder = embedder or self._stored_embedder()
        self._extractor = extractor
        self.judge = judge or RuleJudge(self.profile)
        self.recall_config = recall_config or RecallConfig()
        self.embed_episodes = embed_episodes
        self.extract_workers = extract_workers
        self._query_cache: dict[str, np.ndarray] = {}
        self._resolver_config = resolver or self.profile.resolver
        # A passage's facts are pooled from its tokens; a game's observations are short.
        self._attach(fact_vectors or (PASSAGE_TOKENS if self.documents else TEXT))

    def _attach(self, fact_vectors: str) -> None:
        """The indexes and the writer (with its resolver) over the graph the store holds now."""
        self.indexes = GraphIndexes(self.store, self.embedder, fact_vectors)
        self.triple_index, self.episode_index = self.indexes.triples, self.indexes.episodes
        self.fact_vectors = self.indexes.fact_vectors
        meta = self.store.meta()
        for key, value in (("embedder", self.embedder.name), (PROFILE, self.profile.name),
                           (FACT_VECTORS, self.fact_vectors)):
            if meta.get(key) != value:
                self.store.set_meta(key, value)
        self.writer = Writer(self.store, self.indexes, self.profile, self.judge, self._resolver_config,
                             self.embed_episodes)

    # --- set-up --------------------------------------------------------------------------------
    def _choose_profile(self, profile: DomainProfile | str | None) -> DomainProfile:
        stored = self.store.meta().get(PROFILE)
        if isinstance(profile, str):
            profile = profile_named(profile)
        if profile is None:
            return profile_named(stored) if stored else TEXT_GAME
        if stored and stored != profile.name:
            raise ConfigError(f"this graph was written with the {stored!r} profile, not "
                              f"{profile.name!r}: open it with profile={stored!r}")
        return profile

    def _stored_embedder(self) -> Embedder:
        """The embedder the graph was built with, when it is one of the named ones."""
        from .embedders import EMBEDDERS, embedder_named

        stored = self.store.meta().get("embedder")
        return embedder_named(stored) if stored in EMBEDDERS else default_embedder()

    @property
    def documents(self) -> bool:
        """Whether the graph's episodes are texts to retrieve (documents' passages, a
        conversation's turns): a ``CorpusGraph`` answers questions over them."""
        return self.profile.passages

    @property
    def resolver(self) -> EntityResolver:
        return self.writer.resolver

    @property
    def dropped_triples(self) -> int:
        """Extracted triples refused so far: malformed, empty or vague names."""
        return self.writer.dropped_triples

    def subscribe(self, listener: WriteListener) -> None:
        """Tell ``listener`` of every write and forget from now on (indices derived from the graph)."""
        self.writer.listeners.append(listener)

    @property
    def extractor(self) -> Extractor:
        if self._extractor is None:
            from .extract.offline import OfflineExtractor

            self._extractor = OfflineExtractor(profile=self.profile)  # documents read without game words
        return self._extractor

    # --- writing -------------------------------------------------------------------------------
    @_writing
    def observe(self, text: str, step: int, source_id: str | None = None, title: str = "",
                meta: Mapping[str, str] | None = None) -> ObserveResult:
        """Extract triples from ``text`` (an observation or passage) and remember them; ``meta``:
        the new episode's string metadata (a conversation turn's speaker, session, date)."""
        step = checked_step(step)  # before the extraction, which may cost an LLM call
        text, said = self._prepared(text, meta)
        raw = list(self.extractor.extract(said, context=[t for t in self.writer.recent if t.current]))
        vectors = episode_vector = None
        if text and self.fact_vectors == PASSAGE_TOKENS:
            passage = (source_id or "", title, text)  # the id keys known vectors only: there are none
            encoded = encode_passages(self.embedder, [passage], {}, True, self.embed_episodes,
                                      self.profile.embeds_title)
            (vectors,), (episode_vector,) = encoded.fact_vectors([passage], [raw]), encoded.episode_vectors
        return self.writer.write([Source(source_id, step, raw, text, title, episode_vector, vectors, meta)])[0]

    @_writing
    def observe_many(self, passages: Iterable[Passage | PassageWithMeta], step: int = 0,
                     episode_vectors: Mapping[str, np.ndarray] | None = None, batch_size: int = BATCH_PASSAGES,
                     on_batch: Callable[[int], None] | None = None,
                     steps: Sequence[int] | None = None) -> list[ObserveResult]:
        """Passages as (source_id, title, text), or (source_id, title, text, meta) to give the new
        episode string metadata, in batches of ``batch_size``: a batch is parsed on a thread while
        it is encoded (``ingest.pipeline``), and written once both are done.

        ``steps``: one step per passage (a conversation's turns, in the order said); else all at
        ``step``. ``episode_vectors``: passage embeddings already computed with this embedder, by
        source id. ``on_batch(n)``: called after each batch with the number of passages written so far.
        """
        items = [_passage_and_meta(item) for item in passages]
        if steps is not None and len(steps) != len(items):
            raise ConfigError(f"steps gives {len(steps)} steps for {len(items)} passages: one per passage")
        # Checked here, as the texts are, so that a bad one is refused before any batch is written.
        steps = [checked_step(at) for at in steps] if steps is not None else None
        step = checked_step(step)
        prepared = [((sid, title, stored), meta, said, step if steps is None else steps[n])
                    for n, ((sid, title, text), meta) in enumerate(items)
                    for stored, said in [self._prepared(text, meta)]]
        known = episode_vectors or {}
        results: list[ObserveResult] = []

        def write(batch: list[tuple[Passage, EpisodeMeta, str, int]], raws: list[list[RawTriple]],
                  encoded: EncodedPassages) -> None:
            facts = encoded.fact_vectors([p for p, _, _, _ in batch], raws)
            results.extend(self.writer.write(
                [Source(sid, at, list(raw), text, title, vec, rows, meta)
                 for ((sid, title, text), meta, _, at), raw, vec, rows
                 in zip(batch, raws, encoded.episode_vectors, facts)],
                embed_later=True))
            if on_batch is not None:
                on_batch(len(results))

        pipeline([prepared[i:i + batch_size] for i in range(0, len(prepared), batch_size)],
                 parse=lambda batch: extract_all(self.extractor, [said for _, _, said, _ in batch],
                                                 self.extract_workers),
                 encode=lambda batch: encode_passages(self.embedder, [p for p, _, _, _ in batch], known,
                                                      self.fact_vectors == PASSAGE_TOKENS, self.embed_episodes,
                                                      self.profile.embeds_title),
                 write=write)
        return results

    def _prepared(self, text: str, meta: Mapping[str, str] | None) -> tuple[str, str]:
        """(the episode's text, the text facts are extracted from): a dialogue turn is dated and its
        "I" and "you" named by its metadata, as its profile asks (``graphmem.dialogue``)."""
        if not isinstance(text, str):
            raise ConfigError(f"a text to observe must be a string, not {type(text).__name__}")
        if not meta or not (self.profile.speaker_pronouns or self.profile.relative_times):
            return text, text
        return prepared(text, meta, self.profile.speaker_pronouns, self.profile.relative_times)

    def bulk(self):
        """A context for loading many facts in a row (``add_sources``, or ``add_triples`` with
        ``vectors=...`` in a loop): Python's cyclic garbage collector pauses meanwhile, since
        everything a load makes stays alive and each collection would walk it all again (a fifth of
        a 200k-triple load)."""
        return gc_paused()

    @_writing
    def add_triples(self, triples: Iterable[Sequence[str] | Triple], step: int = 0,
                    source_id: str | None = None, text: str = "",
                    vectors: np.ndarray | None = None, meta: Mapping[str, str] | None = None,
                    ends: Sequence[str] = ()) -> ObserveResult:
        """Insert facts directly (no extraction); they still go through resolution and updates.

        ``vectors``: one precomputed embedding per triple (rows in the same order, this embedder's
        dimension; normalised here), so bulk loads embed nothing. A fact given twice keeps the
        first row; a fact already known keeps its vector. ``meta``: the new episode's string
        metadata. ``ends``: ids of current facts this source retires (a client deleting them: they
        stay in the history, and forgetting this source brings them back); ``triples`` may then be
        empty.
        """
        return self._add_direct([(source_id, step, triples, text)], vectors, meta, ends)[0]

    @_writing
    def add_sources(self, sources: Iterable[tuple[str | None, int, Iterable[Sequence[str] | Triple]]],
                    vectors: np.ndarray | None = None) -> list[ObserveResult]:
        """Many sources' facts in one call, for bulk loads: ``sources`` are (source_id, step, facts),
        and the result is what ``add_triples(facts, step, source_id=...)`` on each in turn gives
        (later sources see earlier ones: confirmations, retirements). What a call costs once
        (checking and normalising vectors, growing the vector index) is paid once for the batch.
        ``vectors``: one row per fact of all the sources, in order.
        """
        return self._add_direct([(source_id, step, facts, "") for source_id, step, facts in sources], vectors)

    def _add_direct(self, items: list[tuple[str | None, int, Iterable[Sequence[str] | Triple], str]],
                    vectors: np.ndarray | None, meta: Mapping[str, str] | None = None,
                    ends: Sequence[str] = ()) -> list[ObserveResult]:
        raws = [[(t.subject, t.relation, t.object) if isinstance(t, Triple) else tuple(t) for t in facts]
                for _, _, facts, _ in items]
        if vectors is not None:
            vectors = checked_vectors(vectors, sum(map(len, raws)), self.embedder)
        return self.writer.write([Source(source_id or stable_id("direct", step, *[x for r in raw for x in r], prefix="d"),
                                         step, raw, text, meta=meta, ends=ends)
                                  for (source_id, step, _, text), raw in zip(items, raws)], vectors)

    @_writing
    def forget(self, source_ids: str | Sequence[str]) -> list[str]:
        """Delete episodes/passages and every triple only they supported; returns the deleted
        triple ids. Facts their writes retired become current again (see ``forget_report``)."""
        return self.forget_report(source_ids).deleted

    @_writing
    def forget_report(self, source_ids: str | Sequence[str]) -> Forgotten:
        """``forget``, telling both what it deleted and what it made current again: the facts these
        sources' writes retired ("you take the knife" retired "knife on table"), unless a current
        fact still rules one out (the same fact told again since, or a rival value)."""
        return self.writer.forget([source_ids] if isinstance(source_ids, str) else list(source_ids))

    @_writing
    def reindex(self) -> dict[str, int]:
        """Rebuild the server's vector indexes now; kind -> the dead entries dropped. On FalkorDB
        each forgotten fact leaves a dead entry, and the store rebuilds by itself past a share of
        them (docs/servers.md); other stores have nothing to rebuild."""
        return self.store.reindex_vectors()

    @_writing
    def set_episode_meta(self, episode_id: str, meta: Mapping[str, str]) -> bool:
        """Replace an episode's string metadata, its text and facts untouched (a document's chunk
        that moved in its document keeps its facts); whether the episode is there."""
        return self.store.set_episode_meta(episode_id, checked_meta(meta))

    # --- reading -------------------------------------------------------------------------------
    @_reading
    def recall(self, queries: str | Sequence[str], query_vectors: np.ndarray | None = None,
               at: int | None = None, **overrides) -> Subgraph:
        """Triples associated with the queries (seeds + BFS) and the episodes that hold them.

        ``query_vectors``: the queries' embeddings, one row each, computed already (the texts are
        then not embedded). ``at``: a past step: the facts valid then (``valid_from <= at <
        valid_until``), retired ones included, rather than the current ones. ``overrides``: any
        RecallConfig field, e.g. ``depth=3, width=4``.
        """
        if isinstance(queries, str):
            queries = [queries]
        cfg = replace(self.recall_config, **overrides)
        if query_vectors is not None:
            qv = np.asarray(query_vectors, dtype=np.float32)
            if qv.ndim != 2 or qv.shape[1] != self.embedder.dim or len(qv) != len(queries):
                raise ConfigError(f"query_vectors must have shape ({len(queries)}, {self.embedder.dim}), "
                                  f"got {qv.shape}")
            squared_norms(qv, "query_vectors")
        else:
            queries = [q for q in queries if q and q.strip()]
            if not queries:
                return Subgraph()
            qv = self._encode_queries(queries)
        with one_blas_thread():
            if at is None:
                found = associative(qv, self.triple_index, self.store, cfg, self.indexes.row_view())
            else:
                facts, vectors = self._valid_at(checked_step(at))
                found = associative_at(qv, facts, vectors, cfg)
        triples = [t for t, _ in found]
        on_server = isinstance(self.triple_index, ServerVectorIndex)  # its vectors are not read
        return Subgraph(triples, rank_episodes(triples, self.store, cfg, qv, vectors=not on_server))

    def _valid_at(self, step: int) -> tuple[list[Triple], np.ndarray]:
        """The facts valid at ``step`` and their vectors (the index keeps a retired fact's row)."""
        facts = [t for t in self.store.triples(current_only=False)
                 if t.valid_from <= step and (t.valid_until is None or step < t.valid_until)]
        return self.indexes.vectors_of(facts)

    def _encode_queries(self, queries: list[str]) -> np.ndarray:
        """Agents ask the same questions step after step: keep recent query vectors."""
        todo = [q for q in dict.fromkeys(queries) if q not in self._query_cache]
        if todo:
            for q, v in zip(todo, self.embedder.encode(todo)):
                self._query_cache[q] = v
            while len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.pop(next(iter(self._query_cache)))
        return np.stack([self._query_cache[q] for q in queries])

    @_reading
    def history(self, entity: str) -> list[Triple]:
        """Every triple ever known about ``entity``, retired ones included, oldest first."""
        return self.store.triples_of_entity(self.resolver.resolve(entity), current_only=False)

    @_reading
    def current(self) -> list[Triple]:
        return self.store.triples()

    @_reading
    def stats(self) -> dict:
        return self.store.counts()

    # --- lifecycle -----------------------------------------------------------------------------
    @_writing
    def save(self) -> None:
        """Write the changes made since the last save (atomic: the file holds the old graph or the
        new one). When it fails (a full disk: ``FileWriteError``), the changes stay pending: the
        memory still serves them and the next ``save()`` or ``close()`` writes them all, so freeing
        space and saving again loses nothing; ``discard_changes()`` drops them instead."""
        self.indexes.keep_ann()
        self.store.flush()

    @_writing
    def discard_changes(self) -> bool:
        """Go back to the graph as last saved: the changes since (a failed save's, or those of a
        write that failed half-way) are dropped, and the indexes and the name resolver are read
        again from the saved graph, and so are the indices of whatever listens to its writes (a
        corpus graph over it). Whether anything was dropped: False when nothing changed, and on a
        store with no saved graph to go back to (in memory) or that commits each write (a graph
        server)."""
        if not self.store.discard_changes():
            return False
        listeners = self.writer.listeners
        self._attach(self.fact_vectors)
        self.writer.listeners = listeners
        for listener in listeners:
            listener.reloaded()
        return True

    def close(self) -> None:
        """Save pending changes and let go of the graph (its file's lock); closing again does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self.indexes.keep_ann()
            finally:
                self.store.close()

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _passage_and_meta(item: Passage | PassageWithMeta) -> tuple[Passage, EpisodeMeta]:
    """An ``observe_many`` item split into its passage and its episode's metadata."""
    if len(item) == 3:
        return item, None
    if len(item) == 4:  # checked here so that a bad one is refused before any batch is written
        return (item[0], item[1], item[2]), None if item[3] is None else checked_meta(item[3])
    raise ConfigError(f"observe_many takes (source_id, title, text) or (source_id, title, text, meta) "
                      f"items, not {len(item)}-tuples")
