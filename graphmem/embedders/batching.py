"""How encoding work is cut and scheduled on CPU cores: texts in batches of similar length, batches
side by side on worker threads, and a core left to a parser that runs beside the encoder."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

# Characters per encoding batch: a batch holds as many texts as fit when each counts as long as
# its longest one (padding), so short triple texts go hundreds at a time and long passages a few
# dozen. On this 2-core machine passages encode at 12.9/s in fixed batches of 256 (padding to the
# longest of 256) against 33.6/s in batches of 32; see scripts/bench_build.py.
CHAR_BUDGET = 16_384
# A query or a few names: one thread is faster than two (no hand-off), and far faster on a busy
# machine, where torch's spinning worker threads wait for a core (0.04 s vs 0.6-0.9 s measured).
SMALL_INPUT = 8


def length_batches(texts: Sequence[str], char_budget: int, max_batch: int,
                   max_chars: int | None = None) -> list[list[int]]:
    """Indices of ``texts`` grouped longest first, each group's size x its longest text (capped at
    ``max_chars``, where the model truncates) within ``char_budget``, at most ``max_batch``."""
    order = sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        size = max(1, len(texts[i]) if max_chars is None else min(len(texts[i]), max_chars))
        longest = max(longest, size) if current else size
        if current and (len(current) + 1) * longest > char_budget or len(current) == max_batch:
            batches.append(current)
            current, longest = [], size
        current.append(i)
    if current:
        batches.append(current)
    return batches


def in_length_batches(texts: Sequence[str], encode_batch: Callable[[list[int]], None], *, char_budget: int,
                      max_batch: int, max_chars: int | None, workers: int) -> None:
    """Call ``encode_batch(batch)`` on each length batch of ``texts`` (see ``length_batches``); each
    call writes its own rows.

    With ``workers`` > 1 the batches run side by side, one per worker thread, each on one torch
    thread (the forward pass releases the GIL): torch's own threads split every operation and spin
    at each step waiting for the slowest, which costs much when another process takes a core away;
    a worker that waits for a core holds up only its batch."""
    workers = workers if len(texts) > SMALL_INPUT else 1
    batches = length_batches(texts, char_budget, max_batch, max_chars)
    if len(batches) < workers:
        # Too few batches to go round (a few dozen short texts fit one): one per worker.
        batches = length_batches(texts, char_budget, -(-len(texts) // workers), max_chars)
    workers = min(workers, len(batches))
    if workers <= 1:
        for batch in batches:
            with torch_threads(encoding_threads(len(texts))):
                encode_batch(batch)
        return
    with torch_threads(1), ThreadPoolExecutor(workers, thread_name_prefix="encode") as pool:
        for _ in pool.map(encode_batch, batches):
            pass


_reserved_cores = 0
_reserved_lock = threading.Lock()


@contextmanager
def reserved_core() -> Iterator[None]:
    """Held by work that runs beside encoding and needs a core of its own (a thread that parses
    the next passages): while it runs, each encoding batch that runs on torch's threads leaves it
    that core, since those threads spin at every step waiting for the slowest of them; once it is
    done, encoding takes every core again. Checked per length batch, so the encoder never idles a
    core for long. (Batches run side by side on one thread each need no core left to them: the
    parser only delays the batch whose core it shares.)"""
    global _reserved_cores
    with _reserved_lock:
        _reserved_cores += 1
    try:
        yield
    finally:
        with _reserved_lock:
            _reserved_cores -= 1


def encoding_threads(n_texts: int) -> int | None:
    """Torch threads for an encoding batch of a call with ``n_texts`` texts (None: all)."""
    if n_texts <= SMALL_INPUT:
        return 1
    if _reserved_cores:
        return max(1, (os.cpu_count() or 1) - _reserved_cores)
    return None


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
