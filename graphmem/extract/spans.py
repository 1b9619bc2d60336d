"""Where an extracted fact is said in its text: character ranges to pool the fact's vector from.

A fact's names come from the text's own words (the offline extractor lowercases them), so each is
looked up case-insensitively; the fact is the stretch from its subject to its object where the two
are close (it holds the relation's words too), else the two names' own ranges.
"""
from __future__ import annotations

import re
from typing import Sequence

from .base import RawTriple, well_formed

CLAUSE_CHARS = 120  # subject and object further apart than this: pool the two names only
_BETWEEN_WORDS = r"\W+(?:(?:the|a|an)\W+)?"  # punctuation, and an article the name dropped


def mentions(text: str, name: str) -> list[tuple[int, int]]:
    """Ranges of ``name`` in ``text`` (lowercased), as whole words, in order. Only the name's words
    must match: names lose the text's punctuation ("193 000 people" for "193,000 people",
    "british canadian" for "British-Canadian") and inner articles ("member of european union")."""
    words = re.findall(r"\w+", name)
    if not words:
        return []
    pattern = r"(?<!\w)" + _BETWEEN_WORDS.join(map(re.escape, words)) + r"(?!\w)"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def fact_spans(text: str, raw: Sequence[RawTriple], offset: int = 0) -> list[list[tuple[int, int]] | None]:
    """For each fact of ``raw``, the character ranges it is said in (shifted by ``offset``), or
    None where its subject or object is not found in ``text``."""
    lower = text.lower()
    found: dict[str, list[tuple[int, int]]] = {}
    out: list[list[tuple[int, int]] | None] = []
    for item in raw:
        if not well_formed(item):
            out.append(None)
            continue
        subj, obj = (found.setdefault(n, mentions(lower, n)) for n in (item[0].lower(), item[2].lower()))
        if not subj or not obj:
            out.append(None)
            continue
        # The closest pair of mentions (first such pair in text order on ties).
        (a, b), (c, d) = min(((s, o) for s in subj for o in obj),
                             key=lambda p: (max(p[0][0], p[1][0]) - min(p[0][1], p[1][1]), p))
        if max(a, c) - min(b, d) <= CLAUSE_CHARS:
            ranges = [(min(a, c), max(b, d))]
        else:
            ranges = [(a, b), (c, d)]
        out.append([(s + offset, e + offset) for s, e in ranges])
    return out
