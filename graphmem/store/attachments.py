"""Blobs an embedded store keeps beside its graph in the archive (e.g. a saved ANN index).

A blob stays in the opened file, memory-mapped when asked for, until it is replaced; a new one is
kept as the function that writes it, so it is made once, on save, straight into the file.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

from .archive import ArchiveReader, buffer_writer
from .base import StoreError

Write = Callable[[BinaryIO], None]


class Attachments:
    """Named blobs with their fingerprints; holds the archive reader that the stored ones are read
    through (until ``close``)."""

    def __init__(self) -> None:
        self._reader: ArchiveReader | None = None
        self._entries: dict[str, tuple[str, Write | None]] = {}  # None: still in the file

    def open(self, reader: ArchiveReader, fingerprints: dict[str, str]) -> None:
        """Serve the blobs stored in the archive ``reader`` reads."""
        self._reader = reader
        self._entries = {name: (fp, None) for name, fp in fingerprints.items()}

    def get(self, name: str) -> tuple[str, np.ndarray] | None:
        """(fingerprint, bytes) of the blob ``name``, if there is one."""
        entry = self._entries.get(name)
        if entry is None:
            return None
        fingerprint, write = entry
        if write is None:
            return fingerprint, self._stored(name)
        buf = io.BytesIO()
        write(buf)
        return fingerprint, np.frombuffer(buf.getbuffer(), dtype=np.uint8)

    def put(self, name: str, fingerprint: str, write: Write) -> None:
        self._entries[name] = (fingerprint, write)

    def writers(self) -> dict[str, tuple[str, Write]]:
        """name -> (fingerprint, write) for every blob: what a save writes into the new file."""
        out = {}
        for name, (fingerprint, write) in self._entries.items():
            out[name] = (fingerprint, write or buffer_writer(self._stored(name)))
        return out

    def _stored(self, name: str) -> np.ndarray:
        """The blob ``name`` as the opened file holds it."""
        if self._reader is None:  # closed: the blobs still in the file are out of reach
            raise StoreError(f"attachment {name!r}: the store's file is closed")
        return self._reader.blob(f"attachments/{name}")

    def reopen(self, path: Path) -> None:
        """After saving over our own archive: every blob is read from the new file from now on."""
        self.close()
        self._reader = ArchiveReader(path)
        self._entries = {name: (fp, None) for name, (fp, _) in self._entries.items()}

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
