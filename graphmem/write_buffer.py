"""A batch of sources written to a server store in one round trip (``Writer.write``): the reads
the writer makes of each source are answered here, from what the batch's facts can touch (read
from the server at once) and what the batch's earlier sources wrote, and the writes are kept here
until ``flush`` sends them all in one call (``GraphStore.write_batch``).

Why: on a server every read and write is a round trip, and a source's write reads (its facts'
current copies, its entities' facts that it may retire, its episode) and writes (triples,
retirements, the episode) five or six times, while a later source must see what an earlier one
did. The writer already knows everything the batch writes, so the retirements and confirmations
are decided here, client-side, exactly as the store would have answered them.

What the batch reads is known before it is written: the current copies of its facts (read by
fact, not by entity: a hub's thousands of facts would travel with their vectors otherwise), the
facts of the entities whose facts it may retire (the judge says which), and every source's
episode. A read outside that (an id a source says it ends; the next current copy of a fact whose
newest copy the batch retired) is asked of the server then, and merged.

Reads hand out copies and writes keep copies, as a server's would: a triple a source was given
stays as it was when a later source of the batch retires or confirms it.

Another client may write between the batch's reads and its write. The write therefore says what
each triple it read had then (its sources), so that the store can apply only the batch's changes
to what it holds by the time it writes (``GraphStore.write_batch``; docs/servers.md says what is
kept and what can still happen).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Sequence

from .model import Episode, Triple, ordered_unique
from .store.base import GraphStore

Fact = tuple[str, str, str]


def _fact(t: Triple) -> Fact:
    return t.subject, t.relation, t.object


def _copy_triple(t: Triple) -> Triple:
    return replace(t, sources=list(t.sources))


def _copy_episode(e: Episode | None) -> Episode | None:
    return None if e is None else replace(e, triple_ids=list(e.triple_ids), meta=dict(e.meta))


class WriteBuffer:
    """``store`` as a batch sees it: the current copies of ``facts``, the current facts of
    ``entities`` and the episodes ``episode_ids`` read at once (three round trips at most), then
    every read answered here and every write kept until ``flush``."""

    def __init__(self, store: GraphStore, facts: Iterable[Fact], entities: Iterable[str],
                 episode_ids: Iterable[str]):
        self.store = store
        self._triples: dict[str, Triple] = {}  # every triple the batch has seen, by id
        self._by_entity: dict[str, set[str]] = {}  # entity -> ids of the triples above touching it
        self._by_fact: dict[Fact, set[str]] = {}  # (subject, relation, object) -> ids of its triples
        self._covered: set[str] = set()  # entities whose current triples are all in _triples
        self._episodes: dict[str, Episode | None] = {}  # None: known to be absent
        self._read_sources: dict[str, list[str]] = {}  # id -> sources of the triple as first read
        self._dirty_triples: dict[str, Triple] = {}
        self._dirty_episodes: dict[str, Episode] = {}
        asked = list(dict.fromkeys(facts))
        for t in store.find_current_many(asked).values() if asked else ():
            self._keep_read(t)
        self._cover(ordered_unique(entities))
        ids = ordered_unique(episode_ids)
        found = {e.id: e for e in store.get_episodes(ids)} if ids else {}
        self._episodes.update((i, found.get(i)) for i in ids)

    def _cover(self, entities: Sequence[str]) -> None:
        """Read the current triples of ``entities`` not covered yet; those the batch holds already
        stay as the batch made them."""
        todo = [e for e in entities if e not in self._covered]
        if not todo:
            return
        for t in self.store.triples_of_entities(todo):
            if t.id not in self._triples:
                self._keep_read(t)
        self._covered.update(todo)

    def _keep_read(self, t: Triple) -> None:
        self._read_sources.setdefault(t.id, list(t.sources))
        self._keep(t)

    def _keep(self, t: Triple) -> None:
        old = self._triples.get(t.id)
        if old is not None and old is not t:
            for name in (old.subject, old.object):
                self._by_entity.get(name, set()).discard(t.id)
            self._by_fact.get(_fact(old), set()).discard(t.id)
        self._triples[t.id] = t
        for name in (t.subject, t.object):
            self._by_entity.setdefault(name, set()).add(t.id)
        self._by_fact.setdefault(_fact(t), set()).add(t.id)

    # --- the reads a source's write makes ------------------------------------------------------
    def triples_of_entities(self, entities: Iterable[str], current_only: bool = True) -> list[Triple]:
        """Current triples touching any of ``entities``, ordered by (valid_from, id)."""
        assert current_only, "a batch's writes read current triples only"
        names = ordered_unique(entities)
        self._cover(names)
        ids = {i for name in names for i in self._by_entity.get(name, ())}
        found = (self._triples[i] for i in ids)
        return sorted((_copy_triple(t) for t in found if t.current), key=lambda t: (t.valid_from, t.id))

    def find_current_many(self, facts: Sequence[Fact]) -> dict[Fact, Triple]:
        """Per fact, its current triple (the newest, then the first id), as the store answers.
        The store told the newest current copy only: where the batch retired that one, the
        fact's subject is read whole for the copies before it."""
        out: dict[Fact, Triple] = {}
        for fact in dict.fromkeys(facts):
            same = [self._triples[i] for i in self._by_fact.get(fact, ())]
            if fact[0] not in self._covered and same and not any(t.current for t in same):
                self._cover([fact[0]])
                same = [self._triples[i] for i in self._by_fact.get(fact, ())]
            current = [t for t in same if t.current]
            if current:
                out[fact] = _copy_triple(min(current, key=lambda t: (-t.valid_from, t.id)))
        return out

    def get_episode(self, episode_id: str) -> Episode | None:
        if episode_id not in self._episodes:
            self._episodes[episode_id] = self.store.get_episode(episode_id)
        return _copy_episode(self._episodes[episode_id])

    # --- the writes, kept until flush ----------------------------------------------------------
    def add_triples(self, triples: Iterable[Triple]) -> None:
        for given in triples:
            t = _copy_triple(given)
            self._keep(t)
            self._dirty_triples[t.id] = t

    def retire(self, triple_ids: Iterable[str], step: int, by: str | None = None) -> list[str]:
        """Retire the current ones among ``triple_ids``; their ids, in the order asked."""
        ids = ordered_unique(triple_ids)
        unknown = [i for i in ids if i not in self._triples]
        for read in self.store.get_triples(unknown) if unknown else ():
            self._keep_read(read)
        retired = []
        for i in ids:
            t = self._triples.get(i)
            if t is not None and t.current:
                t.valid_until, t.retired_by = int(step), by
                self._dirty_triples[i] = t
                retired.append(i)
        return retired

    def add_episode(self, episode: Episode) -> None:
        kept = _copy_episode(episode)
        assert kept is not None
        self._episodes[episode.id] = self._dirty_episodes[episode.id] = kept

    def flush(self) -> None:
        """Write what the batch changed, in one call to the store, with what it read of it."""
        if self._dirty_triples or self._dirty_episodes:
            self.store.write_batch(list(self._dirty_triples.values()), list(self._dirty_episodes.values()),
                                   read_sources={i: self._read_sources[i] for i in self._dirty_triples
                                                 if i in self._read_sources})
        self._dirty_triples, self._dirty_episodes = {}, {}
