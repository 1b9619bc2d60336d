"""The shapes of the MCP tools' answers, as TypedDicts: the SDK publishes each as the tool's output
schema and sends the answer as structured content besides its JSON text. A key missing here would
be dropped from the structured content, so every key an answer can hold is listed (NotRequired for
the ones only some answers hold). typing_extensions' TypedDict: pydantic reads nested ones on
Python 3.11 only in that form.
"""
from __future__ import annotations

from typing import Any

from typing_extensions import NotRequired, TypedDict


class Paged(TypedDict):
    """The keys of a page of a bounded answer (``graphmem.pages``)."""

    next_cursor: NotRequired[str]
    clipped: NotRequired[bool]


class Fact(TypedDict):
    id: str
    subject: str
    relation: str
    object: str
    valid_from: int
    valid_until: int | None
    sources: list[str]
    retired_by: NotRequired[str]


class ScoredFact(Fact):
    score: float


class RecalledEpisode(TypedDict):
    id: str
    step: int
    title: str
    text: str
    score: float
    hits: NotRequired[int]  # a memory's episodes: how many of the recalled facts it holds
    meta: NotRequired[dict[str, str]]


class Observed(TypedDict):
    """observe and add_triples: a game memory's write (episode, step, added, confirmed, retired), a
    conversation's turn (the same, and turn) or a corpus graph's passage (passage, title, added as
    whether it was new, facts)."""

    episode: NotRequired[str]
    step: NotRequired[int]
    turn: NotRequired[str]
    passage: NotRequired[str]
    title: NotRequired[str]
    added: NotRequired[list[Fact] | bool]
    confirmed: NotRequired[list[Fact]]
    retired: NotRequired[list[str]]
    facts: NotRequired[list[Fact]]


class Recalled(Paged):
    triples: list[Fact]
    episodes: list[RecalledEpisode]
    prompt: str
    valid_at: NotRequired[int]  # the step recalled, when one was asked for


class History(Paged):
    entity: str
    facts: list[Fact]


class Forgotten(TypedDict):
    forgotten: str
    triples_deleted: int
    restored: list[str]
    triples: int
    current_triples: int
    entities: int
    episodes: int


class Rows(Paged):
    rows: list[dict[str, Any]]


class Passage(TypedDict):
    id: str
    title: str
    score: float
    text: str


class Answered(TypedDict):
    passages: list[Passage]
    facts: list[ScoredFact]
    answer: NotRequired[str]


# --- the reference memory server's shapes -------------------------------------------------------
class Entity(TypedDict):
    name: str
    entityType: str
    observations: list[str]


Relation = TypedDict("Relation", {"from": str, "to": str, "relationType": str})  # "from" is a keyword


class NewObservations(TypedDict):
    entityName: str
    contents: list[str]


class Deletion(TypedDict):
    entityName: str
    observations: list[str]


class Entities(TypedDict):
    entities: list[Entity]


class Relations(TypedDict):
    relations: list[Relation]


class AddedObservations(TypedDict):
    entityName: str
    addedObservations: list[str]


class ObservationsAdded(TypedDict):
    results: list[AddedObservations]


class Done(TypedDict):
    success: bool
    message: str


class Totals(TypedDict):
    entities: int
    relations: int
    observations: int


class Graph(Paged):
    """A page of the graph; ``summary`` counts the whole answer when it takes more than one page."""

    entities: list[Entity]
    relations: list[Relation]
    summary: NotRequired[Totals]


class Status(TypedDict):
    kind: str  # "memory" or "corpus"
    profile: str
    namespace: str
    triples: int
    current_triples: int
    entities: int
    episodes: int
    next_step: int
    read_only: bool
    write_cypher: bool
    answers: bool
    store: str
    extractor: str
    version: str
    max_tokens: int
    observing: int  # observe calls under way; each answers once its facts are saved
    last_observe_seconds: float | None
    tools: str
    sdk: str


# --- namespaces: export, import, listing --------------------------------------------------------
class Exported(TypedDict):
    """A page of a namespace's records (``graphmem.store.records``); next_cursor is null after the last."""

    namespace: str
    records: list[dict[str, Any]]
    next_cursor: str | None


class Counted(TypedDict):
    triples: int
    episodes: int


class Imported(TypedDict):
    namespace: str
    imported: Counted  # what this call wrote
    triples: int  # the namespace's counts after it
    current_triples: int
    entities: int
    episodes: int


class Namespaces(TypedDict):
    namespaces: list[str]
    default: str
