"""The binary graph file: a ZIP archive of uncompressed entries that opens fast at any size.

Layout (every entry STORED, so each one is a plain byte range of the file):
- ``graphmem.json``: format, version, counts, the metadata, the vector dimensions and the names and
  fingerprints of attachments.
- ``strings.json``: one table of every string the graph uses (ids, names, relations, sources).
- ``triples.npy``: int64 columns (id, subject, relation, object, valid_from, valid_until,
  has_until, vector row) with strings as indices into the table; ``triple_sources.npy`` and
  ``triple_source_ends.npy`` hold each triple's sources (a CSR layout); ``triple_retired_by.npy``,
  only in graphs where a source retired something, the source each triple was retired by (-1: none).
- ``episodes.json`` (id, step, title, text, vector row, and a dict of string metadata only when
  the episode has some) and ``episode_triples.npy``/``episode_triple_ends.npy``.
- ``triple_vectors.npy`` / ``episode_vectors.npy``: float32 rows, 64-byte aligned in the file, read
  by ``np.memmap`` on open, so vectors are never parsed and only the pages a search touches are read.
- ``attachments/NAME``: opaque blobs (a serialized ANN index), memory-mapped on demand.

Entries are written in a fixed order with a fixed timestamp, so equal graphs give equal files. Read
back, the triples stay columns (``triple_table.TripleTable``).

Every entry is checked against the CRC-32 the ZIP directory holds before its bytes are believed:
entries read whole (the tables) as they are read, on open; entries read in place (vectors,
attachments) once, on first use (``ArchiveReader.verify``), so opening stays a matter of mapping
pages, and before anything copies them into another file, so a save never gives damaged bytes fresh
CRCs. Vector matrices must also be finite: no writer stores NaN, and one NaN row would silently rank
nothing.
"""
from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import partial
from typing import BinaryIO, Callable

import numpy as np

from ..errors import GraphmemError
from ..model import Episode, is_string_map
from .archive_format import COLUMNS, FORMAT, RETIRED_BY, VERSION, ZIP_MAGIC
from .archive_writer import buffer_writer, write_archive
from .base import StoreError
from .triple_table import TripleTable

_MAX_JSON = 1 << 31  # a table entry past 2 GiB is corrupt (strings alone never get there)
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
_VERIFY_CHUNK = 1 << 24  # bytes read at a time to verify an entry: memory stays flat at any size
_REPAIR = "restore the file from a copy, or rebuild the graph with graphmem build"


class ArchiveError(GraphmemError, ValueError):
    """The file is not a well-formed graph archive (the message says what is wrong)."""


class ArchiveDamaged(ArchiveError, StoreError):
    """An entry's bytes are not the ones written (its CRC-32 differs), or hold vectors no writer
    stores (NaN, infinity). The message names the file and the entry and says how to recover; a
    StoreError too, as every other failure to read a graph file."""


@dataclass
class ArchiveContents:
    meta: dict
    table: TripleTable             # the triples, ordered as written: by (valid_from, id)
    episodes: list[Episode]        # ordered as written: by (step, id)
    attachments: dict[str, str] = field(default_factory=dict)  # name -> fingerprint
    episode_vectors: InPlaceArray | None = None  # the matrix the episodes' vectors are rows of


class InPlaceArray:
    """An entry's array memory-mapped on open, handed out (by calling this) only once its entry
    passed ``ArchiveReader.verify``: checked on first use, not on open, and never again."""

    __slots__ = ("_array", "_verify")

    def __init__(self, array: np.ndarray, verify: Callable[[], None]):
        self._array = array
        self._verify: Callable[[], None] | None = verify

    def __call__(self) -> np.ndarray:
        if self._verify is not None:
            self._verify()  # ArchiveDamaged if the entry is damaged: then asked again next time
            self._verify = None
        return self._array


def is_archive(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC)


# --- reading -----------------------------------------------------------------------------------
class ArchiveReader:
    """Random access to the entries of a graph archive; arrays can be memory-mapped.

    Reads go through the file descriptor opened here, so a save that replaces the file meanwhile
    (atomic rename) never mixes the new file's bytes into this one's entries."""

    def __init__(self, path):
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ArchiveError(f"not a readable graph archive ({exc})") from None
        self._infos = {i.filename: i for i in self._zip.infolist()}
        for info in self._infos.values():
            if info.compress_type != zipfile.ZIP_STORED:
                raise ArchiveError(f"entry {info.filename} is compressed: graph archives store "
                                   f"entries uncompressed (was the file re-zipped?)")
        self._verified: set[str] = set()
        self._float_data: dict[str, tuple[int, np.dtype]] = {}  # mapped float matrices: data offset, type

    def close(self) -> None:
        self._zip.close()

    def __contains__(self, name: str) -> bool:
        return name in self._infos

    def json(self, name: str):
        info = self._info(name)
        if info.file_size > _MAX_JSON:
            raise ArchiveError(f"entry {name} is implausibly large ({info.file_size} bytes)")
        data = self._checked_bytes(name)
        try:
            return json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArchiveError(f"entry {name} is not valid JSON ({exc})") from None

    def array(self, name: str, mmap: bool = False) -> np.ndarray:
        """The .npy entry ``name``; ``mmap``: a read-only view of the file instead of a copy, whose
        bytes are verified on first use (``verify``), not here."""
        start, size = self.span(name)
        if not mmap:
            data = self._checked_bytes(name)
            shape, dtype, head = self._npy_header(name, io.BytesIO(data), size)
            arr = np.frombuffer(data, dtype=dtype, offset=head, count=int(np.prod(shape))).reshape(shape)
            arr.flags.writeable = False  # as the mapped ones: the archive's tables are never edited in place
            return arr
        with open(self._fd(), "rb", closefd=False) as fh:
            fh.seek(start)
            shape, dtype, head = self._npy_header(name, fh, size)
        if dtype.kind == "f":
            self._float_data[name] = (start + head, dtype)
        if head == size:
            return np.zeros(shape, dtype=dtype)
        # A plain ndarray over the map: slicing a np.memmap costs more per row.
        return np.memmap(self._zip.fp, dtype=dtype, mode="r", offset=start + head, shape=shape).view(np.ndarray)

    def blob(self, name: str) -> np.ndarray:
        """The raw bytes of entry ``name`` as a read-only uint8 memory map (verified first)."""
        self.verify(name)
        start, size = self.span(name)
        return np.memmap(self._zip.fp, dtype=np.uint8, mode="r", offset=start, shape=(size,)).view(np.ndarray) \
            if size else np.zeros(0, dtype=np.uint8)

    def verify(self, name: str) -> None:
        """Check entry ``name`` once: its bytes against the directory's CRC-32 and, for a float
        matrix, its values finite. Read in chunks through the file (not the map), so a 1.5 GB
        matrix neither sits in memory nor in this process's resident pages. ArchiveDamaged if not."""
        if name in self._verified:
            return
        start, size = self.span(name)
        end = start + size
        data_at, dtype = self._float_data.get(name, (end, None))
        crc, finite = 0, True
        buf = memoryview(bytearray(min(size, _VERIFY_CHUNK)))
        # Chunks never straddle the start of a matrix's data, so each chunk of it is whole values.
        cuts = sorted({start, data_at, end, *range(start, data_at, _VERIFY_CHUNK),
                       *range(data_at, end, _VERIFY_CHUNK)})
        for a, b in zip(cuts, cuts[1:]):
            part = self._pread(a, buf[:b - a])
            crc = zlib.crc32(part, crc)
            if a >= data_at and finite:
                finite = bool(np.isfinite(np.frombuffer(part, dtype=dtype)).all())
        if crc != self._infos[name].CRC:
            raise self._damaged(name, "its CRC-32 does not match its bytes")
        if not finite:
            raise self._damaged(name, "it holds NaN or infinite vectors, which no writer stores")
        self._verified.add(name)

    def span(self, name: str) -> tuple[int, int]:
        """(offset of the data in the file, its size) of a STORED entry."""
        info = self._info(name)
        local = bytes(self._pread(info.header_offset, memoryview(bytearray(30)), exact=False))
        if len(local) != 30 or not local.startswith(ZIP_MAGIC):
            raise self._damaged(name, "it has no valid local header")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        return info.header_offset + 30 + name_len + extra_len, info.file_size

    def _checked_bytes(self, name: str) -> bytearray:
        """The bytes of an entry read whole, checked against its CRC-32."""
        start, size = self.span(name)
        data = bytearray(size)
        self._pread(start, memoryview(data))
        if zlib.crc32(data) != self._infos[name].CRC:
            raise self._damaged(name, "its CRC-32 does not match its bytes")
        self._verified.add(name)
        return data

    def _npy_header(self, name: str, fh: BinaryIO, size: int) -> tuple[tuple, np.dtype, int]:
        """(shape, dtype, header length) of the .npy entry ``name``, ``fh`` at its start."""
        at = fh.tell()
        try:
            version = np.lib.format.read_magic(fh)
            header = _NPY_HEADERS.get(version)
            if header is None:
                raise ValueError(f"unknown .npy version {version}")
            shape, fortran, dtype = header(fh)
        except ValueError as exc:
            self.verify(name)  # a damaged entry is reported as damaged
            raise ArchiveError(f"entry {name} is not a numpy array ({exc})") from None
        head = fh.tell() - at
        if fortran or dtype.hasobject or head + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != size:
            self.verify(name)
            raise ArchiveError(f"entry {name} has a malformed array header")
        return shape, dtype, head

    def _pread(self, offset: int, buf: memoryview, exact: bool = True) -> memoryview:
        """Fill ``buf`` from ``offset`` of the file; the part read (all of it when ``exact``)."""
        done = 0
        while done < len(buf):
            n = os.preadv(self._fd(), [buf[done:]], offset + done)
            if n == 0:
                if exact:
                    raise ArchiveError(f"{self.path} ends inside its entries (was it cut short?)")
                break
            done += n
        return buf[:done]

    def _fd(self) -> int:
        return self._zip.fp.fileno()

    def _damaged(self, name: str, why: str) -> ArchiveDamaged:
        return ArchiveDamaged(f"{self.path}: entry {name} is damaged ({why}): {_REPAIR}")

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self._infos.get(name)
        if info is None:
            raise ArchiveError(f"entry {name} is missing")
        return info


def read_archive(path) -> tuple[ArchiveContents, ArchiveReader]:
    """The graph in the archive at ``path`` (vectors memory-mapped) and the open reader."""
    reader = ArchiveReader(path)
    try:
        return _read(reader), reader
    except BaseException:
        reader.close()
        raise


def _read(reader: ArchiveReader) -> ArchiveContents:
    head = reader.json("graphmem.json")
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ArchiveError(f"not a graphmem graph archive (expected format {FORMAT!r})")
    version = head.get("version")
    if type(version) is not int or version < 1:
        raise ArchiveError(f"unknown graph archive version {version!r}")
    if version > VERSION:
        raise ArchiveError(f"written by a newer graphmem (archive version {version}; this one reads "
                           f"version {VERSION}): upgrade graphmem")
    meta = head.get("meta")
    strings = reader.json("strings.json")
    if not isinstance(meta, dict) or not isinstance(strings, list) \
            or not set(map(type, strings)) <= {str}:
        raise ArchiveError("'meta' must be an object and the string table a list of strings")
    cols = reader.array("triples.npy")
    if cols.ndim != 2 or cols.shape[1] != len(COLUMNS) or cols.dtype != np.int64:
        raise ArchiveError(f"triples.npy must be an int64 table of {len(COLUMNS)} columns")
    t_vecs = reader.array("triple_vectors.npy", mmap=True)
    e_vecs = reader.array("episode_vectors.npy", mmap=True)
    for arr, what in ((t_vecs, "triple"), (e_vecs, "episode")):
        if arr.ndim != 2 or arr.dtype != np.dtype("<f4"):
            raise ArchiveError(f"{what}_vectors.npy must be a float32 matrix")
    n_str = len(strings)
    idx = cols[:, :4]
    if idx.size and (idx.min() < 0 or idx.max() >= n_str):
        raise ArchiveError("triples.npy refers to strings the table lacks")
    vec_row = cols[:, 7]
    if len(vec_row) and (vec_row.min() < -1 or vec_row.max() >= len(t_vecs)):
        raise ArchiveError("triples.npy refers to vector rows the matrix lacks")
    sources, source_ends = _csr_arrays(reader, "triple_sources.npy", "triple_source_ends.npy", len(cols), n_str)
    if len(vec_row) and not np.array_equal(vec_row[vec_row >= 0], np.arange(len(t_vecs))) \
            or int((vec_row >= 0).sum()) != len(t_vecs):
        raise ArchiveError("triple vector rows must follow the triple order, one row per vector")
    t_in_place = InPlaceArray(t_vecs, partial(reader.verify, "triple_vectors.npy")) if len(t_vecs) else None
    table = TripleTable(strings, cols, sources, source_ends, t_in_place, _retired_by(reader, len(cols), n_str))
    rows = reader.json("episodes.json")
    if not isinstance(rows, list):
        raise ArchiveError("episodes.json must be a list")
    members = _csr(reader, "episode_triples.npy", "episode_triple_ends.npy", len(rows), n_str)
    episodes = []
    for i, row in enumerate(rows):
        if not (isinstance(row, list) and len(row) in (5, 6) and isinstance(row[0], str)
                and type(row[1]) is int and isinstance(row[2], str) and isinstance(row[3], str)
                and type(row[4]) is int and -1 <= row[4] < len(e_vecs)
                and (len(row) == 5 or is_string_map(row[5]))):
            raise ArchiveError(f"episode record {i} is malformed")
        ep = Episode(row[0], row[1], row[3], [strings[x] for x in members[i]], title=row[2],
                     meta=row[5] if len(row) == 6 else {})
        if row[4] >= 0:
            ep.embedding = e_vecs[row[4]]
        episodes.append(ep)
    attachments = head.get("attachments") or {}
    if not isinstance(attachments, dict) or not all(isinstance(v, str) for v in attachments.values()):
        raise ArchiveError("'attachments' must map names to fingerprints")
    return ArchiveContents(meta, table, episodes,
                           {k: v for k, v in attachments.items() if f"attachments/{k}" in reader},
                           InPlaceArray(e_vecs, partial(reader.verify, "episode_vectors.npy")))


def _retired_by(reader: ArchiveReader, n: int, n_str: int) -> np.ndarray | None:
    """The optional column of the sources that retired each triple (-1: none); None when absent."""
    if RETIRED_BY not in reader:
        return None
    column = reader.array(RETIRED_BY)
    if column.shape != (n,) or column.dtype != np.int64 or (n and (column.min() < -1 or column.max() >= n_str)):
        raise ArchiveError(f"{RETIRED_BY} must hold one string index (or -1) per triple")
    return column


def _csr(reader: ArchiveReader, values_name: str, ends_name: str, n: int, n_str: int) -> list[list[int]]:
    values, ends = _csr_arrays(reader, values_name, ends_name, n, n_str)
    flat, bounds = values.tolist(), [0] + ends.tolist()
    return [flat[bounds[i]:bounds[i + 1]] for i in range(n)]


def _csr_arrays(reader: ArchiveReader, values_name: str, ends_name: str, n: int,
                n_str: int) -> tuple[np.ndarray, np.ndarray]:
    """A checked CSR pair: the values of item i are values[ends[i - 1]:ends[i]]."""
    values, ends = reader.array(values_name), reader.array(ends_name)
    if values.ndim != 1 or ends.shape != (n,) or (n and (np.any(np.diff(ends) < 0) or ends[0] < 0
                                                      or ends[-1] != len(values))):
        raise ArchiveError(f"{values_name} and {ends_name} do not agree")
    if len(values) and (values.min() < 0 or values.max() >= n_str):
        raise ArchiveError(f"{values_name} refers to strings the table lacks")
    return values, ends


__all__ = ["ArchiveContents", "ArchiveDamaged", "ArchiveError", "ArchiveReader", "FORMAT", "InPlaceArray",
           "TripleTable", "VERSION", "buffer_writer", "is_archive", "read_archive", "write_archive"]
