"""The reference MCP memory server's knowledge graph (modelcontextprotocol/servers ``memory``) over a
graphmem memory: its nine tools' arguments and answers, mapped onto facts and episodes, so that
prompts and clients written for that server work unchanged.

The mapping (docs/mcp.md tells it to users):

- An entity ``{name, entityType, observations}`` is a graphmem entity. Its type is the fact
  ``(name, "is a", entityType)`` and each observation the fact ``(name, "observation", text)``:
  observations are facts so that ``recall`` finds them by meaning, as it finds any fact. Their
  texts are literals (``writer.LITERAL_RELATIONS``), never resolved onto another name.
- A relation ``{from, to, relationType}`` is the current fact ``(from, relationType, to)``.
- Every name of a current fact is an entity, except the values of those two relations (a type, an
  observation's text): a memory filled by ``observe`` reads as a knowledge graph too, its entities
  without a type ("").
- Each call that writes is one episode (one step), through the memory's one write path: names are
  resolved onto known entities as everywhere ("the Knife" is "knife"), and the episode's meta keeps
  the names as the client spelt them (graphmem's own are lower case), so answers give them back.
- A delete is a write too: its episode retires the facts (``valid_until``), which ``history`` still
  shows; ``forget`` of that episode brings them back. Nothing is deleted behind the memory's back.
"""
from __future__ import annotations

import json
import threading
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from .memory import Memory
from .model import Triple
from .normalize import canonical_entity, canonical_relation
from .pages import checked_budget, page
from .service import Edit, GraphService, ServiceError
from .store.base import GraphStore
from .writer import OBSERVATION

if TYPE_CHECKING:
    from .namespaced import NamespacedService

ENTITY_TYPE = "is a"
VALUES = (ENTITY_TYPE, OBSERVATION)  # relations whose objects are values of an entity, not entities
TOOL = "tool"  # episode meta: the tool whose call the episode is
SPELLING = "spelling"  # episode meta: JSON {canonical name: as the client spelt it}


@dataclass
class Record:
    """One entity as the reference shows it, in canonical names."""

    told: list[Triple] = field(default_factory=list)  # every current fact with it as subject, in order
    type_fact: Triple | None = None  # its first (name, "is a", type) fact
    observations: list[Triple] = field(default_factory=list)  # (name, "observation", text) facts
    in_order_told: bool = True  # False while observations that share a step are in id order

    @property
    def type(self) -> str:
        return self.type_fact.object if self.type_fact is not None else ""


class View:
    """Current facts read as the reference's graph: entities by canonical name and relations, both
    kept sorted by name (the order of read_graph's pages). ``of`` reads it from all the facts;
    ``update`` brings it up to date after a write from the facts the write touched, reading again
    only the facts of their subjects, so a write into a big graph costs what it changed."""

    def __init__(self) -> None:
        self.entities: dict[str, Record] = {}
        self.names: list[str] = []  # the entities' names, sorted
        self.relations: list[Triple] = []  # sorted by _relation_key
        self._keys: list[tuple[str, str, str]] = []  # each relation's _relation_key, for bisection
        self._pointed: Counter[str] = Counter()  # name -> relations pointing at it
        self._facts: dict[str, Triple] = {}  # id -> every current fact the view shows
        self.observations = 0
        self._sorted = True  # whether names are kept sorted as entities come (``of`` sorts them once)

    @classmethod
    def of(cls, facts: Iterable[Triple]) -> View:
        """``facts``: current ones, by (valid_from, id) as stores give them."""
        view = cls()
        view._sorted = False
        for t in facts:
            view._add(t, view.relations.append)
        view.relations.sort(key=_relation_key)
        view._keys = [_relation_key(t) for t in view.relations]
        view.names, view._sorted = sorted(view.entities), True
        return view

    def update(self, touched: set[str], store: GraphStore) -> None:
        """Show what the store holds now of the subjects of the ``touched`` facts (added, retired,
        deleted or made current again), and of the names their relations point at."""
        subjects = {t.subject for t in map(self._facts.get, touched) if t is not None}
        subjects.update(t.subject for t in store.get_triples(touched, vectors=False))
        check = set(subjects)  # names that may have become, or stopped being, entities
        for name in subjects:
            record = self.entities.get(name)
            if record is None:
                continue
            for t in record.told:
                del self._facts[t.id]
            self.observations -= len(record.observations)
            lo, hi = bisect_left(self._keys, (name,)), bisect_right(self._keys, name, key=_first)
            for t in self.relations[lo:hi]:
                self._pointed[t.object] -= 1
                check.add(t.object)
            del self.relations[lo:hi], self._keys[lo:hi]
            record.told, record.type_fact, record.observations, record.in_order_told = [], None, [], True
        for t in store.triples_of_entities(subjects):
            if t.subject in subjects:
                self._add(t, self._insert_relation)
        for name in check:
            record = self.entities.get(name)
            if record is not None and not record.told and self._pointed[name] <= 0:
                del self.entities[name]
                del self.names[bisect_left(self.names, name)]
                self._pointed.pop(name, None)

    def _add(self, t: Triple, add_relation: Callable[[Triple], None]) -> None:
        record = self._entity(t.subject)
        record.told.append(t)
        self._facts[t.id] = t
        if t.relation == ENTITY_TYPE and record.type_fact is None:
            record.type_fact = t  # the first type; a later one shows as an "is a" relation
        elif t.relation == OBSERVATION:
            if record.observations and record.observations[-1].valid_from == t.valid_from:
                record.in_order_told = False
            record.observations.append(t)
            self.observations += 1
        else:
            add_relation(t)
            self._pointed[t.object] += 1
            self._entity(t.object)

    def _entity(self, name: str) -> Record:
        record = self.entities.get(name)
        if record is None:
            record = self.entities[name] = Record()
            if self._sorted:
                insort(self.names, name)
        return record

    def _insert_relation(self, t: Triple) -> None:
        key = _relation_key(t)
        at = bisect_right(self._keys, key)
        self._keys.insert(at, key)
        self.relations.insert(at, t)

    def around(self, names: set[str]) -> View:
        """The entities named (those that exist) and every relation that touches one of them."""
        part = View()
        part.names = [n for n in self.names if n in names]
        part.entities = {n: self.entities[n] for n in part.names}
        part.relations = [t for t in self.relations if t.subject in names or t.object in names]
        part.observations = sum(len(r.observations) for r in part.entities.values())
        return part

    def items(self) -> Listing:
        """The entities, then the relations, as one sequence in read_graph's order."""
        return Listing(self)


class Listing(Sequence):
    """A view's entities (name, record) then relations ("", fact), read in place: a page takes a
    slice, and a cursor is found by bisection, without listing the whole graph for each page."""

    def __init__(self, view: View):
        self.view = view

    def __len__(self) -> int:
        return len(self.view.names) + len(self.view.relations)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        names = self.view.names
        if index < 0:
            index += len(self)
        if index < len(names):
            return names[index], self.view.entities[names[index]]
        return "", self.view.relations[index - len(names)]


class Draft:
    """One call's edit as it is put together: its facts, the lines of its episode's text, and the
    client's spelling of each name whose canonical form differs (kept in the episode's meta, and
    learnt by ``spelling``, the reader's map, as the edit is made)."""

    def __init__(self, tool: str, memory: Memory, spelling: dict[str, str]):
        self.tool, self.memory, self.spelling = tool, memory, spelling
        self.facts: list[tuple[str, str, str]] = []
        self.lines: list[str] = []
        self.spelt: dict[str, str] = {}

    def add(self, fact: tuple[str, str, str], line: str) -> None:
        """Add ``fact`` (names as the client wrote them); ServiceError for a name that cannot be one."""
        subject, relation, value = fact
        ignored = self.memory.profile.ignored_names
        for text, key, name in ((subject, canonical_entity(subject), True),
                                (relation, canonical_relation(relation), False), (value, canonical_entity(value), True)):
            if not key or name and key in ignored:
                raise ServiceError(f"{text!r} cannot be a name (it has no letters or digits, or names something "
                                   f"only in context, as 'it' does)")
            if text != key:
                self.spelt[key] = text
        self.facts.append(fact)
        self.lines.append(line)

    def edit(self) -> Edit:
        meta = {TOOL: self.tool}
        if self.spelt:
            meta[SPELLING] = json.dumps(self.spelt, ensure_ascii=False)
            self.spelling.update(self.spelt)
        return Edit(self.facts, text="\n".join(self.lines), meta=meta)


class KnowledgeGraph:
    """The reference server's nine tools over a ``GraphService`` (its lock, its one write path and
    its answer budget). Answers are the reference's shapes; reading ones come in pages."""

    def __init__(self, service: GraphService):
        self.service = service
        self._spelling: tuple[int, dict[str, str]] | None = None  # (the service's loads when read, the map)
        self._view: tuple[int, View] | None = None  # (the service's changes when made, the view)

    # --- writing -------------------------------------------------------------------------------
    def create_entities(self, entities: Sequence[Mapping[str, Any]]) -> dict:
        """Entities not known yet (a name that has a type exists), with their types and observations."""
        given = [(_name(e, "name", "entities"), _name(e, "entityType", "entities"),
                  _texts(e, "observations", "entities")) for e in _records(entities, "entities")]

        def decide(memory: Memory) -> tuple[Edit, dict]:
            draft, created, seen = self._draft("create_entities", memory), [], set()
            for name, kind, observations in given:
                key = memory.resolver.resolve(name)
                if key in seen or _typed(memory, key):
                    continue
                seen.add(key)
                draft.add((name, ENTITY_TYPE, kind), f"{name} is a {kind}.")
                for text in dict.fromkeys(observations):
                    draft.add((name, OBSERVATION, text), f"{name}: {text}")
                created.append({"name": name, "entityType": kind, "observations": observations})
            return draft.edit(), {"entities": created}

        return self.service.edit(decide)

    def create_relations(self, relations: Sequence[Mapping[str, Any]]) -> dict:
        """Relations not current yet; their entities need not exist (they then have no type)."""
        given = [_relation(r) for r in _records(relations, "relations")]

        def decide(memory: Memory) -> tuple[Edit, dict]:
            draft, created, seen = self._draft("create_relations", memory), [], set()
            for source, kind, target in given:
                fact = (memory.resolver.resolve(source), canonical_relation(kind), memory.resolver.resolve(target))
                if fact in seen or memory.store.find_current(*fact) is not None:
                    continue
                seen.add(fact)
                draft.add((source, kind, target), f"{source} {kind} {target}.")
                created.append({"from": source, "to": target, "relationType": kind})
            return draft.edit(), {"relations": created}

        return self.service.edit(decide)

    def add_observations(self, observations: Sequence[Mapping[str, Any]]) -> dict:
        """New observations of existing entities; an unknown entity fails the whole call."""
        given = [(_name(o, "entityName", "observations"), _texts(o, "contents", "observations"))
                 for o in _records(observations, "observations")]

        def decide(memory: Memory) -> tuple[Edit, dict]:
            draft, results, seen = self._draft("add_observations", memory), [], set()
            for name, contents in given:
                key = memory.resolver.resolve(name)
                if not _exists(memory, key):
                    raise ServiceError(f"Entity with name {name} not found (create_entities makes it)")
                added = []
                for text in contents:
                    fact = (key, OBSERVATION, canonical_entity(text))  # a literal: not resolved
                    if fact in seen or memory.store.find_current(*fact) is not None:
                        continue
                    seen.add(fact)
                    draft.add((name, OBSERVATION, text), f"{name}: {text}")
                    added.append(text)
                results.append({"entityName": name, "addedObservations": added})
            return draft.edit(), {"results": results}

        return self.service.edit(decide)

    def delete_entities(self, names: Sequence[str]) -> dict:
        """Retire every current fact of the entities: their types, observations and relations."""
        given = _strings(names, "entityNames")

        def decide(memory: Memory) -> tuple[Edit, dict]:
            keys = {memory.resolver.resolve(name) for name in given}
            ends = [t.id for key in keys for t in memory.store.triples_of_entity(key)
                    if t.subject == key or t.relation not in VALUES]
            return Edit(ends=list(dict.fromkeys(ends)), text="Deleted entities: " + ", ".join(given),
                        meta={TOOL: "delete_entities"}), _done("Entities deleted successfully")

        return self.service.edit(decide)

    def delete_observations(self, deletions: Sequence[Mapping[str, Any]]) -> dict:
        given = [(_name(d, "entityName", "deletions"), _texts(d, "observations", "deletions"))
                 for d in _records(deletions, "deletions")]

        def decide(memory: Memory) -> tuple[Edit, dict]:
            resolve = memory.resolver.resolve
            facts = [memory.store.find_current(resolve(name), OBSERVATION, canonical_entity(text))
                     for name, texts in given for text in texts]
            return Edit(ends=[t.id for t in facts if t is not None],
                        text="Deleted observations: " + "; ".join(f"{n}: {t}" for n, ts in given for t in ts),
                        meta={TOOL: "delete_observations"}), _done("Observations deleted successfully")

        return self.service.edit(decide)

    def delete_relations(self, relations: Sequence[Mapping[str, Any]]) -> dict:
        given = [_relation(r) for r in _records(relations, "relations")]

        def decide(memory: Memory) -> tuple[Edit, dict]:
            resolve = memory.resolver.resolve
            facts = [memory.store.find_current(resolve(s), canonical_relation(r), resolve(o)) for s, r, o in given]
            return Edit(ends=[t.id for t in facts if t is not None],
                        text="Deleted relations: " + "; ".join(f"{s} {r} {o}" for s, r, o in given),
                        meta={TOOL: "delete_relations"}), _done("Relations deleted successfully")

        return self.service.edit(decide)

    def _draft(self, tool: str, memory: Memory) -> Draft:
        return Draft(tool, memory, self._spellings(memory))

    # --- reading -------------------------------------------------------------------------------
    def read_graph(self, max_tokens: int | None = None, cursor: str | None = None, summary: bool = False) -> dict:
        """The whole graph, a page at a time; a page of a graph larger than one page has ``summary``
        (with ``summary``, every page has it)."""
        return self._answer("read_graph", {}, lambda view, memory: view, max_tokens, cursor, summary)

    def search_nodes(self, query: str, max_tokens: int | None = None, cursor: str | None = None) -> dict:
        """Entities whose name, type or an observation contains ``query`` (any case), and the
        relations that touch them, as the reference searches."""
        if not isinstance(query, str):
            raise ServiceError("query must be a string")
        needle = query.lower()

        def select(view: View, memory: Memory) -> View:
            spell = self._spellings(memory).get
            return view.around({n for n, r in view.entities.items()
                                if any(needle in spell(x, x).lower()
                                       for x in (n, r.type, *(t.object for t in r.observations)))})

        return self._answer("search_nodes", {"query": query}, select, max_tokens, cursor)

    def open_nodes(self, names: Sequence[str], max_tokens: int | None = None, cursor: str | None = None) -> dict:
        """The entities named (unknown names are skipped) and the relations that touch them."""
        given = _strings(names, "names")
        return self._answer("open_nodes", {"names": given},
                            lambda view, memory: view.around({memory.resolver.resolve(n) for n in given}),
                            max_tokens, cursor)

    def _answer(self, tool: str, args: dict, select, max_tokens: int | None, cursor: str | None,
                summary: bool = False) -> dict:
        """One page of the entities and relations ``select(view, memory)`` keeps of the graph,
        made holding the lock: the page's observations are put in the order told from the store."""
        budget = checked_budget(max_tokens, self.service.max_tokens)

        def look(memory: Memory) -> dict:
            view = select(self._whole(memory), memory)
            spell = self._spellings(memory).get
            items = view.items()
            totals = {"entities": len(view.names), "relations": len(view.relations),
                      "observations": view.observations}

            def render(part: Sequence[tuple[str, Any]]) -> dict:
                _in_order_told([r for n, r in part if n], memory.store)
                out: dict[str, Any] = {
                    "entities": [{"name": spell(n, n), "entityType": spell(r.type, r.type),
                                  "observations": [spell(t.object, t.object) for t in r.observations]}
                                 for n, r in part if n],
                    "relations": [{"from": spell(t.subject, t.subject), "to": spell(t.object, t.object),
                                   "relationType": spell(t.relation, t.relation)} for n, t in part if not n]}
                if summary or len(part) < len(items):
                    out["summary"] = totals
                return out

            return page(items, render, query={"tool": tool, **args}, budget=budget, cursor=cursor, key=_order)

        return self.service.read(look)

    def _whole(self, memory: Memory) -> View:
        """The whole graph's view, read once and then brought up to date from the facts each write
        touched (read whole again when that is not known: the graph read again from its file, a
        Cypher write)."""
        touched = None if self._view is None else self.service.changed_since(self._view[0])
        if self._view is None or touched is None:
            view = View.of(memory.store.triples(vectors=False))
        else:
            view = self._view[1]
            if touched:
                view.update(touched, memory.store)
        self._view = (self.service.changes, view)
        return view

    def _spellings(self, memory: Memory) -> dict[str, str]:
        """Canonical name -> the client's spelling (latest wins), read from the episodes again each
        time the service loads the graph (another process's writes, an import, a write dropped);
        this object's own writes add theirs as they are made."""
        if self._spelling is None or self._spelling[0] != self.service.loads:
            spelling: dict[str, str] = {}
            for episode in memory.store.episodes():
                with_spelling = episode.meta.get(SPELLING)
                if with_spelling:
                    spelling.update(json.loads(with_spelling))
            self._spelling = (self.service.loads, spelling)
        return self._spelling[1]


class KnowledgeGraphs:
    """The reference tools over every namespace of a ``NamespacedService``: one ``KnowledgeGraph``
    per namespace's service (its view and spellings are that graph's), made on first use."""

    def __init__(self, services: NamespacedService):
        self.services = services
        self._graphs: dict[GraphService, KnowledgeGraph] = {}
        self._lock = threading.Lock()

    def get(self, namespace: str | None = None) -> KnowledgeGraph:
        """``namespace``'s graph (None: the default one), up to date with its file."""
        service = self.services.get(namespace)
        with self._lock:
            graph = self._graphs.get(service)
            if graph is None:
                graph = self._graphs[service] = KnowledgeGraph(service)
            return graph


def _in_order_told(records: Iterable[Record], store: GraphStore) -> None:
    """Observations told in one call share a step, and stores order them by id: their episode
    lists them in the order told. Done for the records about to be shown, once each."""
    tied = [r for r in records if not r.in_order_told]
    if not tied:
        return
    sources = {t.sources[0] for r in tied for t in r.observations if t.sources}
    place = {tid: n for e in store.get_episodes(sources) for n, tid in enumerate(e.triple_ids)}
    for r in tied:
        r.observations.sort(key=lambda t: (t.valid_from, place.get(t.id, 0)))
        r.in_order_told = True


def _order(item: tuple[str, Any]) -> tuple:
    """Entities by name, then relations by (from, relationType, to)."""
    name, value = item
    return (0, name) if name else (1, *_relation_key(value))


def _relation_key(t: Triple) -> tuple[str, str, str]:
    return t.subject, t.relation, t.object


def _first(key: tuple[str, str, str]) -> str:
    return key[0]


def _typed(memory: Memory, key: str) -> bool:
    return any(t.subject == key and t.relation == ENTITY_TYPE for t in memory.store.triples_of_entity(key))


def _exists(memory: Memory, key: str) -> bool:
    """Whether ``key`` is an entity: the subject of a current fact, or the object of a relation."""
    return any(t.subject == key or t.relation not in VALUES for t in memory.store.triples_of_entity(key))


def _done(message: str) -> dict:
    return {"success": True, "message": message}


def _records(value, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, Mapping) for v in value):
        raise ServiceError(f"{what} must be a list of objects")
    return list(value)


def _name(record: Mapping[str, Any], key: str, what: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ServiceError(f"each of {what} needs {key}, a non-empty string")
    return value


def _texts(record: Mapping[str, Any], key: str, what: str) -> list[str]:
    try:
        return _strings(record.get(key, []), key)
    except ServiceError:
        raise ServiceError(f"{key} of each of {what} must be a list of non-empty strings") from None


def _strings(value, what: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ServiceError(f"{what} must be a list of non-empty strings")
    return list(value)


def _relation(record: Mapping[str, Any]) -> tuple[str, str, str]:
    return (_name(record, "from", "relations"), _name(record, "relationType", "relations"),
            _name(record, "to", "relations"))
