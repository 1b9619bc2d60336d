"""Read document corpora in the shapes people have them, as (passage_id, title, text) triples.

Accepted: a JSON list of {"title", "text"} objects, a JSON dict title -> list of sentences (HotpotQA
style), a JSON list of strings, or a folder of .txt files (title = file name without extension).
"""
from __future__ import annotations

import json
from pathlib import Path

from .model import stable_id


class CorpusError(ValueError):
    pass


def _passage(title: str, text: str) -> tuple[str, str, str]:
    return stable_id(title, text, prefix="p"), title, text


def load_corpus(path: str | Path) -> list[tuple[str, str, str]]:
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise CorpusError(f"{path} holds no .txt files")
        return [_passage(f.stem, f.read_text(encoding="utf-8", errors="replace")) for f in files]
    if not path.exists():
        raise CorpusError(f"no corpus at {path}: give a JSON file or a folder of .txt files")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CorpusError(f"{path} is not valid JSON: {exc}") from exc
    if isinstance(doc, dict):
        return [_passage(str(t), " ".join(s) if isinstance(s, list) else str(s)) for t, s in doc.items()]
    if isinstance(doc, list):
        out = []
        for i, item in enumerate(doc):
            if isinstance(item, str):
                out.append(_passage("", item))
            elif isinstance(item, dict) and isinstance(item.get("text"), (str, list)):
                text = item["text"] if isinstance(item["text"], str) else " ".join(item["text"])
                out.append(_passage(str(item.get("title", "")), text))
            else:
                raise CorpusError(f"{path}: item {i} is neither a string nor an object with 'text'")
        return out
    raise CorpusError(f"{path}: expected a JSON list or dict at the top level")
