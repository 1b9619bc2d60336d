"""An advisory lock per file that one writer holds while it works (a graph file, a run log).

Two processes writing one file would each save over the other's work, so the second one fails at
once with a message naming the holder. The lock is ``flock`` on a ``.NAME.lock`` file beside the
file (the OS drops it when the process dies, so a killed writer never leaves a stale lock); the
holder deletes that file when it is done, and a taker checks that the file it locked is still the
one at that name (it may have been deleted in between). Within
one process the lock is shared and counted: the same file opened twice in a program is the
program's own business, not a concurrent writer.

``acquire(wait=SECONDS)`` waits that long for another process's lock to go (a short write by a
server sharing the file), polling, before it fails the same way.
"""
from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from ..errors import GraphmemError

_held: dict[str, list[int]] = {}  # lock file -> [descriptor, holders in this process]
_guard = threading.Lock()
POLL_S = (0.005, 0.1)  # the first and the longest pause between tries while waiting for a lock


class LockedError(GraphmemError):
    """Another process is writing the file."""


def lock_path(path: str | os.PathLike) -> Path:
    path = Path(path).absolute()
    return path.with_name(f".{path.name}.lock")


class FileLock:
    """Exclusive lock on ``path`` for this process; ``acquire`` raises LockedError when another holds it."""

    def __init__(self, path: str | os.PathLike, what: str = "file"):
        # Through a symlink the lock is the file's own: another writer using its real name must see it.
        self.path, self.what = Path(path).resolve(), what
        self._key: str | None = None

    def acquire(self, wait: float = 0) -> "FileLock":
        """Take the lock; ``wait``: seconds to wait for another process to let it go before
        LockedError (0: fail at once)."""
        if self._key is not None:
            return self
        key = str(lock_path(self.path))
        deadline, pause = time.monotonic() + wait, POLL_S[0]
        while True:
            with _guard:
                entry = _held.get(key)
                if entry is not None:
                    entry[1] += 1
                    break
                fd = self._take(key, last_try=time.monotonic() >= deadline, waited=wait)
                if fd is not None:
                    _held[key] = [fd, 1]
                    break
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))  # outside the guard
            pause = min(pause * 2, POLL_S[1])
        self._key = key
        return self

    def _take(self, key: str, last_try: bool = True, waited: float = 0) -> int | None:
        """The locked descriptor of ``key``; None while another process holds it and ``last_try``
        is False; LockedError once it is True."""
        Path(key).parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                if not last_try:
                    return None
                waiting = f" (waited {waited:g} s)" if waited else ""
                raise LockedError(
                    f"{self.what} {self.path} is being written by another graphmem process (pid "
                    f"{holder}){waiting}: wait for it to finish, or write to another file") from None
            try:
                same = os.stat(key).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
                return fd
            os.close(fd)  # the holder deleted it as we locked it: lock the new one

    def release(self) -> None:
        if self._key is None:
            return
        with _guard:
            entry = _held[self._key]
            entry[1] -= 1
            if entry[1] == 0:
                Path(self._key).unlink(missing_ok=True)  # while still locked (see the module notes)
                os.close(entry[0])  # closing the descriptor drops the flock
                del _held[self._key]
        self._key = None

    def __enter__(self) -> "FileLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
