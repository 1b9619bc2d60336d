"""Core data model: triples with validity and provenance, episodes, retrieval results.

Ids are stable hashes of normalised text (never Python ``hash()``), so they are identical across
processes, machines and backends.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Sequence, TypeGuard

import numpy as np


_SEPARATOR_ESCAPES = str.maketrans({"\x1e": "\x1e\x1e", "\x1f": "\x1e\x1f"})


def stable_id(*parts: object, prefix: str = "") -> str:
    """A short, process-independent id: sha1 of the parts joined by U+001F. A part's own U+001F (and
    the escape U+001E) is escaped first, so ("a\x1fb", "c") and ("a", "b\x1fc") differ; parts without
    them keep the ids they always had."""
    text = "\x1f".join(map(str, parts))
    if text.count("\x1f") != len(parts) - 1 or "\x1e" in text:  # rare: escape only then (bulk loads)
        text = "\x1f".join(str(part).translate(_SEPARATOR_ESCAPES) for part in parts)
    return prefix + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def passage_id(title: str, text: str, occurrence: int = 1) -> str:
    """The id of a document passage: the same title and text give the same id everywhere. A text
    that one document holds more than once (a repeated notice) gets an id for each ``occurrence``
    after the first, numbered in document order: ids then stay put when other text is inserted."""
    if occurrence == 1:
        return stable_id(title, text, prefix="p")
    return stable_id(title, text, occurrence, prefix="p")


def titled_text(title: str, text: str) -> str:
    """What gets embedded or tokenised of a passage: the title carries the entity it is about."""
    return f"{title}\n{text}" if title else text


def embedded_text(title: str, text: str, with_title: bool = True) -> str:
    """What the embedder reads of an episode: ``titled_text``, or the text alone where the
    profile's titles say nothing (``DomainProfile.embeds_title``)."""
    return titled_text(title, text) if with_title else text


def passage_text(passage) -> str:
    """``titled_text`` of anything with ``title`` and ``text`` (a passage, an episode)."""
    return titled_text(passage.title, passage.text)


def fact_key(subject: str, relation: str, obj: str) -> str:
    """Identity of a fact regardless of when it was true."""
    return stable_id(subject, relation, obj, prefix="f")


@dataclass(slots=True)  # a million of them open at once: no per-object dict
class Triple:
    """A (subject, relation, object) fact, true from ``valid_from`` until ``valid_until`` (exclusive).

    ``valid_until`` is None while the fact is current. ``sources`` are the ids of the episodes or
    passages the fact was extracted from. ``retired_by``: the source whose write retired it (None
    while current, and in graphs written before it was kept), so forgetting that source can make
    the fact current again. Names are expected to be normalised already.
    """

    subject: str
    relation: str
    object: str
    valid_from: int = 0
    valid_until: int | None = None
    sources: list[str] = field(default_factory=list)
    id: str = ""
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)
    retired_by: str | None = None  # last: readers build triples from positional columns

    def __post_init__(self) -> None:
        if not self.id:
            # The same fact made true again later is a new triple with its own history.
            self.id = stable_id(self.subject, self.relation, self.object, self.valid_from, prefix="t")

    @property
    def key(self) -> str:
        return fact_key(self.subject, self.relation, self.object)

    @property
    def current(self) -> bool:
        return self.valid_until is None

    @property
    def text(self) -> str:
        """The sentence that is embedded and shown in prompts."""
        return f"{self.subject} {self.relation} {self.object}"

    def as_list(self) -> list[str]:
        return [self.subject, self.relation, self.object]

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "subject": self.subject,
            "relation": self.relation,
            "object": self.object,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "sources": list(self.sources),
        }
        if self.retired_by is not None:  # only then: facts never retired by a source print as before
            d["retired_by"] = self.retired_by
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Triple":
        """The triple ``to_dict`` wrote; ValueError names the field when ``d`` is malformed."""
        d = _record(d, "triple")
        return cls(
            subject=_field(d, "subject", str, "triple"),
            relation=_field(d, "relation", str, "triple"),
            object=_field(d, "object", str, "triple"),
            valid_from=_field(d, "valid_from", int, "triple", 0),
            valid_until=_field(d, "valid_until", (int, type(None)), "triple", None),
            sources=_strings(d, "sources", "triple"),
            id=_field(d, "id", str, "triple", ""),
            retired_by=_field(d, "retired_by", (str, type(None)), "triple", None),
        )


@dataclass(slots=True)
class Episode:
    """One observation or passage, linked to the triples extracted from it.

    ``meta``: small string facts about where it came from (a conversation turn's speaker, session,
    date), kept as given by every store and written only when there are some, so episodes without
    any are stored exactly as before."""

    id: str
    step: int
    text: str
    triple_ids: list[str] = field(default_factory=list)
    title: str = ""
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)
    meta: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "step": self.step,
            "text": self.text,
            "title": self.title,
            "triple_ids": list(self.triple_ids),
        }
        if self.meta:
            d["meta"] = dict(self.meta)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Episode":
        """The episode ``to_dict`` wrote; ValueError names the field when ``d`` is malformed."""
        d = _record(d, "episode")
        return cls(
            id=_field(d, "id", str, "episode"),
            step=_field(d, "step", int, "episode", 0),
            text=_field(d, "text", str, "episode", ""),
            title=_field(d, "title", str, "episode", ""),
            triple_ids=_strings(d, "triple_ids", "episode"),
            meta=_string_map(d, "meta", "episode"),
        )


@dataclass
class ScoredEpisode:
    episode: Episode
    score: float
    hits: int


@dataclass
class Subgraph:
    """What retrieval returns: triples in retrieval order and the top episodes."""

    triples: list[Triple] = field(default_factory=list)
    episodes: list[ScoredEpisode] = field(default_factory=list)

    def to_prompt(self, max_episodes: int | None = None) -> str:
        lines = ["Relevant facts:"]
        lines += [f"- {t.text}" for t in self.triples] or ["- (none)"]
        shown = self.episodes if max_episodes is None else self.episodes[:max_episodes]
        if shown:
            lines.append("Relevant past observations:")
            lines += [f"- [step {e.episode.step}] {e.episode.text.strip()}" for e in shown]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_prompt()

    def to_dict(self) -> dict:
        return {
            "triples": [t.to_dict() for t in self.triples],
            "episodes": [_scored_episode_dict(e) for e in self.episodes],
        }


def _scored_episode_dict(e: ScoredEpisode) -> dict:
    d = {"id": e.episode.id, "step": e.episode.step, "title": e.episode.title,
         "score": round(e.score, 6), "hits": e.hits, "text": e.episode.text}
    if e.episode.meta:  # absent when empty: the recall JSON of episodes without meta is unchanged
        d["meta"] = dict(e.episode.meta)
    return d


_MISSING = object()


def _record(d: object, kind: str) -> dict:
    if not isinstance(d, dict):
        raise ValueError(f"a {kind} must be an object, not {type(d).__name__}")
    return d


def _field(d: dict, key: str, kinds: type | tuple[type, ...], kind: str, default=_MISSING):
    """``d[key]`` if it has one of ``kinds`` (a bool is no int here), else ValueError."""
    value = d.get(key, default)
    if value is _MISSING:
        raise ValueError(f"a {kind} without {key!r}: {_clip(d)}")
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _tuple(kinds)):
        raise ValueError(f"{kind} field {key!r} has the wrong type ({type(value).__name__}): {_clip(d)}")
    return value


def _strings(d: dict, key: str, kind: str) -> list[str]:
    value = _field(d, key, list, kind, [])
    if not all(isinstance(x, str) for x in value):
        raise ValueError(f"{kind} field {key!r} must be a list of strings: {_clip(d)}")
    return list(value)


def is_string_map(value: object) -> TypeGuard[dict[str, str]]:
    """Whether ``value`` is what an episode's ``meta`` may be: a dict of strings to strings."""
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _string_map(d: dict, key: str, kind: str) -> dict[str, str]:
    value = _field(d, key, dict, kind, {})
    if not is_string_map(value):
        raise ValueError(f"{kind} field {key!r} must map strings to strings: {_clip(d)}")
    return dict(value)


def _tuple(kinds) -> tuple:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _clip(d: dict) -> str:
    text = repr(d)
    return text if len(text) <= 120 else text[:117] + "..."


def ordered_unique(items: Iterable[str]) -> list[str]:
    """Deduplicate, keeping first occurrence order (never set order)."""
    return list(dict.fromkeys(items))


def with_vectors(items: Iterable[Triple | Episode]) -> tuple[list[str], list[np.ndarray]]:
    """The ids of the items that carry a vector, and those vectors, in the items' order."""
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    for x in items:
        if x.embedding is not None:
            ids.append(x.id)
            vectors.append(x.embedding)
    return ids, vectors


def vector_matrix(items: Sequence[Triple | Episode]) -> np.ndarray:
    """The items' vectors as the rows of one matrix; every item carries one (callers embed first)."""
    _, vectors = with_vectors(items)
    assert len(vectors) == len(items), "an item without a vector"
    return np.stack(vectors)
