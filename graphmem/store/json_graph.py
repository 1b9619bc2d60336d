"""The JSON graph file: one document with the metadata, every triple and episode, and their vectors
as base64 float32 matrices. It is parsed whole on open, which suits small graphs (the files users
read and diff); large ones go in the binary archive (``archive``)."""
from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..util.jsonfile import parse_json
from ..model import Episode, Triple, with_vectors
from .base import StoreError

FORMAT = "graphmem-graph"
VERSION = 1


@dataclass
class JsonGraph:
    meta: dict
    triples: list[Triple]
    episodes: list[Episode]


def to_document(meta: dict, triples: list[Triple], episodes: list[Episode]) -> dict:
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "meta": meta,
           "triples": [t.to_dict() for t in triples],
           "episodes": [e.to_dict() for e in episodes], "vectors": {}}
    for kind, items in (("triples", triples), ("episodes", episodes)):
        ids, vectors = with_vectors(items)
        if ids:
            doc["vectors"][kind] = {"dim": int(vectors[0].shape[0]), "ids": ids, "data": _encode_matrix(vectors)}
    return doc


def write_document(fh: BinaryIO, doc: dict) -> None:
    text = io.TextIOWrapper(fh, encoding="utf-8")
    json.dump(doc, text, ensure_ascii=False, separators=(",", ":"))
    text.flush()
    text.detach()


def read_json_graph(path: Path) -> JsonGraph:
    """The graph in the JSON graph file at ``path``; StoreError says what is wrong with it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read graph file {path}: {exc.strerror}") from None
    doc = parse_json(data, StoreError, f"graph file {path}")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StoreError(f"{path} is not a graphmem graph file (expected format {FORMAT!r})")
    version = doc.get("version")
    if type(version) is not int or version < 1:
        raise StoreError(f"{path}: unknown graph format version {version!r} (this graphmem reads "
                         f"version {VERSION})")
    if version > VERSION:
        raise StoreError(f"{path} was written by a newer graphmem (format version {version}; this "
                         f"one reads version {VERSION}): upgrade graphmem")
    try:
        return from_document(doc)
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(f"{path} is not a valid graphmem graph file: {exc}") from None


def from_document(doc: dict) -> JsonGraph:
    """Read a graph document; ValueError, TypeError or KeyError name what is malformed."""
    triples = [Triple.from_dict(d) for d in _list(doc, "triples")]
    episodes = [Episode.from_dict(d) for d in _list(doc, "episodes")]
    vectors = doc.get("vectors") or {}
    meta = doc.get("meta") or {}
    if not isinstance(vectors, dict) or not isinstance(meta, dict):
        raise ValueError("'vectors' and 'meta' must be objects")
    for kind, items in (("triples", triples), ("episodes", episodes)):
        if vectors.get(kind):
            _attach_vectors(kind, vectors[kind], items)
    return JsonGraph(dict(meta), triples, episodes)


def _list(doc: dict, key: str) -> list:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key!r} must be a list")
    return value


def _encode_matrix(vectors: list[np.ndarray]) -> str:
    return base64.b64encode(np.stack(vectors).astype("<f4").tobytes()).decode("ascii")


def _decode_matrix(data: str, dim: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(data, validate=True), dtype="<f4").reshape(-1, dim).astype(np.float32)


def _attach_vectors(kind: str, block, items: list) -> None:
    """Set the embedding of each item from a vectors block, which must be whole and consistent."""
    if not isinstance(block, dict) or type(block.get("dim")) is not int or block["dim"] < 1 \
            or not isinstance(block.get("ids"), list) or not isinstance(block.get("data"), str):
        raise ValueError(f"vectors.{kind} needs a positive integer 'dim', a list 'ids' and base64 'data'")
    try:
        matrix = _decode_matrix(block["data"], block["dim"])
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"vectors.{kind}: bad vector data ({exc})") from None
    if len(matrix) != len(block["ids"]):
        raise ValueError(f"vectors.{kind}: {len(block['ids'])} ids but {len(matrix)} vectors")
    by_id = {x.id: x for x in items}
    for key, vec in zip(block["ids"], matrix):
        if isinstance(key, str) and key in by_id:
            by_id[key].embedding = vec
