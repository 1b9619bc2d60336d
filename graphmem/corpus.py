"""Read document corpora in the shapes people have them, as passages (id, title, text).

Accepted: a JSON list of {"title", "text"} objects, a JSON dict title -> list of sentences (HotpotQA
style), a JSON list of strings, or a folder of .txt files (title = file name without extension).
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .errors import GraphmemError
from .jsonfile import read_json
from .model import passage_id


class CorpusError(GraphmemError, ValueError):
    """A corpus that cannot be read; the message names the file and the problem."""


class Passage(NamedTuple):
    id: str
    title: str
    text: str


def _passage(title: str, text: str) -> Passage:
    return Passage(passage_id(title, text), title, text)


def load_corpus(path: str | Path) -> list[Passage]:
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise CorpusError(f"{path} holds no .txt files")
        # Undecodable bytes become U+FFFD: one odd byte should not stop a build of thousands of files.
        return [_passage(f.stem, f.read_text(encoding="utf-8-sig", errors="replace")) for f in files]
    if not path.exists():
        raise CorpusError(f"no corpus at {path}: give a JSON file or a folder of .txt files")
    doc = read_json(path, CorpusError, "corpus")
    if isinstance(doc, dict):
        return [_passage(str(t), _text(s, f"{path}: entry {str(t)[:40]!r}")) for t, s in doc.items()]
    if isinstance(doc, list):
        out = []
        for i, item in enumerate(doc):
            if isinstance(item, str):
                out.append(_passage("", item))
            elif isinstance(item, dict) and "text" in item:
                out.append(_passage(str(item.get("title", "")), _text(item["text"], f"{path}: item {i}")))
            else:
                raise CorpusError(f"{path}: item {i} is neither a string nor an object with 'text'")
        return out
    raise CorpusError(f"{path}: expected a JSON list or dict at the top level")


def _text(value, where: str) -> str:
    """A passage's text: a string, or a list of sentence strings joined by spaces."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return " ".join(value)
    raise CorpusError(f"{where}: text must be a string or a list of strings, not {_shape(value)}")


def _shape(value) -> str:
    if isinstance(value, list):
        return "a list holding " + ", ".join(sorted({type(v).__name__ for v in value}))
    return type(value).__name__
