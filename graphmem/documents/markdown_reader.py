"""Markdown's structure, enough for chunking: ATX (``#`` .. ``######``) and setext (underlined)
headings give the sections; blank lines, list items and code fences end paragraphs. A fenced
code block stays one paragraph with its lines, and nothing inside it is read as a heading. Inline
markup (emphasis, links) is left in the text as written."""
from __future__ import annotations

import re

from .sections import Section, SectionBuilder

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r" {0,3}(?:[-+*]|\d{1,9}[.)])[ \t]")
_FRONT_MATTER = re.compile(r"---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|$)", re.S)


def read_markdown(text: str) -> list[Section]:
    text = _FRONT_MATTER.sub("", text, count=1) if text.startswith("---") else text
    builder = SectionBuilder()
    lines: list[str] = []  # the paragraph being read

    def end_paragraph() -> None:
        builder.paragraph("\n".join(lines))
        lines.clear()

    fence: str | None = None  # the open code fence's marker
    code: list[str] = []
    for line in text.splitlines():
        if fence is not None:
            if re.match(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", line):
                builder.paragraph("\n".join(code), verbatim=True)
                fence, code = None, []
            else:
                code.append(line)
            continue
        if m := _FENCE.match(line):
            end_paragraph()
            fence = m.group(1)
        elif m := _ATX.match(line):
            end_paragraph()
            builder.heading(len(m.group(1)), m.group(2) or "")
        elif lines and (m := _SETEXT.match(line)):
            heading = " ".join(lines)
            lines.clear()
            builder.heading(1 if m.group(1)[0] == "=" else 2, heading)
        elif not line.strip() or _THEMATIC_BREAK.match(line):
            end_paragraph()
        else:
            if _LIST_ITEM.match(line):
                end_paragraph()
            lines.append(line)
    if fence is not None:  # a fence never closed runs to the end, as Markdown renders it
        builder.paragraph("\n".join(code), verbatim=True)
    end_paragraph()
    return builder.sections()
