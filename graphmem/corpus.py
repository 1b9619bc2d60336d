"""Read document corpora in the shapes people have them, as passages (id, title, text).

The one corpus reader: ``build``, ``add`` and ``eval-qa`` (its ``corpus.json``) all read through
``load_corpus``, so a corpus gives the same passage ids whichever command reads it, and ``ask``
finds them in any graph those commands wrote.

Accepted: a JSON list of {"title", "text"} objects (text: a string, or a list of sentences), a JSON
dict title -> list of sentences (HotpotQA style; one string counts as one sentence), a JSON list of
strings, or a folder of .txt files (title = file name without extension). A text given as a string
is kept as it is; sentences are stripped and joined by one space (``join_sentences``). Identical
passages (the same id) are read once.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, NamedTuple

from .errors import GraphmemError
from .util.jsonfile import read_json
from .model import passage_id


class CorpusError(GraphmemError, ValueError):
    """A corpus that cannot be read; the message names the file and the problem."""


class Passage(NamedTuple):
    id: str
    title: str
    text: str


def join_sentences(sentences: list[str]) -> str:
    """HotpotQA sentences carry their leading space, 2Wiki's do not: normalise both to one space.

    The ids of eval-qa's cached graphs and of the QA splits' rankings hash texts joined this way."""
    return " ".join(s.strip() for s in sentences if s.strip())


class _Entry(NamedTuple):
    title: str
    text: str
    former_text: str  # what graphmem before this reader gave (sentences joined as they came)


def load_corpus(path: str | Path) -> list[Passage]:
    """The corpus's passages in file order, each once: a graph holds a passage once, and eval-qa's
    recall would be ambiguous with two copies."""
    passages: dict[str, Passage] = {}
    for e in _entries(Path(path)):
        title, text = valid_unicode(e.title), valid_unicode(e.text)
        pid = passage_id(title, text)
        passages.setdefault(pid, Passage(pid, title, text))
    return list(passages.values())


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with each lone surrogate (a JSON "\\ud800", a file name's or a command-line
    argument's undecodable byte) made U+FFFD: no hash, model or file format takes them, and one
    should not stop a build."""
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


def former_ids(path: str | Path) -> set[str]:
    """The ids that passages of the corpus at ``path`` had before ``build`` and ``add`` joined
    sentences as eval-qa does (they were joined by a space as they came, so HotpotQA's leading
    spaces doubled), for the passages whose id changed."""
    entries = list(_entries(Path(path)))
    current = {passage_id(e.title, e.text) for e in entries}
    return {passage_id(e.title, e.former_text) for e in entries if e.former_text != e.text} - current


def refuse_former_ids(path: str | Path, store, graph_file: str | None) -> None:
    """Refuse to add the corpus at ``path`` to a graph in ``store`` that holds its passages under
    their former ids: it would then hold those passages twice. Rebuilding gives the ids now."""
    former = former_ids(path)
    if former and store.get_episodes(sorted(former)):
        raise CorpusError(f"the graph holds passages of {path} under the ids of an older graphmem (sentences "
                          f"are now joined as eval-qa joins them): rebuild it with "
                          f"'graphmem build {path} --out {graph_file or 'FILE'} --force'")


def _entries(path: Path) -> Iterator[_Entry]:
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise CorpusError(f"{path} holds no .txt files")
        # Undecodable bytes become U+FFFD: one odd byte should not stop a build of thousands of files.
        for f in files:
            text = f.read_text(encoding="utf-8-sig", errors="replace")
            yield _Entry(f.stem, text, text)
        return
    if not path.exists():
        raise CorpusError(f"no corpus at {path}: give a JSON file or a folder of .txt files")
    doc = read_json(path, CorpusError, "corpus")
    if isinstance(doc, dict):
        for title, sentences in doc.items():
            if isinstance(sentences, str):  # one sentence: stripped like the others
                sentences = [sentences]
            yield _sentence_entry(str(title), sentences, f"{path}: entry {str(title)[:40]!r}")
        return
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            if isinstance(item, str):
                yield _Entry("", item, item)
            elif isinstance(item, dict) and "text" in item:
                title, text = _title(item.get("title")), item["text"]
                yield _Entry(title, text, text) if isinstance(text, str) else \
                    _sentence_entry(title, text, f"{path}: item {i}")
            else:
                raise CorpusError(f"{path}: item {i} is neither a string nor an object with 'text'")
        return
    raise CorpusError(f"{path}: expected a JSON list or dict at the top level")


def _title(value) -> str:
    """A passage's title as given; a missing or null one is no title (not the word "None")."""
    return "" if value is None else str(value)


def _sentence_entry(title: str, sentences, where: str) -> _Entry:
    if isinstance(sentences, list) and all(isinstance(s, str) for s in sentences):
        return _Entry(title, join_sentences(sentences), " ".join(sentences))
    raise CorpusError(f"{where}: text must be a string or a list of strings, not {_shape(sentences)}")


def _shape(value) -> str:
    if isinstance(value, list):
        return "a list holding " + ", ".join(sorted({type(v).__name__ for v in value}))
    return type(value).__name__
