"""Zeroed float32 matrices with room to grow in place, for vector indexes that grow row by row.

A big index grows into address space reserved up front instead of being copied into a bigger
matrix each time it fills: an anonymous mapping takes memory only as its pages are first written,
so reserving room costs nothing until rows arrive. Never copying matters twice over. Fresh memory
is slow to take on some virtual machines (2-3 s per GB, measured on the 2-core benchmark machine),
and the copies of a doubling matrix take as much again as the final one. And views of its rows
stay valid, so the index's rows can be the triples' own vectors instead of a second copy.
"""
from __future__ import annotations

import mmap
import os

import numpy as np

SMALL_BYTES = 64 << 20  # below this a matrix is allocated as it is asked for (copies are cheap)


def zeros_with_room(rows: int, dim: int) -> np.ndarray:
    """A zeroed (capacity, dim) float32 matrix, capacity >= ``rows``. Past SMALL_BYTES, the capacity
    is half of physical memory's worth of rows (reserved, not taken), or ``rows`` when more."""
    row_bytes = dim * 4
    if rows * row_bytes >= SMALL_BYTES:
        space = _reserve(max(rows, _physical_bytes() // 2 // row_bytes) * row_bytes)
        if space is not None:
            return np.frombuffer(space, dtype=np.float32).reshape(-1, dim)
    return np.zeros((rows, dim), dtype=np.float32)


def _physical_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): reserve nothing extra
        return 0


def _reserve(nbytes: int) -> mmap.mmap | None:
    """An anonymous private mapping of ``nbytes`` (zero-filled as pages are touched), in huge pages
    where the kernel offers them on request; None where the system refuses the reservation (strict
    overcommit): the caller then allocates plainly."""
    if not hasattr(mmap, "MAP_PRIVATE"):  # Windows: anonymous mappings are committed whole
        return None
    try:
        # Private: shared anonymous memory is a file in the kernel's eyes, never in huge pages.
        space = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE)
    except (OSError, ValueError, OverflowError):
        return None
    if hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            space.madvise(mmap.MADV_HUGEPAGE)
        except OSError:
            pass
    return space
