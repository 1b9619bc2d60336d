"""An HTML page's text and structure with the standard library's parser: h1-h6 give the
sections; paragraphs, list items, table cells, line breaks and other blocks end paragraphs;
``pre`` keeps its lines; scripts, styles and navigation are dropped; ``<title>`` names the page."""
from __future__ import annotations

from html.parser import HTMLParser

from .sections import Section, SectionBuilder

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_DROPPED = {"script", "style", "nav", "noscript", "template"}
_BLOCKS = {"p", "li", "td", "th", "pre", "br", "div", "tr", "table", "ul", "ol", "dl", "dt", "dd",
           "blockquote", "section", "article", "header", "footer", "aside", "main", "figure",
           "figcaption", "hr", "form", "fieldset", "address", "body"}


class _PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections = SectionBuilder()
        self.title = ""
        self._text: list[str] = []  # the paragraph (or heading, or title) being read
        self._dropped = 0  # depth inside dropped elements
        self._pre = 0
        self._heading: int | None = None  # the level of the heading being read
        self._in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _DROPPED:
            self._dropped += 1
        elif self._dropped:
            return
        elif tag == "title":
            self._in_title, self._text = True, []
        elif tag in _HEADINGS:
            self._end_paragraph()
            self._heading = _HEADINGS[tag]
        elif tag in _BLOCKS:
            self._end_paragraph()
            if tag == "pre":
                self._pre += 1

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS and not self._dropped:  # <br/>, <hr/>
            self._end_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropped = max(0, self._dropped - 1)
        elif self._dropped:
            return
        elif tag == "title" and self._in_title:
            self.title = " ".join("".join(self._text).split())
            self._in_title, self._text = False, []
        elif tag in _HEADINGS and self._heading is not None:
            self.sections.heading(self._heading, "".join(self._text))
            self._heading, self._text = None, []
        elif tag in _BLOCKS:
            self._end_paragraph()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if not self._dropped:
            self._text.append(data)

    def finish(self) -> None:
        """End what the page left open (a heading or a title never closed ends with the page)."""
        self.close()
        if self._in_title:
            self.handle_endtag("title")
        if self._heading is not None:
            self.handle_endtag(f"h{self._heading}")
        self._end_paragraph()

    def _end_paragraph(self) -> None:
        if self._heading is None and not self._in_title:
            self.sections.paragraph("".join(self._text), verbatim=self._pre > 0)
            self._text = []


def read_html(text: str) -> tuple[str, list[Section]]:
    """(the page's ``<title>``, "" when none; its sections)."""
    reader = _PageReader()
    reader.feed(text)
    reader.finish()
    return reader.title, reader.sections.sections()
