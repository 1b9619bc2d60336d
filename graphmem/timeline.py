"""Times on a memory's steps. Facts carry steps (``valid_from``, ``valid_until``); an episode may
carry the time it was told (its meta "time": a turn's session date, observe's ``reference_time``).
A time then stands for a step: the last step told at or before it, that is, the state of the memory
once everything told by then was remembered.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from .dialogue import parse_time
from .model import Episode

TIME = "time"  # episode meta: when it was told


def moment(text: str | None) -> datetime | None:
    """A time as written in an episode's meta or by a caller (ISO 8601, or a conversation's "1:56
    pm on 8 May, 2023"), comparable with any other: one with a zone is taken in UTC, one without is
    read as UTC already. None for anything else."""
    when = parse_time(text) if text else None
    if when is not None and when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when


def step_at(when: datetime, episodes: Iterable[Episode]) -> int | None:
    """The last step of an episode told at or before ``when`` (-1 when all were told later);
    None when no episode carries a time."""
    timed = [(told, e.step) for e in episodes if (told := moment(e.meta.get(TIME))) is not None]
    if not timed:
        return None
    return max((step for told, step in timed if told <= when), default=-1)
