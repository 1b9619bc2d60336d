"""Graph files on disk: which of the two formats a file gets, and the atomic write every save goes
through.

A file named ``*.json`` is written as one JSON document (``json_graph``); any other name as the
binary archive (``archive``), whose vectors are memory-mapped on open. Either is read whatever the
name, told apart by its first bytes. Saving is atomic: write a temp file in the same folder, fsync,
rename, fsync the folder, so a crash leaves either the old file or the new one, never a torn one.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from ..util.atomicfile import atomic_write
from ..model import Episode, Triple
from .archive import (ArchiveContents, ArchiveDamaged, ArchiveError, ArchiveReader, is_archive, read_archive,
                      write_archive)
from .base import StoreError
from .json_graph import to_document, write_document


def is_json_path(path: str | os.PathLike) -> bool:
    """Graph files named ``*.json`` are written as JSON; any other name as a binary archive."""
    return Path(path).suffix.lower() == ".json"


def holds_archive(path: Path) -> bool:
    """Whether the graph file at ``path`` is an archive (else it is read as JSON)."""
    try:
        with open(path, "rb") as fh:
            return is_archive(fh.read(4))
    except OSError as exc:
        raise StoreError(f"cannot read graph file {path}: {exc.strerror}") from None


def open_archive(path: Path) -> tuple[ArchiveContents, ArchiveReader]:
    """The graph in the archive at ``path`` and its open reader; StoreError when it is damaged."""
    try:
        return read_archive(path)
    except ArchiveDamaged:
        raise  # a StoreError already, naming the file, the entry and what to do
    except ArchiveError as exc:
        raise StoreError(f"{path} is not a valid graphmem graph archive: {exc}") from None


def save_graph(path: Path, meta: dict, triples: list[Triple], episodes: list[Episode],
               attachments: dict) -> None:
    """Write the graph to ``path`` in the format its name asks for, atomically. ``attachments``:
    the blobs an archive keeps (``write_archive``'s argument); JSON files keep none."""
    if is_json_path(path):
        def write(fh: BinaryIO) -> None:
            write_document(fh, to_document(meta, triples, episodes))
    else:
        def write(fh: BinaryIO) -> None:
            try:
                write_archive(fh, meta, triples, episodes, attachments)
            except ValueError as exc:
                raise StoreError(f"cannot save {path}: {exc}") from None
    atomic_write(path, write)
