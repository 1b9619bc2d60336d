"""A namespace as JSON lines: what ``export-ns`` writes, ``import-ns`` reads and the MCP ``export``
and ``import`` tools page through.

The first record is the header, ``{"kind": "namespace", "format": "graphmem-namespace", "version":
1, "namespace", "meta", "counts"}``; then one ``{"kind": "triple", ...}`` per fact, retired ones
included (``id``, ``subject``, ``relation``, ``object``, ``valid_from``, ``valid_until``,
``sources``, ``retired_by``), oldest first; then one ``{"kind": "episode", ...}`` per episode (``id``,
``step``, ``text``, ``title``, ``triple_ids``, ``meta``). A record may carry its embedding as
``vector`` (base64 little-endian float32), when asked for; without one, opening the graph embeds it.

Importing writes the records as they are (replace by id: importing twice changes nothing) into a
namespace that is empty, or, with ``merge``, one whose metadata (embedder, profile...) agrees.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

import numpy as np

from ..model import Episode, Triple
from ..util.atomicfile import atomic_write
from .base import GraphStore, StoreError

FORMAT = "graphmem-namespace"
VERSION = 1
HEADER, TRIPLE, EPISODE = "namespace", "triple", "episode"
BATCH = 5000  # triples per store write
# Triples from which an import is a bulk load (``GraphStore.bulk_load``: on FalkorDB the vector
# indexes are dropped and made again over the whole namespace at its end, which a few pages into
# a big memory should not cost).
BULK_FROM = 20_000


def header(store: GraphStore) -> dict:
    return {"kind": HEADER, "format": FORMAT, "version": VERSION, "namespace": store.namespace,
            "meta": store.meta(), "counts": store.counts()}


def records(store: GraphStore, vectors: bool = False) -> Iterator[dict]:
    """The namespace's records in order: the header, its facts, its episodes."""
    yield header(store)
    for t in store.triples(current_only=False):
        yield _with_vector({"kind": TRIPLE, **t.to_dict()}, t.embedding if vectors else None)
    for e in store.episodes():
        yield _with_vector({"kind": EPISODE, **e.to_dict()}, e.embedding if vectors else None)


def page(store: GraphStore, offset: int, limit: int) -> tuple[list[dict], int | None]:
    """Records ``offset`` to ``offset + limit`` (no vectors) and the offset of the next page (None
    after the last). Offsets count records of the namespace as it is at each call."""
    triples, episodes = store.triples(current_only=False), store.episodes()
    end, total = offset + limit, 1 + len(triples) + len(episodes)
    part = [header(store)] if offset == 0 else []  # record 0; then triples from 1, episodes after them
    part += [{"kind": TRIPLE, **t.to_dict()} for t in triples[max(offset - 1, 0):max(end - 1, 0)]]
    first_episode = 1 + len(triples)
    part += [{"kind": EPISODE, **e.to_dict()}
             for e in episodes[max(offset - first_episode, 0):max(end - first_episode, 0)]]
    return part[:limit], end if end < total else None


def write_jsonl(store: GraphStore, path: str | os.PathLike, vectors: bool = False) -> dict:
    """Write the namespace to ``path`` as JSON lines (atomically); its counts."""
    def write(fh: IO[bytes]) -> None:
        for record in records(store, vectors):
            fh.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")

    atomic_write(Path(path), write)
    return store.counts()


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """The records of a JSON-lines file; StoreError names the line that is not one."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise StoreError(f"{path} is not UTF-8 text ({exc.reason})") from None
    out = []
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise StoreError(f"{path}, line {n}: not JSON ({exc.msg})") from None
    return out


def import_records(store: GraphStore, items: Iterable[Any], *, merge: bool = False, where: str = "record") -> dict:
    """Write ``items`` (records as ``records`` gives them) into ``store``. A header starts an export:
    the namespace must then be empty unless ``merge``, and its metadata must agree with the
    header's where both have a key. Records without a header are added to what is there (the
    pages after the first). Everything is checked before anything is written; StoreError names the
    ``where`` (record, line) and number of a bad one. Returns how many of each were written. An
    import of ``BULK_FROM`` triples or more is a bulk load (searches scan until the server's
    indexes are filled again)."""
    meta, triples, episodes = _parsed(items, where)
    if meta is not None:
        _check_target(store, meta, merge)
    with store.bulk_load() if len(triples) >= BULK_FROM else contextlib.nullcontext():
        for i in range(0, len(triples), BATCH):
            store.add_triples(triples[i:i + BATCH])
        store.add_episodes(episodes)
    for key, value in sorted((meta or {}).items()):
        store.set_meta(key, value)
    return {"triples": len(triples), "episodes": len(episodes)}


def _parsed(items: Iterable[Any], where: str) -> tuple[dict | None, list[Triple], list[Episode]]:
    meta, triples, episodes = None, [], []
    for n, item in enumerate(items, 1):
        kind = item.get("kind") if isinstance(item, dict) else None
        try:
            if kind == HEADER:
                if n != 1:
                    raise ValueError("the header comes first, once")
                meta = _header_meta(item)
            elif kind == TRIPLE:
                triples.append(_vectored(Triple.from_dict(item), item))
            elif kind == EPISODE:
                episodes.append(_vectored(Episode.from_dict(item), item))
            else:
                raise ValueError(f"'kind' must be {HEADER!r}, {TRIPLE!r} or {EPISODE!r}, not {kind!r}")
        except ValueError as exc:
            raise StoreError(f"{where} {n}: {exc}") from None
    return meta, triples, episodes


def _header_meta(item: dict) -> dict:
    if item.get("format") != FORMAT:
        raise ValueError(f"not a graphmem namespace export (format {item.get('format')!r}, not {FORMAT!r})")
    version = item.get("version")
    if type(version) is not int or not 1 <= version <= VERSION:
        raise ValueError(f"format version {version!r}: this graphmem reads version {VERSION}")
    meta = item.get("meta", {})
    if not isinstance(meta, dict):
        raise ValueError("'meta' must be an object")
    return meta


def _check_target(store: GraphStore, meta: dict, merge: bool) -> None:
    """An empty namespace takes any export (the metadata of nothing written is the export's);
    one that holds a graph, only to ``merge`` with the same settings."""
    counts = store.counts()
    if not (counts["triples"] or counts["episodes"]):
        return
    if not merge:
        raise StoreError(f"namespace {store.namespace!r} already holds {counts['triples']} triples and "
                         f"{counts['episodes']} episodes: import into an empty namespace, or merge into it")
    held = store.meta()
    differing = sorted(k for k in meta if k in held and held[k] != meta[k])
    if differing:
        raise StoreError(f"namespace {store.namespace!r} was written with other settings ("
                         + ", ".join(f"{k}: {held[k]!r}, the export's {meta[k]!r}" for k in differing)
                         + "): import into another namespace")


def _with_vector(record: dict, vector: np.ndarray | None) -> dict:
    if vector is not None:
        record["vector"] = base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return record


def _vectored(item: Triple | Episode, record: dict) -> Any:
    """``item`` with the embedding its record carries, if any."""
    text = record.get("vector")
    if text is None:
        return item
    try:
        vector = np.frombuffer(base64.b64decode(text, validate=True), dtype="<f4").astype(np.float32)
    except (binascii.Error, TypeError, ValueError):
        raise ValueError("'vector' must be base64 float32 data") from None
    if not len(vector):
        raise ValueError("'vector' is empty")
    item.embedding = vector
    return item
