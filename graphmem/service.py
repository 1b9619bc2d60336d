"""One graph served to many callers (the MCP server's tools): a game memory or a corpus graph behind
one lock, inputs checked with clear errors, every write saved at once. A write that fails (a full
disk, a store error) leaves a graph file's graph as it was last saved: the service reads it again.

A graph file that other processes write too (a store opened ``shared``) is written one write at a
time across them: each write takes the file's lock (waiting up to ``lock_wait`` seconds for another
process's), reads the file again if another process changed it, writes and saves, then lets go.
``refresh()`` brings reads up to date the same way (``NamespacedService`` calls it on every call).

Every graph is opened as a ``Memory``, which every write goes through; a graph of documents also gets
a ``CorpusGraph`` over it, which answers ``ask`` and keeps its passage indices current from the
memory's writes. Callers get plain JSON-able dicts; a bad input raises ``ServiceError`` with a
message that says what to send instead.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from .change_log import ChangeLog
from .errors import GraphmemError
from .memory import Memory
from .model import ScoredEpisode, Subgraph, Triple
from .pages import CHARS_PER_TOKEN, DEFAULT_MAX_TOKENS, MAX_TOKENS_CEILING, checked_budget, most_that_fit, page
from .profiles import DomainProfile
from .store import records
from .store.base import GraphStore
from .store.cypher_limits import CypherLimits
from .timeline import TIME, moment, step_at
from .trust import parse_trust, with_trust
from .writer import MAX_STEP, checked_step

if TYPE_CHECKING:
    from .rag.graph import CorpusGraph

MAX_RECALL_DEPTH = 10
RECALL_TURNS = 5  # turns a conversation memory's recall returns unless top_k says otherwise
MAX_ASK_K = 50
LOCK_WAIT_S = 10.0  # how long a write waits for another process's write to a shared graph file
EXPORT_PAGE, MAX_EXPORT_PAGE = 200, 2000  # records an export page holds by default, and at most


T = TypeVar("T")


class ServiceError(GraphmemError):
    """A request the graph cannot serve as sent (bad arguments, a write on a read-only graph...)."""


@dataclass
class Edit:
    """What one client call writes, as one source (one episode): ``facts`` stated (names as the
    client wrote them; the memory resolves them) and ``ends``, ids of current facts it retires.
    ``text`` and ``meta`` describe the call in the episode."""

    facts: list[tuple[str, str, str]] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)
    text: str = ""
    meta: dict[str, str] = field(default_factory=dict)


class GraphService:
    """``store``: an open graph store (the service owns it; ``close()`` saves and closes it).
    ``read_only``: refuse every write. ``write_cypher``: let ``cypher`` run write queries.
    ``answer``: ``answer(question, passages, context) -> str`` for ``ask`` (None: ``ask`` only retrieves;
    ``context``: a conversation's next-best turns, for its speaker check).
    ``profile``: the profile of a graph that has none yet (a new file); a graph keeps its own.
    ``cypher_limits``: the time, row and memory bounds on each ``cypher`` query (None: the defaults).
    ``lock_wait``: seconds a write waits for another process writing a shared graph file.
    ``max_tokens``: the size of a reading method's answer when the call gives none (``graphmem.pages``).
    ``changes`` counts the writes and the loads of the graph from its store, and ``changed_since``
    tells which facts the changes after a count touched; ``loads`` counts only the loads (another
    process's writes read again, an import, a failed write dropped). Readers keep what they derive
    from the graph while the count they depend on is the same, or bring it up to date from the facts
    touched.
    """

    def __init__(self, store: GraphStore, *, read_only: bool = False, write_cypher: bool = False,
                 answer: Callable[[str, list, list], str] | None = None, profile: str | None = None,
                 extractor=None, cypher_limits: CypherLimits | None = None, lock_wait: float = LOCK_WAIT_S,
                 max_tokens: int = DEFAULT_MAX_TOKENS):
        checked_budget(max_tokens, max_tokens)
        self.max_tokens = max_tokens
        self.lock_wait = lock_wait
        self.read_only = read_only
        self.write_cypher = write_cypher and not read_only
        self.cypher_limits = cypher_limits or CypherLimits()
        self._answer = answer
        self._extractor = extractor
        self._lock = threading.Lock()
        self._observing = 0  # observe calls under way (an LLM extractor may take seconds each)
        self._observed_in: float | None = None  # seconds the last observe took
        self._counting = threading.Lock()
        self.log = ChangeLog()
        self.loads = 0
        self.store = store
        self._open(profile)

    def _open(self, profile: str | DomainProfile | None) -> None:
        """The graph as the store holds it: a memory, a corpus graph over it for documents, and the
        steps and speakers of its turns so far."""
        from .rag.graph import CorpusGraph

        self.log.begin(known=False)  # what readers derived from the graph is stale
        self.loads += 1
        self.memory = Memory(self.store, profile=profile, extractor=self._extractor)
        self.memory.subscribe(self.log)
        self.corpus = CorpusGraph(self.memory) if self.memory.documents else None
        episodes = self.store.episodes()
        self._next_step = max((e.step for e in episodes), default=-1) + 1
        self._speakers: dict[str, list[str]] = {}  # session -> speakers of its turns, in order
        for e in sorted(episodes, key=lambda e: e.step):
            if e.meta.get("speaker"):
                self._speakers.setdefault(e.meta.get("session", ""), []).append(e.meta["speaker"])

    @property
    def changes(self) -> int:
        return self.log.version

    def changed_since(self, changes: int) -> set[str] | None:
        """The ids of the facts that the changes after ``changes`` added, retired, deleted or made
        current again; None when that is not known (the graph read again from its store, a Cypher
        write, or too many changes ago): derive everything again."""
        return self.log.since(changes)

    # --- writing -------------------------------------------------------------------------------
    def observe(self, text: str, step: int | None = None, title: str = "", speaker: str | None = None,
                time: str | None = None, session: str | None = None, *, reference_time: str | None = None,
                trust: float | None = None) -> dict:
        """Remember an observation (game memory), a passage (corpus graph; ``trust``: its source's,
        in [0, 1]) or a turn of a conversation (dialogue memory: ``speaker``, the session's ``time``
        and ``session``). ``reference_time``: when it was told (ISO 8601), kept in the episode's
        meta as "time"; a turn's ``time`` is the same thing."""
        text = _text(text, "text")
        step = _step(step)
        told = _time(reference_time, "reference_time")
        if trust is not None:
            if self.corpus is None:
                raise ServiceError("trust weighs a corpus graph's passages; this graph has the "
                                   f"{self.memory.profile.name!r} profile")
            trust = parse_trust(trust)
        turn = {k: v for k, v in (("speaker", speaker), ("time", time), ("session", session)) if v is not None}
        for key, value in turn.items():
            _text(value, key)
        dialogue = self.memory.profile.speaker_pronouns
        if turn and not dialogue:
            raise ServiceError(f"speaker, time and session are for conversation memories; this graph has the "
                               f"{self.memory.profile.name!r} profile (serve a new graph with --profile dialogue)")
        if told is not None and turn.setdefault(TIME, told) != told:
            raise ServiceError("time and reference_time say when a turn was told: give one of them")
        with self._timed(), self._writing():
            if dialogue:
                return self._add_turn(text, step, turn)
            if self.corpus is not None:
                return self._add_passage(self.corpus, text, title,
                                         turn if trust is None else with_trust(turn, trust))
            step = self._take_step(step)
            result = self.memory.observe(text, step, meta=turn or None)
            self.memory.save()
            return _written(result, step)

    @contextlib.contextmanager
    def _timed(self):
        """Count an observe while it runs (waiting for the lock included), and how long it took."""
        started = time.monotonic()
        with self._counting:
            self._observing += 1
        try:
            yield
        finally:
            with self._counting:
                self._observing -= 1
                self._observed_in = round(time.monotonic() - started, 3)

    def _add_passage(self, corpus: CorpusGraph, text: str, title: str, meta: dict[str, str]) -> dict:
        from .corpus import Passage
        from .model import passage_id

        pid = passage_id(title, text)
        added = corpus.add([Passage(pid, title, text, meta or None)])
        corpus.save()
        episode = self.store.get_episode(pid)
        return {"passage": pid, "title": title, "added": bool(added),
                "facts": [t.to_dict() for t in self.store.get_triples(episode.triple_ids)] if episode else []}

    def _add_turn(self, text: str, step: int | None, turn: dict[str, str]) -> dict:
        """One turn: "Speaker: text", dated by its session's time; the listener is the session's
        other speaker so far (two-person conversations: "you" then names someone)."""
        from .dialogue import Turn

        step = self._take_step(step)
        session, speaker = turn.get("session", ""), turn.get("speaker", "")
        listener = next((s for s in reversed(self._speakers.get(session, [])) if s != speaker), "")
        said = Turn(speaker, text, session, turn.get("time", ""), f"{session or 'S'}:{step}", listener)
        result = self.memory.observe(said.said if speaker else text, step, source_id=said.id,
                                     title=said.time, meta=said.meta)
        if speaker:
            self._speakers.setdefault(session, []).append(speaker)
        self._save()
        return {"turn": said.id, **_written(result, step)}

    def add_triples(self, triples: Sequence[Sequence[str]], step: int | None = None, *,
                    reference_time: str | None = None) -> dict:
        """Insert facts directly (no extraction); they still go through name resolution and updates.
        ``reference_time``: when they were told, as for ``observe``."""
        facts = _triples(triples)
        step = _step(step)
        told = _time(reference_time, "reference_time")
        with self._writing():
            if self.corpus is not None:
                raise ServiceError("a corpus graph takes passages, with their sources: send the text to "
                                   "observe(text, title) instead of add_triples")
            step = self._take_step(step)
            result = self.memory.add_triples(facts, step, meta={TIME: told} if told else None)
            self.memory.save()
            return _written(result, step)

    def forget(self, source_id: str) -> dict:
        """Delete an episode or passage and exactly the facts only it supported; ``restored``: the
        ids of the facts its write had retired, current again."""
        source_id = _text(source_id, "source_id")
        with self._writing():
            if self.store.get_episode(source_id) is None:
                raise ServiceError(f"no episode or passage with id {source_id!r} (observe and recall "
                                   f"return episode ids)")
            done = self.memory.forget_report(source_id)
            self._save()
            return {"forgotten": source_id, "triples_deleted": len(done.deleted), "restored": done.restored,
                    **self.store.counts()}

    def edit(self, decide: Callable[[Memory], tuple[Edit | None, T]]) -> T:
        """A write that depends on what the memory holds (create an entity unless it exists):
        ``decide(memory)`` looks, holding the lock, and returns what to write and what to answer.
        The edit is written as one source at the next step and saved at once; nothing is written
        for None or an edit without facts or ends."""
        with self._writing():
            if self.corpus is not None:
                raise ServiceError("a corpus graph takes passages, with their sources: send them to "
                                   "observe(text, title); its entities and relations can be read")
            change, answer = decide(self.memory)
            if change is not None and (change.facts or change.ends):
                self.memory.add_triples(change.facts, self._take_step(None), text=change.text,
                                        meta=change.meta, ends=change.ends)
                self.memory.save()
            return answer

    def _take_step(self, step: int | None) -> int:
        """The given step, else the one after the last: observations without steps stay in order."""
        step = self._next_step if step is None else step
        self._next_step = max(self._next_step, step + 1)
        return step

    @contextlib.contextmanager
    def _writing(self):
        """Hold the lock for a write (and a shared file's lock, the graph read again if another
        process wrote it); when it fails, drop what it changed but did not save."""
        if self.read_only:
            raise ServiceError("this graph is served read-only (started with --read-only)")
        with self._lock, self.store.writing(self.lock_wait):
            self.log.begin()  # before, so a failed write also makes caches stale
            self._refresh()
            try:
                yield
            except BaseException:
                if self.store.discard_changes():  # the memory's indexes knew the dropped changes too
                    self._open(self.memory.profile)
                raise

    def refresh(self) -> bool:
        """Read the graph again if another process changed it since (a shared or read-only graph
        file); whether it did."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> bool:
        if not self.store.stale():
            return False
        before = self.memory
        self.store.reload()
        self._open(before.profile)
        self.memory.resolver.reuse_vectors(before.resolver)  # most names are still there
        return True

    def _save(self) -> None:
        (self.corpus or self.memory).save()

    # --- reading -------------------------------------------------------------------------------
    def recall(self, queries: str | Sequence[str], depth: int | None = None, width: int | None = None,
               top_k: int | None = None, *, valid_at: int | str | None = None, max_tokens: int | None = None,
               cursor: str | None = None) -> dict:
        """Facts associated with the queries (seeds + breadth-first expansion) and their episodes,
        a page of at most ``max_tokens`` (``next_cursor`` continues it). ``valid_at``: a step, or a
        time (``graphmem.timeline``): the facts valid then, retired ones included, with their
        validity; the answer's ``valid_at`` is the step."""
        if isinstance(queries, str):
            queries = [queries]
        queries = [_text(q, "each query") for q in queries]
        if not queries:
            raise ServiceError("give at least one query")
        budget = checked_budget(max_tokens, self.max_tokens)
        overrides: dict[str, Any] = {k: v for k, v in (("depth", _bounded(depth, "depth", 0, MAX_RECALL_DEPTH)),
                                       ("width", _bounded(width, "width", 1)),
                                       ("top_k", _bounded(top_k, "top_k", 1))) if v is not None}
        query = {"tool": "recall", "queries": queries, **overrides}
        if valid_at is not None:
            at = self._step_at(valid_at)
            with self._lock:
                past = self.memory.recall(queries, at=at, **overrides) if at >= 0 else Subgraph()
            then: list[Triple | ScoredEpisode] = [*past.triples, *past.episodes]
            return page(then, lambda part: {**_subgraph_page(part), "valid_at": at},
                        query={**query, "valid_at": at}, budget=budget, cursor=cursor)
        if self.memory.profile.speaker_pronouns and self.corpus is not None:
            triples, turns = self._recall_turns(queries, top_k)
            said: list[Triple | dict] = [*triples, *turns]
            return page(said, _turns_page, query=query, budget=budget, cursor=cursor)
        with self._lock:
            sub = self.memory.recall(queries, **overrides)
        found: list[Triple | ScoredEpisode] = [*sub.triples, *sub.episodes]
        return page(found, _subgraph_page, query=query, budget=budget, cursor=cursor)

    def _recall_turns(self, queries: list[str], top_k: int | None) -> tuple[list[Triple], list[dict]]:
        """A conversation's turns for the queries, best first (the corpus graph's ranking, best
        score over the queries), with the facts that led there."""
        assert self.corpus is not None
        k = _bounded(top_k, "top_k", 1) or RECALL_TURNS
        best: dict[str, float] = {}
        facts: dict[str, Triple] = {}
        with self._lock:
            for q in queries:
                found = self.corpus.query(q, k)
                for pid, score in found.passages:
                    best[pid] = max(best.get(pid, score), score)
                for t, _ in found.facts:
                    facts.setdefault(t.id, t)
            ranked = sorted(best, key=lambda pid: (-best[pid], pid))[:k]
            turns = self.store.get_episodes(ranked)
        order = {pid: n for n, pid in enumerate(ranked)}
        turns.sort(key=lambda e: order[e.id])
        return list(facts.values()), [{"id": e.id, "step": e.step, "title": e.title, "text": e.text,
                                       "score": round(best[e.id], 6), **({"meta": dict(e.meta)} if e.meta else {})}
                                      for e in turns]

    def _step_at(self, valid_at: int | str) -> int:
        """``valid_at`` as a step: a step as it is; a time as the last step told by then (-1:
        before anything was told)."""
        if isinstance(valid_at, str):
            when = moment(valid_at)
            if when is None:
                raise ServiceError(f"valid_at must be a step number or an ISO 8601 time such as 2024-05-08T13:56, "
                                   f"not {valid_at!r}")
            with self._lock:
                step = step_at(when, self.store.episodes())
            if step is None:
                raise ServiceError("no episode of this memory says when it was told (observe's reference_time): "
                                   "give valid_at as a step")
            return step
        return _bounded_int(valid_at, "valid_at", 0, MAX_STEP)

    def history(self, entity: str, *, max_tokens: int | None = None, cursor: str | None = None) -> dict:
        """Every fact ever known about an entity, retired ones included (with valid_until), oldest
        first, a page of at most ``max_tokens``."""
        entity = _text(entity, "entity")
        budget = checked_budget(max_tokens, self.max_tokens)
        with self._lock:
            name = self.memory.resolver.resolve(entity)
            facts = sorted(self.memory.history(entity), key=_by_start)
        return page(facts, lambda part: {"entity": name, "facts": [t.to_dict() for t in part]},
                    query={"tool": "history", "entity": name}, budget=budget, cursor=cursor, key=_by_start)

    def read(self, look: Callable[[Memory], T]) -> T:
        """``look(memory)`` holding the lock: what it reads is one state of the graph."""
        with self._lock:
            return look(self.memory)

    def cypher(self, query: str) -> list[dict]:
        """A Cypher query within the service's ``cypher_limits``; read-only unless the service allows
        write queries. A read holds the lock only while taking the graph as it is, so one long query
        keeps no other caller waiting; writes go one at a time."""
        query = _text(query, "query")
        if self.write_cypher:
            with self._lock:
                self.log.begin(known=False)  # past the write path: what it touched is not told
                rows = self.store.cypher(query, write=True, limits=self.cypher_limits)
                self.store.flush()
            return rows
        with self._lock:
            read = self.store.cypher_reader()
        return read(query, limits=self.cypher_limits)

    def cypher_page(self, query: str, *, max_tokens: int | None = None, cursor: str | None = None) -> dict:
        """``cypher``'s rows as ``{"rows": [...]}``, a page of at most ``max_tokens``; the query runs
        again for each page, so pages hold together when it has an ORDER BY (or the graph is unchanged)."""
        budget = checked_budget(max_tokens, self.max_tokens)
        return page(self.cypher(query), lambda rows: {"rows": list(rows)}, query={"tool": "cypher", "query": query},
                    budget=budget, cursor=cursor)

    def ask(self, question: str, k: int = 5) -> dict:
        """The passages and facts a corpus graph retrieves for a question (and an answer when the
        service has a model to answer with)."""
        question = _text(question, "question")
        k = _bounded_int(k, "k", 1, MAX_ASK_K)
        if self.corpus is None:
            raise ServiceError("ask needs a corpus graph (made by 'graphmem build'); a game memory "
                               "answers recall(queries)")
        with self._lock:
            # With a model, a conversation's speaker check reads the next-best turns too.
            found = self.corpus.query(question, k if self._answer is None else self.corpus.answer_depth(k))
            # One store call; a passage deleted from a shared server store since the ranking is left out.
            read = {p.id: p for p in self.corpus.passages([pid for pid, _ in found.passages])}
            scored = [(read[pid], s) for pid, s in found.passages[:k] if pid in read]
            context = [read[pid] for pid, _ in found.passages[k:] if pid in read]
        out: dict[str, Any] = {
               "passages": [{"id": p.id, "title": p.title, "score": round(s, 6), "text": p.text} for p, s in scored],
               "facts": [{**t.to_dict(), "score": round(s, 6)} for t, s in found.facts]}
        if self._answer is not None:
            out["answer"] = self._answer(question, [p for p, _ in scored], context)
        return out

    def stats(self) -> dict:
        with self._lock:
            counts = self.store.counts()
        return {"kind": "corpus" if self.corpus is not None else "memory", "profile": self.memory.profile.name,
                "namespace": self.store.namespace, **counts, "next_step": self._next_step,
                "read_only": self.read_only,
                "write_cypher": self.write_cypher, "answers": self._answer is not None}

    def status(self) -> dict:
        """``stats`` and what serves the graph: the store, the extractor, graphmem's version, and
        the observe calls under way (each answers when its facts are saved) and how long the last took."""
        from . import __version__

        path = getattr(self.store, "path", None)  # a graph file's; a server store names itself
        with self._counting:
            observing, last = self._observing, self._observed_in
        return {**self.stats(), "store": str(path) if path is not None else repr(self.store),
                "extractor": self.read(lambda memory: memory.extractor.name), "version": __version__, "max_tokens": self.max_tokens,
                "observing": observing, "last_observe_seconds": last}

    # --- export and import ---------------------------------------------------------------------
    def export(self, cursor: str | None = None, limit: int = EXPORT_PAGE, *, max_tokens: int | None = None) -> dict:
        """A page of the graph's records (``graphmem.store.records``: the header first, then facts,
        then episodes; no vectors), at most ``limit`` records and ``max_tokens`` (``graphmem.pages``),
        and ``next_cursor`` for the next page (None after the last). A record is never cut (an import
        needs it whole): one larger than the budget is an error."""
        limit = _bounded_int(limit, "limit", 1, MAX_EXPORT_PAGE)
        budget = checked_budget(max_tokens, self.max_tokens)
        offset = 0 if cursor is None else _offset(cursor)
        with self._lock:
            part, after = records.page(self.store, offset, limit)

        def render(n: int) -> dict:
            following = offset + n if n < len(part) else after
            return {"namespace": self.store.namespace, "records": part[:n],
                    "next_cursor": None if following is None else str(following)}

        fit = most_that_fit(render, len(part), budget)
        if part and not fit:
            raise ServiceError(f"record {offset} of this namespace is larger than max_tokens "
                               f"{budget // CHARS_PER_TOKEN}: ask with more (at most {MAX_TOKENS_CEILING}), "
                               f"or export it with 'graphmem export-ns'")
        return render(fit)

    def import_records(self, items: Sequence[dict], merge: bool = False) -> dict:
        """Write records as ``export`` gives them (a header starts an import into an empty graph,
        or with ``merge`` into one written with the same settings; records without one are added),
        then open the graph again: new facts are embedded and indexed, and it is saved."""
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence) or not items:
            raise ServiceError("records must be a non-empty list of export records")
        with self._writing():
            done = records.import_records(self.store, items, merge=merge)
            self._open(None)  # the graph's own profile: an import into an empty one brings it
            self._save()
            return {"namespace": self.store.namespace, "imported": done, **self.store.counts()}

    # --- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            (self.corpus or self.memory).close()

    def __enter__(self) -> "GraphService":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _subgraph_page(part: Sequence[Triple | ScoredEpisode]) -> dict:
    """A page of a memory's recall: its facts and episodes, and the prompt that shows them."""
    shown = Subgraph([x for x in part if isinstance(x, Triple)], [x for x in part if isinstance(x, ScoredEpisode)])
    return {**shown.to_dict(), "prompt": shown.to_prompt()}


def _turns_page(part: Sequence[Triple | dict]) -> dict:
    """A page of a conversation's recall: its facts, its turns best first, and a prompt listing
    the turns in the order said, with their dates."""
    turns = [x for x in part if isinstance(x, dict)]
    lines = ["Relevant turns:"] + [f"- [{_when(e)}] {e['text'].strip()}" for e in sorted(turns, key=lambda e: e["step"])]
    return {"triples": [t.to_dict() for t in part if isinstance(t, Triple)], "episodes": turns,
            "prompt": "\n".join(lines)}


def _when(turn: dict) -> str:
    return turn.get("meta", {}).get("time") or turn["title"] or f"step {turn['step']}"


def _by_start(t: Triple) -> tuple[int, str]:
    return t.valid_from, t.id


def _written(result, step: int) -> dict:
    """What a write to a game memory did (an ``ObserveResult``), as JSON."""
    return {"episode": result.episode.id, "step": step,
            "added": [t.to_dict() for t in result.added],
            "confirmed": [t.to_dict() for t in result.confirmed], "retired": result.retired}


def _text(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ServiceError(f"{what} must be a non-empty string")
    return value


def _time(text: str | None, what: str) -> str | None:
    """A time to keep in an episode's meta, as given; ServiceError unless it reads as one."""
    if text is not None and moment(_text(text, what)) is None:
        raise ServiceError(f"{what} must be an ISO 8601 time such as 2024-05-08 or 2024-05-08T13:56:00Z, "
                           f"not {text!r}")
    return text


def _offset(cursor) -> int:
    if not isinstance(cursor, str) or not cursor.isdigit():
        raise ServiceError(f"cursor {cursor!r} is not one a page gave: pass its next_cursor as it is")
    return int(cursor)


def _step(step) -> int | None:
    return None if step is None else checked_step(step)


def _bounded(value, what: str, lo: int, hi: int | None = None) -> int | None:
    """An optional integer setting: None stays None (the default applies)."""
    return None if value is None else _bounded_int(value, what, lo, hi)


def _bounded_int(value, what: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        raise ServiceError(f"{what} must be an integer in [{lo}, {hi if hi is not None else 'any'}], "
                           f"not {value!r}")
    return value


def _triples(triples) -> list[tuple[str, str, str]]:
    if isinstance(triples, (str, bytes)) or not isinstance(triples, Sequence) or not triples:
        raise ServiceError("triples must be a non-empty list of [subject, relation, object]")
    out = []
    for i, t in enumerate(triples):
        if isinstance(t, (str, bytes)) or not isinstance(t, Sequence) or len(t) != 3 \
                or not all(isinstance(x, str) and x.strip() for x in t):
            raise ServiceError(f"triple {i} is {t!r}: each triple is [subject, relation, object], three "
                               f"non-empty strings")
        out.append((t[0], t[1], t[2]))
    return out
