"""Writing a file so that a crash or a full disk leaves either the old file or the new one, never a
torn one: write a temp file beside it, fsync, rename over it, fsync the folder."""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from ..errors import GraphmemError


class FileWriteError(GraphmemError, OSError):
    """The system refused a write (a full disk, a quota, no permission); the file is as it was."""


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``write(fh)`` into a temp file beside ``path``, fsync, rename over ``path``, fsync the folder.
    A refused write is a FileWriteError saying the file is unchanged: it is, so it is no bug."""
    try:
        _write_beside(path, write)
    except GraphmemError:
        raise
    except OSError as exc:
        hint = "; free some space and run again" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
        error = FileWriteError(f"cannot write {path}: {exc.strerror or exc}; {path} is unchanged "
                               f"(nothing was replaced){hint}")
        error.errno = exc.errno
        raise error from exc


def _write_beside(path: Path, write: Callable[[BinaryIO], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode(path))  # mkstemp makes 0600; keep what a plain write would give
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _file_mode(path: Path) -> int:
    """The existing file's mode, else 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
