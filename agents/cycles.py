"""Undo and cycle detection: penalties for commands that lead the agent back where it was.

Three signals, all read from what the agent did and remembered:
- **undo**: a command that cancels the last one when that one changed something (drop after take,
  close after open, take after put/drop, lock after unlock);
- **revisits**: the state is the current room plus the facts the memory holds now; a command that,
  played from this state before, led to a state already seen is worth less each time it did so;
- **degenerate loops**: a command that would make the last actions an A, B, A, B alternation or
  the same command a fourth time in a row is all but ruled out.
Moves are left to the revisit signal (walking back out of a dead end is no undo).
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from graphmem.profiles import EXIT, connection_direction

from .commands import PUT, TAKE, verb_of

UNDO_PENALTY = 2.0
REVISIT_PENALTY = 0.75   # per earlier return to a seen state through this command, up to three
LOOP_PENALTY = 20.0  # beyond any difference the model makes between two commands
MAX_REPEATS = 3

_UNDOING = {"drop": ("take",), "close": ("open",), "open": ("close",), "lock": ("unlock",),
            "unlock": ("lock",), "take": ("drop", "put", "insert")}


def _object(command: str) -> str:
    if (m := TAKE.match(command)) is not None:
        return m.group(1)
    if (m := PUT.match(command)) is not None:
        return m.group(1)
    return command.split(" ", 1)[1] if " " in command else ""


def undoes(command: str, last: str) -> bool:
    """Whether ``command`` cancels ``last`` ("drop key" after "take key")."""
    verb = verb_of(command)
    thing = _object(command)
    return bool(thing) and verb_of(last) in _UNDOING.get(verb, ()) and _object(last) == thing


def state_key(room: str | None, triples: Iterable) -> tuple:
    """The room and the facts that are not the map (exits and connections change nothing here)."""
    facts = sorted((t.subject, t.relation, t.object) for t in triples
                   if t.relation != EXIT and connection_direction(t.relation) is None)
    return (room, tuple(facts))


class CycleGuard:
    def __init__(self) -> None:
        self.actions: list[str] = []
        self.visits: Counter = Counter()
        self.returns: Counter = Counter()   # (state, command) -> times it led to a seen state
        self._before: tuple | None = None

    def clear(self) -> None:
        self.actions.clear()
        self.visits.clear()
        self.returns.clear()
        self._before = None

    def arrive(self, state: tuple) -> None:
        """The state after the last action (call once per step, before ranking)."""
        if self._before is not None and self.actions and self.visits[state] > 0:
            self.returns[(self._before, self.actions[-1])] += 1
        self.visits[state] += 1
        self._before = state

    def played(self, command: str) -> None:
        self.actions.append(command)

    def loops(self, command: str) -> bool:
        """Whether ``command`` would close an A, B, A, B alternation or a fourth repeat in a row."""
        a = self.actions
        if len(a) >= MAX_REPEATS and all(x == command for x in a[-MAX_REPEATS:]):
            return True
        return len(a) >= 3 and command == a[-2] and a[-1] == a[-3] and command != a[-1]

    def penalty(self, command: str, last_changed: bool) -> float:
        p = 0.0
        if self.actions and last_changed and undoes(command, self.actions[-1]):
            p += UNDO_PENALTY
        if self._before is not None:
            p += REVISIT_PENALTY * min(self.returns[(self._before, command)], 3)
        if self.loops(command):
            p += LOOP_PENALTY
        return p
