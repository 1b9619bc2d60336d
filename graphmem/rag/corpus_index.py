"""What a corpus graph derives from its store, kept current by the memory's write events: passage
-> entity mentions, the facts' edges between entities, synonym edges between entities whose names
share most of their character trigrams, and the section each document chunk lies in; and what
retrieval builds from those on first use after a change (the PageRank walk with its section nodes,
the names questions are matched against, the BM25 index).

Nothing here is saved: it is rebuilt from the store on open, on any store, so one graph can be
queried with any retrieval settings.
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..corpus import DOCUMENT, SECTION, SECTION_SEPARATOR
from ..model import Episode, Triple
from ..store.base import GraphStore
from ..trust import FULL_TRUST, trust_of
from ..writer import ObserveResult
from .attribution import named_person
from .base import top_k
from .mentions import NAMED_IN_TEXT, TITLE, MentionIndex, find_names, match_tokens, name_key
from .ppr import Walk, transition_matrix
from .synonyms import TrigramIndex

if TYPE_CHECKING:
    from .bm25 import BM25Retriever
    from .config import GraphRAGConfig

SYNONYM_CHUNK = 512  # new names compared with the known ones at a time
SESSION = "session"  # the episode metadata that groups passages said one after another
SPEAKER = "speaker"  # the episode metadata that names who said a conversation's turn
# A section node's name starts so; no entity's can (canonical names keep no such sign).
SECTION_NODE = "\u00a7 "


class CorpusIndex:
    """The derived indices of the corpus graph in ``store``; a ``WriteListener`` of its memory."""

    def __init__(self, store: GraphStore, config: GraphRAGConfig):
        self.store = store
        self.config = config
        self.names = TrigramIndex()
        self.mentions = MentionIndex(config.link_titles, title_aliases=config.title_aliases,
                                     link_names=config.link_names)
        self.edges: dict[str, tuple[str, str]] = {}  # current triple id -> (subject, object)
        self.synonyms: dict[tuple[str, str], float] = {}
        # session -> {turn id: its step}: a conversation session's turns in the order they were said
        self.sessions: dict[str, dict[str, int]] = {}
        self.speakers: dict[str, str] = {}  # turn id -> who said it
        self.trust: dict[str, float] = {}  # passage id -> its source's trust, where below full
        # passage id -> where it comes from (its document, else its title): facts stated by
        # passages of several origins are corroborated
        self.origins: dict[str, str] = {}
        # chunk id -> (its origin, the headings of the section it lies in), for chunks under a heading
        self.sections: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._changed()
        # Names, texts and ids only: on a server the vectors stay there (most of the bytes).
        self._index(store.episodes(vectors=False), store.triples(vectors=False))

    def _changed(self) -> None:
        """Drop what is built on first use from the indices."""
        self._walk: tuple[list[str], dict[str, int], int, Walk] | None = None  # (nodes, node index,
        # number of entities, the prepared walk)
        self._name_keys: dict[str, str] | None = None  # match tokens -> entity, for questions
        self._bm25: BM25Retriever | None = None  # lexical passage index, only with a lexical prior
        self._title_share: float | None = None
        self._rows: tuple[list[str], np.ndarray] | None = None  # (dense index ids, their node rows)
        # for the passage prior
        self._neighbours: tuple[list[str], np.ndarray, np.ndarray] | None = None  # (ids, the
        # position of each one's previous and next passage in its session, itself where none)
        self._trust_rows: tuple[list[str], np.ndarray] | None = None  # (passage ids, their trust)
        self._speaker_rows: tuple[list[str], np.ndarray, set[str]] | None = None  # (passage ids, who
        # said each, every speaker)

    # --- the memory's write events ---------------------------------------------------------------
    def written(self, results: Sequence[ObserveResult]) -> None:
        self._index([r.episode for r in results], [t for r in results for t in r.added])

    def forgotten(self, source_ids: Sequence[str], deleted: Sequence[str]) -> None:
        orphans: list[str] = []
        for pid in source_ids:
            if pid in self.mentions:
                orphans += self.mentions.remove(pid)
        for tid in deleted:
            self.edges.pop(tid, None)
        for turns in self.sessions.values():
            for pid in source_ids:
                turns.pop(pid, None)
        for pid in source_ids:
            self.speakers.pop(pid, None)
            self.trust.pop(pid, None)
            self.origins.pop(pid, None)
            self.sections.pop(pid, None)
        gone = {n for n in orphans if n not in self.mentions.passages_of}
        self.synonyms = {k: v for k, v in self.synonyms.items() if not gone.intersection(k)}
        self._changed()

    def moved(self, episodes: Sequence[Episode]) -> None:
        """Episodes whose meta changed (a chunk that moved in its document): their section
        follows, and a turn's place in its session."""
        for ep in episodes:
            for members in self.sessions.values():
                members.pop(ep.id, None)
            self._place_turn(ep)
            self._source(ep)
        self._changed()

    def _place_turn(self, ep: Episode) -> None:
        """Place a conversation's turn in its session, by its step, and note who said it. A
        document's chunks join no sequence: the chunker makes each one stand alone (a few
        paragraphs under their heading), and lending a chunk its neighbours' scores cost recall on
        every document corpus measured (docs/qa.md), where a turn often answers the one before it."""
        if session := ep.meta.get(SESSION):
            self.sessions.setdefault(session, {})[ep.id] = ep.step
        if speaker := ep.meta.get(SPEAKER):
            self.speakers[ep.id] = speaker
        else:
            self.speakers.pop(ep.id, None)

    def _source(self, ep: Episode) -> None:
        """Record a passage's trust (only where below full: most corpora trust everything), its
        origin and its section."""
        trust = trust_of(ep.meta)
        if trust < FULL_TRUST:
            self.trust[ep.id] = trust
        else:
            self.trust.pop(ep.id, None)
        origin = self.origins[ep.id] = ep.meta.get(DOCUMENT) or ep.title or ep.id
        if headings := ep.meta.get(SECTION):
            self.sections[ep.id] = (origin, tuple(headings.split(SECTION_SEPARATOR)))
        else:
            self.sections.pop(ep.id, None)

    def _index(self, episodes: Sequence[Episode], triples: Sequence[Triple]) -> None:
        """Derived indices for episodes just written (or loaded) and the triples new with them."""
        self.edges.update((t.id, (t.subject, t.object)) for t in triples if t.current)
        for ep in episodes:
            self._place_turn(ep)
            self._source(ep)
        title = self.config.title_entities
        new_entities = self.mentions.add(
            (ep.id, ep.title if title else "", self._fact_names(ep), ep.text) for ep in episodes)
        if new_entities:
            self.names.add(new_entities)
            self._link_synonyms(new_entities)
        self._changed()

    def _fact_names(self, ep: Episode) -> list[str]:
        edges = self.edges
        names = [n for tid in ep.triple_ids if tid in edges for n in edges[tid]]
        return [n for n in dict.fromkeys(names) if n]

    def _link_synonyms(self, names: Sequence[str]) -> None:
        """Synonym edges from each new entity to its closest known ones above the threshold."""
        cfg = self.config
        for start in range(0, len(names), SYNONYM_CHUNK):
            chunk = names[start:start + SYNONYM_CHUNK]
            sims = self.names.similarities(chunk)
            for name, lo, hi in zip(chunk, sims.indptr[:-1], sims.indptr[1:]):
                row, cols = sims.data[lo:hi], sims.indices[lo:hi]
                close = row >= cfg.synonym_threshold
                candidates = [self.names.names[c] for c in cols[close]]
                for other, sim in top_k(candidates, row[close], cfg.synonym_top_k + 1):
                    if other != name and other in self.mentions.passages_of:
                        self.synonyms[min(name, other), max(name, other)] = sim

    # --- built on first use after a change -------------------------------------------------------
    def walk(self) -> tuple[list[str], dict[str, int], int, Walk]:
        """Node order (entities, then section nodes, then passages, each sorted), node index, the
        number of nodes before the passages and the prepared walk."""
        if self._walk is None:
            entities = sorted(self.mentions.passages_of)
            sections = self.section_links()
            passages = sorted(self.mentions.kinds)
            nodes = entities + sorted(sections) + passages
            pos = {n: i for i, n in enumerate(nodes)}
            links = [(pos[s], pos[o], 1.0) for s, o in self.edges.values() if s in pos and o in pos]
            weight = self.config.section_weight
            links += [(pos[node], pos[other], weight) for node, linked in sections.items() for other in linked]
            links += [(pos[pid], pos[name], 1.0) for pid, kinds in self.mentions.kinds.items() for name in kinds]
            links += [(pos[a], pos[b], sim) for (a, b), sim in self.synonyms.items()]
            if self.config.short_names:
                links += [(pos[a], pos[b], 1.0) for a, b in self.short_names() if a in pos and b in pos]
            rows = [r for r, _, _ in links]
            cols = [c for _, c, _ in links]
            w = [weight for _, _, weight in links]
            self._walk = (nodes, pos, len(nodes) - len(passages), Walk(transition_matrix(len(nodes), rows, cols, w)))
        return self._walk

    def section_links(self) -> dict[str, list[str]]:
        """Section node -> the nodes it links: the chunks whose nearest section with a node it
        is, the node of the nearest section above it that has one, and its document's node (the
        title entity its chunks mention).

        A section gets a node where two or more chunks lie in it or under it, so that a question
        matching one of them spreads to the others as a document's node spreads it over the
        document; but not where those are all of the document's chunks (the document's node is
        that node already) nor where one chunk is (the node would only be a detour). Corpora
        without sections (Wikipedia paragraphs, a conversation's turns) get none."""
        if self.config.section_weight <= 0 or not self.sections:
            return {}
        held = Counter(self.origins.values())  # chunks per document
        under: dict[tuple[str, tuple[str, ...]], list[str]] = {}  # section -> chunks in or under it
        for pid, (origin, headings) in sorted(self.sections.items()):
            for depth in range(1, len(headings) + 1):
                under.setdefault((origin, headings[:depth]), []).append(pid)
        noded = {key for key, chunks in under.items() if 1 < len(chunks) < held[key[0]]}

        def nearest(origin: str, headings: tuple[str, ...]) -> str | None:
            """The node of the nearest section at or above ``headings`` that has one."""
            for depth in range(len(headings), 0, -1):
                if (origin, headings[:depth]) in noded:
                    return section_node(origin, headings[:depth])
            return None

        links: dict[str, list[str]] = {section_node(*key): [] for key in noded}
        for pid, (origin, headings) in sorted(self.sections.items()):
            if (node := nearest(origin, headings)) is not None:
                links[node].append(pid)
        for origin, headings in noded:
            node = section_node(origin, headings)
            if (parent := nearest(origin, headings[:-1])) is not None:
                links[node].append(parent)
            chunk = under[origin, headings][0]
            links[node] += [name for name, kind in self.mentions.kinds[chunk].items() if kind == TITLE]
        return links

    def title_share(self) -> float:
        """The share of passages whose text names another passage's title: about half in
        Wikipedia-shaped corpora, none in a guide's chunks or a conversation's turns."""
        if self._title_share is None:
            kinds = self.mentions.kinds
            titles = {name for named in kinds.values() for name, kind in named.items() if kind == TITLE}
            naming = sum(any(kind == NAMED_IN_TEXT and name in titles for name, kind in named.items())
                         for named in kinds.values())
            self._title_share = naming / len(kinds) if kinds else 0.0
        return self._title_share

    def short_names(self) -> list[tuple[str, str]]:
        """(one-word name, the proper name of two or three words it begins or ends): once a text
        has introduced 'Marta Quill', it and the texts after it call her 'Marta'. A word that
        begins or ends several such names ('Quill' of 'Marta Quill' and 'Quill Bakery') links
        none. Both must be names some text writes capitalised, or titles."""
        proper = self.mentions.capitalised_name_list()
        longer: dict[str, list[str]] = {}
        for name in proper:
            words = name.split()
            if 2 <= len(words) <= 3:
                for word in dict.fromkeys((words[0], words[-1])):
                    longer.setdefault(word, []).append(name)
        return [(word, names[0]) for word in proper if len(names := longer.get(word, [])) == 1]

    def name_matches(self, question: str) -> list[str]:
        """Known entity names that occur as whole words in the question (longest names win)."""
        if self._name_keys is None:
            self._name_keys = {}
            for name in sorted(self.mentions.passages_of):
                key = name_key(name)
                if len(key) > 2:
                    self._name_keys.setdefault(key, name)
        hits = find_names(match_tokens(question), self._name_keys, 8)
        hits.sort(key=lambda n: (-len(n), n))
        kept: list[str] = []
        for n in hits:
            if not any(f" {n} " in f" {k} " for k in kept):
                kept.append(n)
        return kept

    def passage_rows(self, passage_ids: list[str]) -> np.ndarray:
        """Walk node rows of the dense index's passages, in its order."""
        cached = self._rows
        if cached is None or cached[0] is not passage_ids or len(cached[1]) != len(passage_ids):
            pos = self.walk()[1]
            cached = self._rows = (passage_ids, np.array([pos[pid] for pid in passage_ids], dtype=np.int64))
        return cached[1]

    def neighbours(self, passage_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """For passages in the order given, the position of the one before and the one after each
        in its session (its own position where there is none: the first turn, a passage without a
        session)."""
        cached = self._neighbours
        if cached is None or cached[0] is not passage_ids:
            where = {pid: i for i, pid in enumerate(passage_ids)}
            before = np.arange(len(passage_ids))
            after = before.copy()
            for turns in self.sessions.values():
                said = [pid for pid in sorted(turns, key=lambda p: (turns[p], p)) if pid in where]
                for a, b in zip(said, said[1:]):
                    after[where[a]], before[where[b]] = where[b], where[a]
            cached = self._neighbours = (passage_ids, before, after)
        return cached[1], cached[2]

    def said_by_asked(self, passage_ids: list[str], question: str) -> np.ndarray | None:
        """For passages in the order given, whether each was said by the one speaker the question
        names; None where it names none or several (or no passage has a speaker)."""
        if not self.speakers:
            return None
        cached = self._speaker_rows
        if cached is None or cached[0] is not passage_ids:
            cached = self._speaker_rows = (passage_ids, np.array([self.speakers.get(pid, "") for pid in passage_ids]),
                                           set(self.speakers.values()))
        person = named_person(question, cached[2])
        return None if person is None else cached[1] == person

    def passage_trust(self, passage_ids: list[str]) -> np.ndarray | None:
        """The trust of passages in the order given; None when every passage is fully trusted."""
        if not self.trust:
            return None
        cached = self._trust_rows
        if cached is None or cached[0] is not passage_ids:
            trust = np.array([self.trust.get(pid, FULL_TRUST) for pid in passage_ids])
            cached = self._trust_rows = (passage_ids, trust)
        return cached[1]

    def fact_weight(self, sources: Sequence[str], corroboration: float) -> float:
        """How much a fact stated by ``sources`` weighs as a seed: its most trusted source's trust
        (a fact only untrusted passages state says little), times 1 + ``corroboration`` x the
        trust its other origins add (capped at one origin's worth): a fact that independent
        documents state is likelier true than one a single new source claims."""
        by_origin: dict[str, float] = {}
        for pid in sources:
            origin = self.origins.get(pid, pid)
            by_origin[origin] = max(by_origin.get(origin, 0.0), self.trust.get(pid, FULL_TRUST))
        if not by_origin:
            return FULL_TRUST
        best = max(by_origin.values())
        if corroboration <= 0 or len(by_origin) < 2:
            return best
        return best * (1.0 + corroboration * min(1.0, sum(by_origin.values()) - best))

    def lexical(self, stems: bool, sentences: bool) -> BM25Retriever:
        """The passages' BM25 index (its scores, coverage and, with ``sentences``, its best
        sentences' coverage, in passage id order), over words' stems or words as written."""
        if self._bm25 is None or self._bm25.stem != stems or self._bm25.sentences != sentences:
            from .bm25 import BM25Retriever

            self._bm25 = BM25Retriever(stem=stems, sentences=sentences)
            self._bm25.add(self.store.get_episodes(sorted(self.mentions.kinds)))
        return self._bm25


def section_node(origin: str, headings: tuple[str, ...]) -> str:
    """The walk's node of a document's section: '\u00a7 guide.md > Setup > Linux'."""
    return SECTION_NODE + SECTION_SEPARATOR.join((origin, *headings))

