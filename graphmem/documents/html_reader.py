"""An HTML page's text and structure with the standard library's parser: h1-h6 give the
sections; paragraphs, list items, table cells, line breaks and other blocks end paragraphs;
``pre`` keeps its lines; scripts, styles and navigation are dropped; ``<title>`` names the page.

Where the page marks its main content (``<main>``, or an element with ``role="main"``, as
documentation generators and most sites do), only that is read: the rest is the site's chrome
(menus, sidebars, theme pickers, help pop-ups), which would otherwise repeat in every page of a
folder and fill chunks of its own."""
from __future__ import annotations

from html.parser import HTMLParser

from .sections import Section, SectionBuilder

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_DROPPED = {"script", "style", "nav", "noscript", "template"}
_DROPPED_ROLES = {"navigation", "menu", "menubar", "search"}  # an element of any tag, by its role
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_BLOCKS = {"p", "li", "td", "th", "pre", "br", "div", "tr", "table", "ul", "ol", "dl", "dt", "dd",
           "blockquote", "section", "article", "header", "footer", "aside", "main", "figure",
           "figcaption", "hr", "form", "fieldset", "address", "body"}


class _Element:
    """Whether the parser is inside an element that began with a given tag: open ones of that tag
    are counted, so that the end tag that closes it is known (nested ones of the same tag too)."""

    def __init__(self) -> None:
        self.tag: str | None = None
        self._open = 0

    def enter(self, tag: str) -> None:
        self.tag, self._open = tag, 1

    def start(self, tag: str) -> None:
        if tag == self.tag:
            self._open += 1

    def end(self, tag: str) -> None:
        """An end tag; leaves the element where it closes it."""
        if tag == self.tag:
            self._open -= 1
            if not self._open:
                self.tag = None

    def __bool__(self) -> bool:
        return self.tag is not None


class _PageReader(HTMLParser):
    def __init__(self, main_only: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.sections = SectionBuilder()
        self.title = ""
        self.saw_main = False
        self._main_only = main_only  # read inside the main content only
        self._main = _Element()
        self._dropped = _Element()
        self._text: list[str] = []  # the paragraph (or heading, or title) being read
        self._pre = 0
        self._heading: int | None = None  # the level of the heading being read
        self._in_title = False

    def _reading(self) -> bool:
        return not self._dropped and (bool(self._main) or not self._main_only)

    def handle_starttag(self, tag: str, attrs) -> None:
        self._dropped.start(tag)
        self._main.start(tag)
        if tag == "title" and not self._dropped:
            self._in_title, self._text = True, []
            return
        if tag in _VOID:
            if tag in _BLOCKS and self._reading():  # <br>, <hr>
                self._end_paragraph()
            return
        role = dict(attrs).get("role") or ""
        if not self._dropped and (tag in _DROPPED or role in _DROPPED_ROLES):
            self._end_paragraph()
            self._dropped.enter(tag)
            return
        if not self._main and not self._dropped and (tag == "main" or role == "main"):
            self.saw_main = True
            self._end_paragraph()
            self._main.enter(tag)
        if not self._reading():
            return
        if tag in _HEADINGS:
            self._end_paragraph()
            self._heading = _HEADINGS[tag]
        elif tag in _BLOCKS:
            self._end_paragraph()
            if tag == "pre":
                self._pre += 1

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS and self._reading():  # <br/>, <hr/>
            self._end_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if self._dropped:
            self._dropped.end(tag)
            self._main.end(tag)  # the dropped element may close tags of the main's kind
            return
        if tag == "title" and self._in_title:
            self.title = " ".join("".join(self._text).split())
            self._in_title, self._text = False, []
            return
        if not self._reading():
            return
        if tag in _HEADINGS and self._heading is not None:
            self.sections.heading(self._heading, "".join(self._text))
            self._heading, self._text = None, []
        elif tag in _BLOCKS:
            self._end_paragraph()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        self._main.end(tag)

    def handle_data(self, data: str) -> None:
        if self._in_title or self._reading():
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
    """(the page's ``<title>``, "" when none; its sections: those of its main content where it
    marks one that holds text)."""
    reader = _PageReader(main_only=True)
    reader.feed(text)
    reader.finish()
    sections = reader.sections.sections()
    if not reader.saw_main or not sections:  # no main content marked, or an empty one: the whole page
        reader = _PageReader(main_only=False)
        reader.feed(text)
        reader.finish()
        sections = reader.sections.sections()
    return reader.title, sections
