"""Values that may still be computing: a parse that runs while its passages are encoded."""
from __future__ import annotations

from concurrent.futures import Future
from typing import Callable, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def resolved(value: T | Future) -> T:
    """``value``, or a Future's result (waiting for it)."""
    return value.result() if isinstance(value, Future) else value


def pending(value) -> bool:
    return isinstance(value, Future) and not value.done()


def then(future: Future, fn: Callable[[T], U]) -> Future:
    """A Future of ``fn(future's result)``, computed by whichever thread finishes ``future``."""
    out: Future = Future()

    def chain(done: Future) -> None:
        try:
            out.set_result(fn(done.result()))
        except BaseException as exc:  # the waiter re-raises it
            out.set_exception(exc)

    future.add_done_callback(chain)
    return out
