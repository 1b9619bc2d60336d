"""The goal read against the agent's memory: what it names becomes priors.

A thing the goal or the plan's steps name (whole, or by its head word: "the coin" names "gold
coin") is worth taking,
putting and opening; when the goal names any thing the agent has seen, taking a thing it does not
name has a cost (a treasure hunt is lost by taking the wrong object). Rooms the goal names are
places worth walking to.
"""
from __future__ import annotations

from .commands import OPEN, PUT, TAKE, normalize_command
from .world import WorldView

NAMED_BONUS = 1.5
UNNAMED_TAKE_COST = 1.0


class GoalReader:
    def __init__(self, goal: str) -> None:
        self.goal = f" {normalize_command(goal or '')} "
        self.text = self.goal

    def instructed(self, steps: list[str]) -> None:
        """The plan's steps name things too ("slice the red apple")."""
        self.text = self.goal + " ".join(f" {s} " for s in steps)

    def names(self, thing: str) -> bool:
        if not thing or not self.text.strip():
            return False
        head = thing.split()[-1]
        # The plan's steps name things exactly; the goal may name one by its head word alone.
        return f" {thing} " in self.text or (len(head) > 2 and f" {head} " in self.goal)

    def named_things(self, view: WorldView) -> list[str]:
        rooms = set(view.rooms.exits)
        return [t for t in view.location if t not in rooms and self.names(t)]

    def named_rooms(self, view: WorldView) -> list[str]:
        return [r for r in view.rooms.rooms() if self.names(r)]

    def prior(self, command: str, view: WorldView, named_seen: bool) -> float:
        """The goal's part of ``command``'s prior; ``named_seen``: the goal names a thing seen."""
        if (m := TAKE.match(command)) is not None:
            if self.names(m.group(1)):
                return NAMED_BONUS
            return -UNNAMED_TAKE_COST if named_seen else 0.0
        if (m := PUT.match(command)) is not None:
            return NAMED_BONUS / 2 * (self.names(m.group(1)) + self.names(m.group(2)))
        if (m := OPEN.match(command)) is not None:
            return NAMED_BONUS / 3 if self.names(m.group(1)) else 0.0
        return 0.0
