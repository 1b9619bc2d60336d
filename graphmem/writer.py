"""The one write path of the engine: sources' facts -> resolver -> judge of outdated facts -> store,
with the vector indexes kept in step and every write told to whoever keeps indices derived from it.

Whatever a fact came from (an observation, a passage, a bulk load), ``Writer.write`` stores it the
same way; ``Memory`` only turns texts into facts and vectors before handing them here.
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Protocol, Sequence

import numpy as np

from .embedders.sentence_transformer import Embedder
from .errors import ConfigError
from .extract.base import RawTriple, well_formed
from .indexes import GraphIndexes, embed_facts
from .model import Episode, Triple, embedded_text, is_string_map, ordered_unique, stable_id
from .normalize import EntityResolver, ResolverConfig, canonical_entity, canonical_relation
from .profiles import DomainProfile
from .store.base import GraphStore
from .trust import trust_of
from .update import OutdatedJudge
from .write_buffer import WriteBuffer

log = logging.getLogger(__name__)
CONTEXT_TRIPLES = 30  # known facts shown to an LLM extractor as naming examples
# The largest step every graph file keeps exactly: the archive's columns are int64, and a JSON
# reader may hold numbers as doubles, which count whole numbers exactly up to 2**53.
MAX_STEP = 2**53
# Facts per batch a server store writes at once (``write_buffer``): the most one round trip
# carries, as the Bolt store's UNWIND chunks.
BATCH_FACTS = 2000

# (entity, "observation", text): a text said about an entity (the reference memory server's
# observations). Its object is a literal, not a name: it is never resolved onto a known name, nor one
# that names resolve onto, since sentences a word apart ("is vegetarian", "is not vegetarian") are
# as close as two spellings of one name are.
OBSERVATION = "observation"
LITERAL_RELATIONS = frozenset({OBSERVATION})

FactVectors = np.ndarray | Sequence[np.ndarray | None]  # one row per fact; a None row is embedded


@dataclass
class ObserveResult:
    episode: Episode
    added: list[Triple] = field(default_factory=list)
    confirmed: list[Triple] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


@dataclass
class Forgotten:
    """What forgetting sources did: the triples only they supported, deleted, and the triples their
    writes had retired, made current again (``Writer.forget``)."""

    deleted: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


@dataclass
class Source:
    """One source's facts to write: an observation, a passage, or facts given directly.

    ``source_id``: the episode's id (None: one made from the step and text). ``episode_vector``:
    the episode's embedding, when computed already. ``vectors``: one row per item of ``facts``.
    ``meta``: the new episode's string metadata (an episode written again keeps its first).
    ``ends``: ids of current facts the source says no longer hold (a client deleting a relation):
    retired at its step on its behalf, so that forgetting the source makes them current again."""

    source_id: str | None
    step: int
    facts: Sequence[Sequence[str]]  # RawTriples; an item that is not three strings is dropped, and counted
    text: str = ""
    title: str = ""
    episode_vector: np.ndarray | None = None
    vectors: FactVectors | None = None
    meta: Mapping[str, str] | None = None
    ends: Sequence[str] = ()

    def __post_init__(self) -> None:
        self.step = checked_step(self.step)
        if self.meta is not None:  # refused before anything is written, not when the file is read
            self.meta = checked_meta(self.meta)


class WriteListener(Protocol):
    """Keeps indices derived from the graph (a corpus graph's mentions and PageRank matrix)."""

    def written(self, results: Sequence[ObserveResult]) -> None: ...

    def forgotten(self, source_ids: Sequence[str], deleted: Sequence[str], restored: Sequence[str]) -> None:
        """``deleted``: the facts only these sources supported; ``restored``: the facts their
        writes had retired, current again."""

    def reloaded(self) -> None:
        """The graph was read again from its store (changes since the last save dropped): what is
        derived from it is derived again."""


def checked_vectors(vectors, n: int, embedder: Embedder) -> np.ndarray:
    """Caller-given fact vectors, one row per fact, normalised; a clear error for any other shape."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape != (n, embedder.dim):
        raise ConfigError(f"vectors must have shape ({n}, {embedder.dim}) (one row per triple, "
                          f"{embedder.name}'s dimension), got {vectors.shape}")
    return vectors / np.sqrt(squared_norms(vectors, "vectors"))[:, None]


def squared_norms(vectors: np.ndarray, what: str) -> np.ndarray:
    """Each row's squared length; ConfigError unless every row is finite and non-zero, since such a
    row has no direction and is similar to nothing."""
    squares = np.einsum("ij,ij->i", vectors, vectors)
    if len(squares) and not 0 < squares.min() <= squares.max() < np.inf:  # NaN fails both comparisons
        raise ConfigError(f"{what} must be finite and non-zero")
    return squares


def checked_step(step) -> int:
    """``step`` as a Python int; ConfigError unless it is a whole number in [0, MAX_STEP] (numpy's
    integers are, bools are not), since a graph file holding any other step cannot be saved or read
    back, and a negative one would sort before the graph's beginning."""
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step <= MAX_STEP:
        raise ConfigError(f"step must be a whole number from 0 to 2**53 (what every graph file keeps "
                          f"exactly), not {step!r:.80}")
    return int(step)


def checked_meta(meta: Mapping[str, str]) -> dict[str, str]:
    """A copy of an episode's metadata; ConfigError unless it maps strings to strings, since a
    graph file holding anything else would fail to load."""
    copy = dict(meta)
    if not is_string_map(copy):
        raise ConfigError(f"episode meta must map strings to strings, got {copy!r:.120}")
    trust_of(copy)  # a trust retrieval could not read is refused now, not at query time
    return copy


class Writer:
    """Writes sources' facts under a domain profile's rules: names resolved onto known entities,
    each fact stored once (a fact told again gains a source), outdated facts retired, episodes
    linked to their facts. ``embed_episodes``: an episode without a vector gets its text's."""

    def __init__(self, store: GraphStore, indexes: GraphIndexes, profile: DomainProfile, judge: OutdatedJudge,
                 resolver: ResolverConfig, embed_episodes: bool = True):
        self.store = store
        self.indexes = indexes
        self.embedder = indexes.embedder
        self.profile = profile
        self.judge = judge
        self.embed_episodes = embed_episodes
        self.dropped_triples = 0  # extracted triples refused: malformed, empty or vague names
        self._resolver = EntityResolver(resolver, encode=self.embedder.encode if resolver.use_embeddings else None)
        self._resolver_loaded = False
        # Facts written lately, shown to an LLM extractor as naming examples (no store round trip).
        self.recent: deque[Triple] = deque(maxlen=CONTEXT_TRIPLES)
        self.listeners: list[WriteListener] = []

    @property
    def resolver(self) -> EntityResolver:
        """Knows the graph's entities from the first time a name is resolved (reading needs none)."""
        if not self._resolver_loaded:
            self._resolver_loaded = True
            self._resolver.add_many(self.store.entities())
        return self._resolver

    def write(self, sources: Sequence[Source], matrix: np.ndarray | None = None, *,
              embed_later: bool = False) -> list[ObserveResult]:
        """Write the sources in order (a later one confirms or retires an earlier one's facts) and
        index their new facts at once.

        ``matrix``: the facts' vectors, one row per fact of all the sources in order (checked;
        the sources' own ``vectors`` are then ignored). Facts still without a vector are embedded
        per source before being stored; with ``embed_later``, all together once the batch is
        written, and stored again with them (later sources of the batch must find them stored)."""
        results: list[ObserveResult] = []
        kept: list[int] = []  # the matrix's rows of the facts added
        start = 0
        for batch in self._batches(sources):
            store, normalised = self._batch_view(batch)
            for source, facts in zip(batch, normalised):
                n = len(source.facts)
                vectors = source.vectors if matrix is None else matrix[start:start + n]
                result, rows = self._remember(source, vectors, not embed_later, store, facts)
                results.append(result)
                kept.extend(start + row for row in rows)
                start += n
            if isinstance(store, WriteBuffer):
                store.flush()
        if matrix is not None and len(kept) < len(matrix):
            matrix = matrix[kept]  # one gather; none in a load of new facts only
        added = self.indexes.add_batch(results, matrix)
        if embed_later:
            self.store.add_triples(added)
        for listener in self.listeners:
            listener.written(results)
        return results

    def _batches(self, sources: Sequence[Source]) -> Iterable[Sequence[Source]]:
        """The sources in batches written at once: on a store that batches writes, as many
        sources as hold ``BATCH_FACTS`` facts (at least one); elsewhere all of them, one by one."""
        if not self.store.batches_writes:
            yield sources
            return
        first, facts = 0, 0
        for i, source in enumerate(sources):
            if facts and facts + len(source.facts) > BATCH_FACTS:
                yield sources[first:i]
                first, facts = i, 0
            facts += len(source.facts)
        if first < len(sources):
            yield sources[first:]

    def _batch_view(self, batch: Sequence[Source]) -> tuple[GraphStore | WriteBuffer, list[dict[RawTriple, int] | None]]:
        """The store the batch's sources are written to, and their facts normalised (None: each is
        normalised as it is written). On a store that batches writes: a ``WriteBuffer`` over what
        the batch can touch, read at once, with every fact normalised first; the names each
        source adds are known to the resolver before the next is normalised, as when they are
        written one by one."""
        if not self.store.batches_writes:
            return self.store, [None] * len(batch)
        normalised: list[dict[RawTriple, int] | None] = []
        for source in batch:
            facts = self._normalise(source.facts)
            self.resolver.add_many(_names_of(facts))
            normalised.append(facts)
        batch_facts = [fact for each in normalised for fact in each or ()]
        buffer = WriteBuffer(self.store, batch_facts, self._at_stake([Triple(*fact) for fact in batch_facts]),
                             [_episode_id(source) for source in batch])
        return buffer, normalised

    def forget(self, source_ids: Sequence[str]) -> Forgotten:
        """Delete episodes and every triple only they supported, then make current again what each
        one's writes retired (``_restore``): without the source, nothing says those facts ended."""
        done = Forgotten()
        for source_id in source_ids:
            gone = self.store.delete_source(source_id)
            self.indexes.forget(source_id, gone)
            done.deleted += gone
            done.restored += self._restore(source_id)
        for listener in self.listeners:
            listener.forgotten(source_ids, done.deleted, done.restored)
        return done

    def _restore(self, source_id: str) -> list[str]:
        """Make current again the surviving triples that ``source_id``'s writes retired; returns
        their ids. One that a current triple still rules out (the same fact told again since, or a
        value the judge would retire it for) stays retired, now on behalf of that triple's first
        source, so that forgetting that source in turn brings it back."""
        retired = self.store.retired_by_source(source_id)
        if not retired:
            return []
        current = self.store.triples_of_entities(ordered_unique(x for t in retired for x in (t.subject, t.object)))
        current.reverse()  # newest first: the likeliest to rule a fact out
        back, kept = [], []
        for t in retired:
            keeper = self._keeper(t, current)
            if keeper is None:
                back.append(replace(t, valid_until=None, retired_by=None))
            else:
                kept.append(replace(t, retired_by=keeper.sources[0] if keeper.sources else None))
        self.store.add_triples(back + kept)
        self.indexes.restore(back)
        return [t.id for t in back]

    def _keeper(self, retired: Triple, current: list[Triple]) -> Triple | None:
        """The current triple that keeps ``retired`` retired, if any: its own fact made current
        again later, or one the judge says replaces it (asked once about all of ``current``, and
        only when that says yes, about one triple at a time)."""
        same = next((c for c in current if c.key == retired.key), None)
        if same is not None:
            return same
        probe = [replace(retired, valid_until=None)]  # the judge only retires what is current
        if not self.judge.outdated(current, probe):
            return None
        return next((c for c in current if self.judge.outdated([c], probe)), current[0])  # else the newest

    def _remember(self, source: Source, vectors: FactVectors | None, embed: bool,
                  store: GraphStore | WriteBuffer, facts: dict[RawTriple, int] | None) -> tuple[ObserveResult, list[int]]:
        """Store one source's facts and its episode in ``store`` (the caller indexes the new
        facts). Facts without a vector are embedded here unless ``embed`` is False. ``facts``: the
        source's facts normalised already (``_normalise``), or None. Returns the result and the
        row of each added fact in ``source.facts``."""
        step, text, title = source.step, source.text, source.title
        episode_id = _episode_id(source)
        added, confirmed, touched, rows = [], [], [], []
        if facts is None:
            facts = self._normalise(source.facts)
        current = store.find_current_many(list(facts))  # one round trip on a server
        for (s, r, o), row in facts.items():
            old = current.get((s, r, o))
            if old is not None:
                if episode_id not in old.sources:
                    old.sources.append(episode_id)
                    touched.append(old)
                confirmed.append(old)
            else:
                added.append(Triple(s, r, o, valid_from=step, sources=[episode_id]))
                rows.append(row)
        if vectors is not None:
            for t, row in zip(added, rows):
                t.embedding = vectors[row]
        missing = [t for t in added if t.embedding is None] if embed else []
        if missing:  # before storing: a server store writes each triple with its vector
            embed_facts(self.embedder, missing)
        retired = self._retire_outdated(added, step, episode_id, store)
        if source.ends:
            retired += store.retire([i for i in source.ends if i not in retired], step, by=episode_id)
        self.recent.extend(confirmed + added)
        self.resolver.add_many(_names_of((t.subject, t.relation, t.object) for t in added))
        store.add_triples(added + touched)
        episode = store.get_episode(episode_id)
        ids = [t.id for t in confirmed + added]
        if episode is None:
            episode = Episode(episode_id, step, text, ids, title=title, meta=dict(source.meta or {}))
            vector = source.episode_vector
            if vector is None and self.embed_episodes and text:
                vector = self.embedder.encode([embedded_text(title, text, self.profile.embeds_title)])[0]
            if vector is not None:
                episode.embedding = vector
                self.indexes.add_episode(episode_id, episode.embedding)
        else:
            episode.triple_ids = ordered_unique(episode.triple_ids + ids)
        store.add_episode(episode)
        return ObserveResult(episode, added, confirmed, retired), rows

    def _normalise(self, raw: Iterable[Sequence[str]]) -> dict[RawTriple, int]:
        """Resolved facts, each once, with the position of the first raw item that gave it."""
        out: dict[RawTriple, int] = {}
        resolve = self.resolver.resolve
        ignored = self.profile.ignored_names
        for pos, item in enumerate(raw):
            if not well_formed(item):
                log.warning("dropping malformed triple %r", item)
                self.dropped_triples += 1
                continue
            s, r = resolve(item[0]), canonical_relation(item[1])
            o = canonical_entity(item[2]) if r in LITERAL_RELATIONS else resolve(item[2])
            if s and r and o and s != o and s not in ignored and o not in ignored:
                out.setdefault((s, r, o), pos)
            else:
                self.dropped_triples += 1
        return out

    def _retire_outdated(self, added: list[Triple], step: int, source_id: str,
                         store: GraphStore | WriteBuffer) -> list[str]:
        if not added:
            return []
        entities = self._at_stake(added)
        if not entities:
            return []
        existing = store.triples_of_entities(entities)
        if not self.profile.retire_across_sources:
            # Only what the same source said: another source's fact is a claim of its own.
            sources = {s for t in added for s in t.sources}
            existing = [t for t in existing if t.sources and sources.issuperset(t.sources)]
        return store.retire(self.judge.outdated(added, existing), step, by=source_id)


    def _at_stake(self, added: Sequence[Triple]) -> list[str]:
        """The entities whose current facts ``added`` may retire: those a judge that says so
        names, else every endpoint."""
        at_stake = getattr(self.judge, "at_stake", None)
        if at_stake is not None:
            return at_stake(added)
        return ordered_unique(x for t in added for x in (t.subject, t.object))


def _episode_id(source: Source) -> str:
    return source.source_id or stable_id("ep", source.step, source.text, prefix="e")


def _names_of(facts: Iterable[RawTriple]) -> Iterable[str]:
    """The entity names facts bring to the resolver (a literal's object is no name)."""
    return (x for s, r, o in facts for x in ((s,) if r in LITERAL_RELATIONS else (s, o)))
