"""Read one document file by its extension: plain text, Markdown, HTML or PDF (with ``pypdf``).

Text files are read as UTF-8 (a byte-order mark dropped), an undecodable byte becoming U+FFFD: one
odd byte should not stop a build of thousands of files. A file that cannot be read or parsed
raises ``UnreadableDocument`` saying why; the caller names the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

from ..errors import GraphmemError
from .html_reader import read_html
from .markdown_reader import read_markdown
from .sections import Section, paragraphs_of


class UnreadableDocument(GraphmemError, ValueError):
    """A document file that cannot be read or parsed; the message says why."""


class DocumentText(NamedTuple):
    sections: list[Section]
    whole: str  # the document as one passage (no chunking): a text file's text as it is
    title: str = ""  # the title the document gives itself (an HTML page's <title>)


def read_document(path: Path) -> DocumentText:
    """The sections of the document at ``path``; its extension (any case) picks the reader."""
    return _READERS[path.suffix.lower()](path)


def _read_text_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as e:
        raise UnreadableDocument(f"cannot be read: {e.strerror or e}") from None


def _plain(path: Path) -> DocumentText:
    text = _read_text_file(path)
    return DocumentText([Section((), paragraphs_of(text))], text)


def _markdown(path: Path) -> DocumentText:
    text = _read_text_file(path)
    return DocumentText(read_markdown(text), text)


def _html(path: Path) -> DocumentText:
    title, sections = read_html(_read_text_file(path))
    return DocumentText(sections, _joined(sections), title)


def _pdf(path: Path) -> DocumentText:
    try:
        from pypdf import PdfReader
    except ImportError:
        raise UnreadableDocument("reading PDF files needs pypdf: pip install pypdf") from None
    try:
        pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    except OSError as e:
        raise UnreadableDocument(f"cannot be read: {e.strerror or e}") from None
    except Exception as e:  # noqa: BLE001 - a damaged file can make the parser raise anything
        raise UnreadableDocument(f"not a readable PDF ({type(e).__name__}: {e})") from None
    sections = [Section((), [p for page in pages for p in paragraphs_of(page)])]
    return DocumentText(sections, _joined(sections))


def _joined(sections: list[Section]) -> str:
    return "\n\n".join(p for s in sections for p in s.paragraphs)


_READERS: dict[str, Callable[[Path], DocumentText]] = {
    ".txt": _plain, ".md": _markdown, ".markdown": _markdown, ".html": _html, ".htm": _html, ".pdf": _pdf}
DOCUMENT_SUFFIXES = frozenset(_READERS)
