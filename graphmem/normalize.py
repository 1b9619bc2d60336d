"""Canonical names for entities and relations, and resolution of new names onto known entities.

"The Red Apple" and "red apple" are one entity: case, leading articles, possessive determiners,
punctuation and whitespace are normalised away. Resolution then maps a new name onto a known one by
exact match, fuzzy string match, or embedding neighbour above configurable thresholds.
"""
from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

_LEADING = re.compile(r"^(?:(?:a|an|the|some|this|that|these|those|your|my|his|her|its|their|our)\s+)+")
_PUNCT = re.compile(r"[^\w\s'\-./]+")
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def canonical_entity(text: str) -> str:
    """Lowercase, no leading article/determiner, no stray punctuation, single spaces."""
    s = _PUNCT.sub(" ", text.lower().replace("\u2019", "'"))
    s = _SPACES.sub(" ", s).strip(" .'-/")
    s = _LEADING.sub("", s)
    return s.strip()


@functools.lru_cache(maxsize=1 << 14)  # few distinct relations, asked for per fact
def canonical_relation(text: str) -> str:
    """Lowercase, single spaces, no punctuation other than inner hyphens."""
    s = _PUNCT.sub(" ", text.lower())
    return _SPACES.sub(" ", s).strip(" .'-/")


def singular(word_phrase: str) -> str:
    """Crude singular of the head (last) word: 'red apples' -> 'red apple'. A hook, not a lemmatiser."""
    head, _, last = word_phrase.rpartition(" ")
    if len(last) > 3 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    return f"{head} {last}".strip()


@dataclass
class ResolverConfig:
    fuzzy_threshold: float = 0.92
    embedding_threshold: float = 0.92
    use_fuzzy: bool = True
    use_embeddings: bool = True


class EntityResolver:
    """Maps names onto known entities: exact, singular form, fuzzy string, then embedding neighbour.

    Names that differ in their numbers ("key 1" vs "key 2") are never merged: in text worlds and in
    documents numbers distinguish things.
    """

    def __init__(self, config: ResolverConfig | None = None,
                 encode: Callable[[Sequence[str]], np.ndarray] | None = None):
        self.config = config or ResolverConfig()
        self._encode = encode
        self._known: dict[str, None] = {}  # insertion-ordered set
        self._by_singular: dict[str, str] = {}
        self._by_word: dict[str, list[str]] = {}  # fuzzy candidates share a word with the name
        self._names: list[str] = []
        self._vecs = np.zeros((0, 0), dtype=np.float32)  # embeddings of _names[:len(_vecs)]
        self._name_vectors: dict[str, np.ndarray] = {}  # every name embedded so far, by name
        self._cache: dict[str, str] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._known

    def reuse_vectors(self, other: "EntityResolver") -> None:
        """Take the name embeddings ``other`` made (a resolver of the same graph before it was read
        again): those names are not embedded again, which would cost a pass over every name."""
        self._name_vectors.update(other._name_vectors)

    def add_many(self, names: Iterable[str]) -> None:
        known = self._known
        for name in names:
            if name not in known:
                self.add(name)

    def add(self, name: str) -> None:
        if name in self._known:
            return
        self._known[name] = None
        self._by_singular.setdefault(singular(name), name)
        if self.config.use_fuzzy:
            for word in set(name.split()):
                self._by_word.setdefault(word, []).append(name)
        self._names.append(name)

    def resolve(self, raw: str) -> str:
        """The known entity ``raw`` refers to, or its canonical form as a new entity."""
        if raw in self._known:  # known names are canonical already: no regexes (bulk loads)
            return raw
        name = canonical_entity(raw)
        if not name or name in self._known:
            return name
        hit = self._cache.get(name)
        if hit is not None:
            return hit
        hit = self._by_singular.get(singular(name)) or self._fuzzy(name) or self._embedding(name)
        result = hit or name
        self._cache[name] = result
        return result

    def _compatible(self, a: str, b: str) -> bool:
        return _DIGITS.findall(a) == _DIGITS.findall(b)

    def _fuzzy(self, name: str) -> str | None:
        if not self.config.use_fuzzy:
            return None
        best, best_score = None, self.config.fuzzy_threshold
        pool = dict.fromkeys(c for w in name.split() for c in self._by_word.get(w, ()))
        for cand in difflib.get_close_matches(name, list(pool), n=3, cutoff=best_score):
            score = difflib.SequenceMatcher(None, name, cand).ratio()
            if score >= best_score and self._compatible(name, cand):
                best, best_score = cand, score
        return best

    def _embedding(self, name: str) -> str | None:
        if self._encode is None or not self.config.use_embeddings or not self._names:
            return None
        if len(self._vecs) < len(self._names):  # embed new names lazily, in one batch
            names = self._names[len(self._vecs):]
            todo = [n for n in names if n not in self._name_vectors]
            if todo:
                self._name_vectors.update(zip(todo, self._encode(todo)))
            fresh = np.stack([self._name_vectors[n] for n in names])
            self._vecs = fresh if len(self._vecs) == 0 else np.vstack([self._vecs, fresh])
        sims = self._vecs @ self._encode([name])[0]
        for i in np.argsort(-sims, kind="stable"):
            if sims[i] < self.config.embedding_threshold:
                break
            if self._compatible(name, self._names[i]):
                return self._names[i]
        return None
