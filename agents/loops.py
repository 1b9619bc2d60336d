"""Degenerate loops in an episode's actions: the patterns of an agent that is stuck, not exploring."""
from __future__ import annotations

from typing import Sequence

MIN_TWO_CYCLE = 4    # A, B, A, B: two full back-and-forths
MAX_REPEATS = 3      # an action may be played three times in a row (e.g. "wait"), not four


def loop_counts(actions: Sequence[str]) -> dict[str, int]:
    """Count the degenerate loops in ``actions``: ``{"two_cycles": n, "long_repeats": m}``.

    Actions are compared case-blind with runs of spaces collapsed (the game reads "Go  North" as
    "go north").

    - A *two-cycle* is a maximal stretch ``a[i..j]`` with ``a[i] != a[i+1]`` and ``a[k] == a[k-2]``
      for every ``k`` in ``i+2..j`` (A, B, A, B, ... with A != B), at least 4 actions long. Each
      maximal stretch counts once however long it is: ``ABABAB`` is one. Two stretches can share
      one action and then both count: ``ABABCBCB`` is ``ABAB`` then ``BCBCB``, two.
    - A *long repeat* is a maximal run of one action played more than 3 times in a row; each run
      counts once: ``AAAAAA`` is one, ``AAA`` none.

    Empty input has no loops.
    """
    acts = [" ".join(a.lower().split()) for a in actions]
    return {"two_cycles": _two_cycles(acts), "long_repeats": _long_repeats(acts)}


def _two_cycles(acts: list[str]) -> int:
    count, i = 0, 0
    while i + 1 < len(acts):
        if acts[i] == acts[i + 1]:
            i += 1
            continue
        end = i + 1
        while end + 1 < len(acts) and acts[end + 1] == acts[end - 1]:
            end += 1
        if end - i + 1 >= MIN_TWO_CYCLE:
            count += 1
            i = end  # the next stretch may start on this one's last action, never earlier
        else:
            i += 1   # a stretch starting inside a short one can still be long (A, B, C, B, C)
    return count


def _long_repeats(acts: list[str]) -> int:
    count, run = 0, 0
    for k, act in enumerate(acts):
        run = run + 1 if k and act == acts[k - 1] else 1
        if run == MAX_REPEATS + 1:  # counted once, when the run gets too long
            count += 1
    return count
