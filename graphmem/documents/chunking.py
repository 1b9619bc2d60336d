"""Cut a document's sections into passages of a bounded size, along its structure.

A section's paragraphs are split into sentences (a regular expression: spaCy is too slow for
books), and sentences longer than the maximum are cut at a word boundary. Consecutive sentences of
one section are packed into chunks of at most ``max_chars`` characters, breaking between
paragraphs once a chunk has ``min_chars`` and the next paragraph would not fit whole, and inside a
paragraph only when it must. A chunk never crosses into another section, except that a section
smaller than ``min_chars`` (a heading with a line under it) joins the sections after it that lie
under the same parent. A section's last chunk, when short, takes sentences from the one before so
that neither is. ``overlap``: the next chunk starts with the last whole sentences, up to that many
characters, of the one before (inside one section only; chunks are packed that much smaller, so
that the repeated sentences fit).

Paragraphs are joined by a blank line, sentences of one paragraph by the text between them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple, Sequence

from ..errors import GraphmemError
from .sections import Section

# A sentence ends at . ! ? (and closing quotes or brackets) before white space and a word that
# does not start in lower case ("e.g. this" goes on); CJK full stops need no space after them.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+(?=\S)|[\u3002\uff01\uff1f]+[\u300d\u300f\u201d)]*\s*")
_SPACE = re.compile(r"\s+")
PARAGRAPH_BREAK = "\n\n"


class ChunkingError(GraphmemError, ValueError):
    """Chunk sizes that cannot work together."""


@dataclass(frozen=True)
class ChunkSizes:
    """Chunk sizes in characters: ``min_chars`` .. ``max_chars``, ``overlap`` repeated."""

    min_chars: int = 400
    max_chars: int = 1200
    overlap: int = 0

    def __post_init__(self) -> None:
        if self.max_chars < 1 or self.min_chars < 0:
            raise ChunkingError(f"chunk sizes must be positive, not min {self.min_chars}, max {self.max_chars}")
        if self.min_chars > self.max_chars:
            raise ChunkingError(f"the chunk min ({self.min_chars}) is above the chunk max ({self.max_chars})")
        if not 0 <= self.overlap < self.max_chars:
            raise ChunkingError(f"the chunk overlap ({self.overlap}) must be at least 0 and below the chunk "
                                f"max ({self.max_chars})")


class Chunk(NamedTuple):
    text: str
    section: tuple[str, ...]  # the deepest section holding all of the chunk's text


class _Unit(NamedTuple):
    """A sentence (or a cut piece of one): ``paragraph``'s text from ``start`` to ``end``."""

    section: int
    paragraph: int
    start: int
    end: int


def chunk_sections(sections: Sequence[Section], sizes: ChunkSizes = ChunkSizes()) -> list[Chunk]:
    """The chunks of a document's sections, in document order."""
    # Packed to leave room for the overlap, so that the sentences repeated fit.
    room = sizes.max_chars - sizes.overlap
    packing = ChunkSizes(min(sizes.min_chars, room), room)
    texts: list[str] = []  # every paragraph of the document
    per_section: list[list[_Unit]] = []
    for number, section in enumerate(sections):
        units = []
        for paragraph in section.paragraphs:
            units += [_Unit(number, len(texts), start, end) for start, end in _spans(paragraph, room)]
            texts.append(paragraph)
        per_section.append(units)
    chunks = []
    for group in _groups(sections, per_section, texts, sizes.min_chars):
        for units in _overlapped(_packed(group, texts, packing), texts, sizes):
            chunks.append(Chunk(_text(units, texts), _common_prefix([sections[u.section].path for u in units])))
    return chunks


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, white space around it left out."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[m.end():m.end() + 1].islower():
            continue
        spans.append(_stripped(text, start, m.end()))
        start = m.end()
    spans.append(_stripped(text, start, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _spans(paragraph: str, max_chars: int) -> list[tuple[int, int]]:
    """The paragraph's sentences, one longer than ``max_chars`` cut at its last word boundary
    that fits (or at ``max_chars`` itself, within a word longer than that)."""
    out = []
    for start, end in sentence_spans(paragraph):
        while end - start > max_chars:
            spaces = list(_SPACE.finditer(paragraph, start + 1, start + max_chars + 1))
            cut = spaces[-1].start() if spaces else start + max_chars
            out.append(_stripped(paragraph, start, cut))
            start = _stripped(paragraph, cut, end)[0]
        out.append((start, end))
    return out


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _text(units: Sequence[_Unit], texts: list[str]) -> str:
    """The units' text: a paragraph's consecutive units as they stand in it, paragraphs apart."""
    pieces, i = [], 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1].paragraph == units[i].paragraph:
            j += 1
        pieces.append(texts[units[i].paragraph][units[i].start:units[j].end])
        i = j + 1
    return PARAGRAPH_BREAK.join(pieces)


def _groups(sections: Sequence[Section], per_section: list[list[_Unit]], texts: list[str],
            min_chars: int) -> list[list[_Unit]]:
    """The units of each section, a section smaller than ``min_chars`` together with the next
    ones while they lie under its parent."""
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    for number, units in enumerate(per_section):
        if not units:
            continue
        if current:
            parent = sections[current[-1].section].path[:-1]
            if len(_text(current, texts)) >= min_chars or sections[number].path[:len(parent)] != parent:
                groups.append(current)
                current = []
        current = current + units
    if current:
        groups.append(current)
    return groups


def _packed(units: list[_Unit], texts: list[str], sizes: ChunkSizes) -> list[list[_Unit]]:
    """One group's units in chunks of at most ``max_chars``, preferring paragraph breaks."""
    parts: list[list[_Unit]] = []
    current: list[_Unit] = []
    for unit in units:
        if current:
            size = len(_text(current, texts))
            new_paragraph = unit.paragraph != current[-1].paragraph
            whole_paragraph = size + len(PARAGRAPH_BREAK) + len(texts[unit.paragraph])
            if (len(_text(current + [unit], texts)) > sizes.max_chars
                    or (new_paragraph and size >= sizes.min_chars and whole_paragraph > sizes.max_chars)):
                parts.append(current)
                current = []
        current.append(unit)
    parts.append(current)
    if len(parts) > 1 and len(_text(parts[-1], texts)) < sizes.min_chars:
        parts[-2:] = _rebalanced(parts[-2] + parts[-1], texts, sizes)
    return parts


def _rebalanced(units: list[_Unit], texts: list[str], sizes: ChunkSizes) -> list[list[_Unit]]:
    """The units as one chunk if they fit, else as two: split between paragraphs where both then
    reach ``min_chars``, else where the shorter is as long as can be."""
    if len(_text(units, texts)) <= sizes.max_chars:
        return [units]
    splits = []
    for k in range(1, len(units)):
        first, second = len(_text(units[:k], texts)), len(_text(units[k:], texts))
        if first <= sizes.max_chars and second <= sizes.max_chars:
            shorter = min(first, second)
            splits.append((units[k].paragraph != units[k - 1].paragraph and shorter >= sizes.min_chars, shorter, k))
    *_, k = max(splits)  # never empty: the split the packing made fits
    return [units[:k], units[k:]]


def _overlapped(parts: list[list[_Unit]], texts: list[str], sizes: ChunkSizes) -> list[list[_Unit]]:
    """Each part after the first led by the last sentences of the one before, up to ``overlap``
    characters, as many of them as fit within ``max_chars``."""
    if not sizes.overlap:
        return parts
    out = [parts[0]]
    for before, part in zip(parts, parts[1:]):
        k = len(before)
        while k > 0 and len(_text(before[k - 1:], texts)) <= sizes.overlap:
            k -= 1
        lead = before[k:]
        while lead and len(_text(lead + part, texts)) > sizes.max_chars:
            lead = lead[1:]
        out.append(lead + part)
    return out


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    prefix = paths[0]
    for path in paths[1:]:
        n = 0
        while n < min(len(prefix), len(path)) and prefix[n] == path[n]:
            n += 1
        prefix = prefix[:n]
    return prefix
