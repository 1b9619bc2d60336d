"""A document's text as sections of paragraphs: what every reader gives the chunker."""
from __future__ import annotations

import re
from typing import NamedTuple

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


class Section(NamedTuple):
    """One section: ``path`` the headings above it, from the top, its own last (empty for text
    before any heading); ``paragraphs`` its text, its heading first."""

    path: tuple[str, ...]
    paragraphs: list[str]


class SectionBuilder:
    """Collects sections as a reader meets headings and paragraphs, in document order."""

    def __init__(self) -> None:
        self._headings: list[tuple[int, str]] = []  # (level, text) of the open headings
        self._sections = [Section((), [])]

    def heading(self, level: int, text: str) -> None:
        """Start the section of a heading of ``level`` (1 the highest); an empty one starts none."""
        text = " ".join(text.split())
        if not text:
            return
        while self._headings and self._headings[-1][0] >= level:
            self._headings.pop()
        self._headings.append((level, text))
        self._sections.append(Section(tuple(t for _, t in self._headings), [text]))

    def paragraph(self, text: str, verbatim: bool = False) -> None:
        """Add a paragraph to the current section: its white space made single spaces (lines
        wrapped by hand join), unless ``verbatim`` (code keeps its lines)."""
        text = text.strip("\r\n").rstrip() if verbatim else " ".join(text.split())
        if text.strip():
            self._sections[-1].paragraphs.append(text)

    def sections(self) -> list[Section]:
        return [s for s in self._sections if s.paragraphs]


def paragraphs_of(text: str) -> list[str]:
    """Plain text's paragraphs: blocks between blank lines, each on one line."""
    builder = SectionBuilder()
    for block in _BLANK_LINE.split(text):
        builder.paragraph(block)
    return [p for s in builder.sections() for p in s.paragraphs]

