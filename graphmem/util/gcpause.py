"""Pausing Python's cyclic garbage collector while many long-lived objects are made."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while millions of objects are made that all stay alive: each
    collection would walk them all again (it doubled the time to open a 100k-triple archive)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
