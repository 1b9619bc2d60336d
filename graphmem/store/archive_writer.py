"""Writing the binary graph file (``archive``): entries in a fixed order with a fixed timestamp,
each STORED and 64-byte aligned, vectors streamed without a copy of their matrix."""
from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Callable

import numpy as np

from ..model import Episode, Triple
from .archive_format import ALIGN, COLUMNS, DATE, FORMAT, PAD_FIELD, RETIRED_BY, VERSION


class _Strings:
    def __init__(self):
        self.table: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, s: str) -> int:
        i = self._index.get(s)
        if i is None:
            i = self._index[s] = len(self.table)
            self.table.append(s)
        return i


def write_archive(fh: BinaryIO, meta: dict, triples: list[Triple], episodes: list[Episode],
                  attachments: dict[str, tuple[str, Callable[[BinaryIO], None]]] | None = None) -> None:
    """Write the graph to the seekable binary file ``fh``.

    ``attachments``: name -> (fingerprint, function writing the blob to a file object).
    """
    attachments = attachments or {}
    strings = _Strings()
    t_vecs = _vector_rows(triples, "triple")
    e_vecs = _vector_rows(episodes, "episode")
    cols = np.zeros((len(triples), len(COLUMNS)), dtype=np.int64)
    sources: list[int] = []
    source_ends = np.zeros(len(triples), dtype=np.int64)
    retired_by = np.full(len(triples), -1, dtype=np.int64)
    for i, t in enumerate(triples):
        until = t.valid_until
        cols[i] = (strings(t.id), strings(t.subject), strings(t.relation), strings(t.object),
                   t.valid_from, 0 if until is None else until, until is not None, t_vecs.row[i])
        sources += [strings(s) for s in t.sources]
        source_ends[i] = len(sources)
        if t.retired_by is not None:
            retired_by[i] = strings(t.retired_by)
    ep_rows, ep_triples = [], []
    ep_ends = np.zeros(len(episodes), dtype=np.int64)
    for i, e in enumerate(episodes):
        row: list = [e.id, e.step, e.title, e.text, int(e_vecs.row[i])]
        if e.meta:  # a 6th element only then: files of episodes without meta stay as they were
            row.append(dict(e.meta))
        ep_rows.append(row)
        ep_triples += [strings(x) for x in e.triple_ids]
        ep_ends[i] = len(ep_triples)
    head = {"format": FORMAT, "version": VERSION, "triples": len(triples), "episodes": len(episodes),
            "meta": meta, "dims": {"triples": t_vecs.dim, "episodes": e_vecs.dim},
            "attachments": {name: fp for name, (fp, _) in sorted(attachments.items())}}
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        _put_json(zf, "graphmem.json", head)
        _put_json(zf, "strings.json", strings.table)
        _put_array(zf, "triples.npy", cols)
        _put_array(zf, "triple_sources.npy", np.asarray(sources, dtype=np.int64))
        _put_array(zf, "triple_source_ends.npy", source_ends)
        if np.any(retired_by >= 0):  # only then: graphs without it are written as before
            _put_array(zf, RETIRED_BY, retired_by)
        _put_json(zf, "episodes.json", ep_rows)
        _put_array(zf, "episode_triples.npy", np.asarray(ep_triples, dtype=np.int64))
        _put_array(zf, "episode_triple_ends.npy", ep_ends)
        t_vecs.write(zf, "triple_vectors.npy")
        e_vecs.write(zf, "episode_vectors.npy")
        for name, (_, write) in sorted(attachments.items()):
            with _open_aligned(zf, f"attachments/{name}") as out:
                write(out)


@dataclass
class _Vectors:
    """Which items carry a vector (``row``: each item's row in the matrix, or -1) and how to
    write that matrix without holding a copy of it (a million rows are 1.5 GB)."""

    items: list
    kind: str
    with_vec: list[int]
    row: np.ndarray
    dim: int

    def write(self, zf: zipfile.ZipFile, name: str, chunk: int = 65536) -> None:
        with _open_aligned(zf, name) as out:
            np.lib.format.write_array_header_1_0(
                out, {"descr": "<f4", "fortran_order": False, "shape": (len(self.with_vec), self.dim)})
            for start in range(0, len(self.with_vec), chunk):
                part = [self.items[i] for i in self.with_vec[start:start + chunk]]
                for x in part:
                    if x.embedding.shape != (self.dim,):
                        raise ValueError(f"{self.kind} {x.id} has a vector of shape {x.embedding.shape}, "
                                         f"the others ({self.dim},): one graph holds vectors of one embedder")
                block = np.stack([x.embedding for x in part]).astype("<f4")
                bad = np.flatnonzero(~np.isfinite(block).all(axis=1))
                if len(bad):  # readers refuse such a file: refuse to write it
                    raise ValueError(f"{self.kind} {part[bad[0]].id} has a vector holding NaN or "
                                     f"infinite values")
                out.write(block.tobytes())


def _vector_rows(items: list, kind: str) -> _Vectors:
    row = np.full(len(items), -1, dtype=np.int64)
    with_vec = [i for i, x in enumerate(items) if x.embedding is not None]
    row[with_vec] = np.arange(len(with_vec))
    dim = int(items[with_vec[0]].embedding.shape[0]) if with_vec else 0
    return _Vectors(items, kind, with_vec, row, dim)


def _put_json(zf: zipfile.ZipFile, name: str, obj) -> None:
    with _open_aligned(zf, name) as out:
        out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _put_array(zf: zipfile.ZipFile, name: str, arr: np.ndarray) -> None:
    with _open_aligned(zf, name) as out:
        # numpy pads the .npy header to a multiple of 64 bytes, so the data stays aligned too.
        np.lib.format.write_array(out, np.ascontiguousarray(arr), allow_pickle=False)


def _open_aligned(zf: zipfile.ZipFile, name: str):
    """An entry whose data starts on a 64-byte boundary of the file (padding in its extra field)."""
    info = zipfile.ZipInfo(name, date_time=DATE)
    info.compress_type = zipfile.ZIP_STORED
    # Local header: 30 bytes, the name, our padding field, then zipfile's 20-byte zip64 field.
    assert zf.fp is not None  # an open archive being written
    start = zf.fp.tell() + 30 + len(name.encode("utf-8")) + 4 + 20
    pad = -start % ALIGN
    info.extra = struct.pack("<HH", PAD_FIELD, pad) + b"\0" * pad
    return zf.open(info, "w", force_zip64=True)



def buffer_writer(data: bytes | np.ndarray) -> Callable[[BinaryIO], None]:
    """A blob writer for ``write_archive``'s attachments from bytes in memory."""
    # numpy's stubs lack the buffer protocol that every ndarray has.
    view = memoryview(np.ascontiguousarray(data)).cast("B") if isinstance(data, np.ndarray) else data  # type: ignore[arg-type]

    def write(out: BinaryIO) -> None:
        for i in range(0, len(view), 1 << 24):
            out.write(view[i:i + (1 << 24)])

    return write
