"""Bounds on one Cypher query: a time limit, a row limit and a memory guard.

A query is user text, and one cartesian product (``MATCH (a) MATCH (b) MATCH (c)``) over a thousand
entities asks for a billion rows: without bounds it holds a CPU, gigabytes and, in a server, every
caller waiting behind it. grand-cypher cannot be asked to stop, so the embedded store's query runs in
a worker thread while the calling thread watches the clock and the process's resident memory; when
a bound is passed, an exception is raised inside the worker (``PyThreadState_SetAsyncExc``: it
lands at the next bytecode, and grand-cypher and networkx are pure Python) and the caller gets a
``CypherError`` that says which bound and what to change. A server query cannot be stopped from
here: the server is given the time limit as the transaction's timeout, and the caller stops waiting
at the limit even where the server ignores it (ArcadeDB does).
"""
from __future__ import annotations

import ctypes
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from ..errors import ConfigError
from .base import CypherError

T = TypeVar("T")

MB = 1 << 20
POLL_S = 0.02  # how often the clock and memory are read: ~10 MB of growth at the worst rate measured
STOP_GRACE_S = 5.0  # how long a stopped query may take to unwind (and free its memory)


@dataclass(frozen=True)
class CypherLimits:
    """``timeout``: seconds a query may run; ``max_rows``: rows it may answer (more is an error
    that says to add LIMIT, never a silent truncation); ``max_memory``: megabytes the process's
    resident memory may grow by while an embedded-store query runs (a server bounds its own).
    None or 0 leaves that bound off."""

    timeout: float | None = 30.0
    max_rows: int | None = 10_000
    max_memory: int | None = 1024

    def __post_init__(self) -> None:
        for name in ("timeout", "max_rows", "max_memory"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not value >= 0):
                raise ConfigError(f"Cypher limit {name} must be a number >= 0 (0 or None: no limit), "
                                  f"not {value!r}")

    def check_rows(self, count: int) -> None:
        """CypherError when ``count`` rows are more than the query may answer."""
        if self.max_rows and count > self.max_rows:
            raise CypherError(f"the query answers more than {self.max_rows} rows (its limit); add LIMIT "
                              f"to the query or raise --max-rows")

    def timed_out(self) -> CypherError:
        return CypherError(f"the query ran past its {self.timeout:g} s limit; narrow it (WHERE, LIMIT) "
                           f"or raise --timeout")


DEFAULT_LIMITS = CypherLimits()


class QueryStopped(SystemExit):
    """Raised inside a query's worker thread to stop it. A SystemExit, so that ``except Exception``
    in the query's code does not swallow it, and so that, landing just after the query ended, it
    ends the thread silently (threading reports every other uncaught exception)."""


def run_bounded(work: Callable[[], T], limits: CypherLimits, *, stoppable: bool = True) -> T:
    """``work()``, within ``limits``' time and (when ``stoppable``) memory; CypherError past them.

    ``stoppable``: ``work`` runs Python code that an exception raised in its thread stops (the
    embedded store). Otherwise (a wait on a server) the caller only stops waiting at the time
    limit, and the worker is left to end with the server's answer; memory is not watched then,
    since the server holds the query's state and the rows are bounded by ``max_rows``.
    """
    max_memory = limits.max_memory if stoppable else None
    if not limits.timeout and not max_memory:
        return work()
    outcome: list[tuple[bool, object]] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread as it is
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="graphmem-cypher", daemon=True)
    deadline = time.monotonic() + limits.timeout if limits.timeout else None
    ceiling = _resident_bytes() + max_memory * MB if max_memory else None
    worker.start()
    while not outcome:
        worker.join(POLL_S)
        if outcome:
            break
        if deadline is not None and time.monotonic() > deadline:
            error = limits.timed_out()
        elif ceiling is not None and _resident_bytes() > ceiling:
            error = CypherError(f"the query took more than {max_memory} MB of memory (its limit); narrow "
                                f"it (WHERE, LIMIT) or raise --max-memory")
        else:
            continue
        if stoppable:
            _stop(worker, outcome)
        raise error
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[return-value]
    raise value  # type: ignore[misc]


def _stop(worker: threading.Thread, outcome: list) -> None:
    """Raise QueryStopped in ``worker`` until its work has ended (code that catches every exception
    may swallow one), then let the thread unwind, so the query's memory is freed before the caller
    goes on; after STOP_GRACE_S (a worker inside one long C call) it is left to end by itself, with
    the exception still pending."""
    give_up = time.monotonic() + STOP_GRACE_S
    assert worker.ident is not None  # started by the caller
    while not outcome and worker.is_alive() and time.monotonic() < give_up:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident),
                                                   ctypes.py_object(QueryStopped))
        worker.join(0.1)
    worker.join(max(0.0, give_up - time.monotonic()))


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_bytes() -> int:
    """The process's resident memory now (Linux /proc); elsewhere its peak so far, which still
    trips the guard when a query grows the process past the ceiling."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere
