"""Where an extracted fact is said in its text: character ranges to pool the fact's vector from.

A fact's names come from the text's own words (the offline extractor lowercases them), so each is
looked up case-insensitively; the fact is the stretch from its subject to its object where the two
are close (it holds the relation's words too), else the two names' own ranges.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from typing import Sequence

from .base import RawTriple, well_formed

CLAUSE_CHARS = 120  # subject and object further apart than this: pool the two names only
_WORD = re.compile(r"\w+")
_ARTICLES = frozenset({"the", "a", "an"})  # a name drops them: "member of european union"


class TextWords:
    """A text's words (runs of ``\\w``), to find names in it as sequences of whole words.

    Only a name's words must match: names lose the text's punctuation ("193 000 people" for
    "193,000 people", "british canadian" for "British-Canadian") and inner articles ("member of
    european union"). Matching words, not a pattern compiled per name, keeps this cheap (a
    passage's ~15 names each compiled cost about as much as the passage's parse)."""

    def __init__(self, text: str):
        found = list(_WORD.finditer(text))
        self.words = [m.group() for m in found]
        self.spans = [m.span() for m in found]
        self.starts: dict[str, list[int]] = {}
        for i, word in enumerate(self.words):
            self.starts.setdefault(word, []).append(i)

    def mentions(self, name: str) -> list[tuple[int, int]]:
        """Character ranges of ``name`` in the text, in order, not overlapping (the text and the
        name in the same case)."""
        words = _WORD.findall(name)
        out: list[tuple[int, int]] = []
        after = 0
        for first in self.starts.get(words[0], ()) if words else ():
            last = self._last_word(first, words, 1) if first >= after else None
            if last is not None:
                out.append((self.spans[first][0], self.spans[last][1]))
                after = last + 1
        return out

    def _last_word(self, at: int, words: Sequence[str], k: int) -> int | None:
        """Index of the text word that ends a match of ``words[k:]`` following the word ``at``, or
        None. An article between two of the name's words is skipped where that leads to a match,
        else the next word must follow directly."""
        if k == len(words):
            return at
        nxt, words_here = at + 1, self.words
        if nxt + 1 < len(words_here) and words_here[nxt] in _ARTICLES and words_here[nxt + 1] == words[k]:
            last = self._last_word(nxt + 1, words, k + 1)
            if last is not None:
                return last
        if nxt < len(words_here) and words_here[nxt] == words[k]:
            return self._last_word(nxt, words, k + 1)
        return None


def fact_spans(text: str, raw: Sequence[RawTriple], offset: int = 0) -> list[list[tuple[int, int]] | None]:
    """For each fact of ``raw``, the character ranges it is said in (shifted by ``offset``), or
    None where its subject or object is not found in ``text``."""
    words = TextWords(text.lower())
    found: dict[str, list[tuple[int, int]]] = {}
    out: list[list[tuple[int, int]] | None] = []
    for item in raw:
        if not well_formed(item):
            out.append(None)
            continue
        subj, obj = (found[n] if n in found else found.setdefault(n, words.mentions(n))
                     for n in (item[0].lower(), item[2].lower()))
        if not subj or not obj:
            out.append(None)
            continue
        (a, b), (c, d) = closest_pair(subj, obj)
        if max(a, c) - min(b, d) <= CLAUSE_CHARS:
            ranges = [(min(a, c), max(b, d))]
        else:
            ranges = [(a, b), (c, d)]
        out.append([(s + offset, e + offset) for s, e in ranges])
    return out


Mention = tuple[int, int]


def closest_pair(subj: Sequence[Mention], obj: Sequence[Mention]) -> tuple[Mention, Mention]:
    """The subject and object mentions closest together (gap ``max(starts) - min(ends)``, negative
    where they overlap), the first such pair in text order on ties.

    Both lists are in text order and do not overlap within themselves, so for one subject mention
    the object mentions fall into three runs: starting at or before it (the gap shrinks along
    the run: only the last can be closest), inside it, and past it (the gap grows: only the first).
    Looking at those few keeps this linear; all pairs made a 1M-character passage that names
    "knife" and "table" 40,000 times each take hours."""
    starts = [c for c, _ in obj]
    best: tuple[int, Mention, Mention] | None = None
    for s in subj:
        a, b = s
        i = bisect_right(starts, a)
        candidates = [obj[i - 1]] if i else []
        while i < len(obj) and obj[i][1] < b:  # inside s: at most all of obj, summed over subj
            candidates.append(obj[i])
            i += 1
        if i < len(obj):
            candidates.append(obj[i])
        for o in candidates:
            key = (max(a, o[0]) - min(b, o[1]), s, o)
            if best is None or key < best:
                best = key
    assert best is not None  # both lists are non-empty
    return best[1], best[2]
