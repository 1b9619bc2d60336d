"""The goal read against the agent's memory: what it names becomes priors.

A thing the goal or the plan's steps name (whole, or by its head word: "the coin" names "gold
coin") is worth taking,
putting and opening; when the goal names any thing the agent has seen, taking a thing it does not
name has a cost (a treasure hunt is lost by taking the wrong object). Rooms the goal names are
places worth walking to.
"""
from __future__ import annotations

import re
from typing import Sequence

from .candidates import HEAT_SOURCES
from .commands import CONSUME, OPEN, PUT, TAKE, normalize_command
from .instructions import Plan
from .world import WorldView

NAMED_BONUS = 1.5
UNNAMED_TAKE_COST = 1.0

# An order the goal names over quantities: "place the object with the smallest quantity first".
ORDER_WORDS = {"smallest": 1, "lowest": 1, "least": 1, "fewest": 1, "largest": -1, "biggest": -1,
               "highest": -1, "most": -1}
QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]*)\b")
UNITS = {"mg": 1e-3, "g": 1.0, "kg": 1e3, "ml": 1e-3, "cl": 1e-2, "dl": 0.1, "l": 1.0, "mm": 1e-3,
         "cm": 1e-2, "m": 1.0, "km": 1e3}


def quantity(name: str) -> float | None:
    """The amount a thing's name gives, in base units: "19ml of aluminum" 0.019, "72 squashes" 72."""
    m = QUANTITY.match(name)
    if m is None:
        return None
    return float(m.group(1)) * UNITS.get(m.group(2), 1.0)


# Words of a goal that wants something eaten or drunk ("You are hungry! ... enjoy your meal").
EATING_WORDS = ("eat", "drink", "enjoy", "consume", "hungry", "thirsty")
# A thing the goal wants heated ("missing a grilled lettuce") goes to a heat source.
HEATED = ("grilled", "roasted", "fried", "baked", "toasted", "cooked", "boiled", "broiled")


class GoalReader:
    def __init__(self, goal: str) -> None:
        self.goal = f" {normalize_command(goal or '')} "
        self.heated = any(f" {w} " in self.goal for w in HEATED)
        self.text = self.goal
        self.numbers: set[str] = set()
        self._read: tuple[Plan | None, tuple[str, ...]] = (None, ())  # what text and numbers were read from

    def instructed(self, plan: Plan | None, numbers: Sequence[str] = ()) -> None:
        """The plan's steps name things too ("slice the red apple"), and so do the answers to the
        arithmetic the game asked for ("18" names "18 avocados"). Read once per plan: a plan keeps
        its steps (a new instruction is a new plan), so only another plan or new numbers change
        what is named."""
        plan_read, numbers_read = self._read
        if plan is plan_read and tuple(numbers) == numbers_read:
            return
        self._read = (plan, tuple(numbers))
        self.text = self.goal + " ".join(f" {s} " for s in (plan.steps if plan else []))
        self.numbers = set(numbers)

    def names(self, thing: str) -> bool:
        if not thing or not self.text.strip():
            return False
        head = thing.split()[-1]
        if thing.split()[0] in self.numbers:
            return True
        # The plan's steps name things exactly; the goal may name one by its head word alone.
        return f" {thing} " in self.text or (len(head) > 2 and f" {head} " in self.goal)

    def order(self) -> int:
        """1 when the goal asks for the smallest quantity first, -1 the largest, 0 no order."""
        if " quantity " not in self.goal and " quantities " not in self.goal:
            return 0
        return next((d for w, d in ORDER_WORDS.items() if f" {w} " in self.goal), 0)

    def next_in_order(self, view: WorldView) -> str | None:
        """The thing the goal's order wants next: of the things with a quantity not yet in a place
        the goal names, the smallest (or largest)."""
        direction = self.order()
        if not direction:
            return None
        waiting = [(q * direction, t) for t, (_, place) in view.location.items()
                   if (q := quantity(t)) is not None and not self.names(place)]
        return min(waiting)[1] if waiting else None

    @staticmethod
    def moves_next(command: str, next_thing: str | None) -> bool:
        """Whether ``command`` takes or puts the thing the goal's order wants next."""
        if next_thing is None:  # most goals order nothing: no command to read
            return False
        m = TAKE.match(command) or PUT.match(command)
        return m is not None and m.group(1) == next_thing

    def wanted_place(self, place: str) -> bool:
        """Whether the goal wants things put on or in ``place``: it names it, or it wants a thing
        heated and ``place`` is a heat source."""
        return self.names(place) or (self.heated and place.split()[-1] in HEAT_SOURCES)

    def destination(self, thing: str) -> bool:
        """Whether the goal names ``thing`` as where something goes ("put it into the box")."""
        return any(f" {p} {thing} " in self.goal for p in ("in", "into", "on", "onto", "inside"))

    def named_things(self, view: WorldView) -> list[str]:
        rooms = set(view.rooms.exits)
        return [t for t in view.location if t not in rooms and self.names(t)]

    def wanted_rooms(self, view: WorldView) -> list[str]:
        """Rooms worth walking to: those the goal names and, while the agent carries a thing the
        goal names, those holding a place the goal wants things put on or in (the milk to grill
        is carried; the stove is in the kitchen), unless one such place is here."""
        rooms = [r for r in view.rooms.rooms() if self.names(r)]
        if any(self.names(t) and not self.destination(t) for t in view.carried()):
            places = [t for t in view.location if self.destination(t)
                      or (self.heated and t.split()[-1] in HEAT_SOURCES)]
            holding = [r for t in places if (r := view.place_of(t)) and r in view.rooms.exits]
            rooms += [] if view.room in holding else holding
        return list(dict.fromkeys(rooms))

    def prior(self, command: str, view: WorldView, named_seen: bool, next_thing: str | None = None) -> float:
        """The goal's part of ``command``'s prior; ``named_seen``: the goal names a thing seen;
        ``next_thing``: the thing the goal's order wants next (``next_in_order``)."""
        if next_thing is not None and (m := TAKE.match(command) or PUT.match(command)) is not None:
            if self.moves_next(command, next_thing):
                return 2 * NAMED_BONUS
            if quantity(m.group(1)) is not None:
                return -2 * UNNAMED_TAKE_COST  # out of the goal's order
        if (m := TAKE.match(command)) is not None:
            if self.destination(m.group(1)):
                return 0.0  # where things go ("place it in the box"), not a thing to carry
            if self.names(m.group(1)):
                return NAMED_BONUS
            return -UNNAMED_TAKE_COST if named_seen else 0.0
        if (m := PUT.match(command)) is not None:
            if named_seen and not self.names(m.group(1)):
                return -UNNAMED_TAKE_COST
            if self.names(m.group(1)) and not self.wanted_place(m.group(2)):
                return -UNNAMED_TAKE_COST / 2  # putting away what the goal wants undoes taking it
            return NAMED_BONUS / 2 * (self.names(m.group(1)) + self.wanted_place(m.group(2)))
        if (m := OPEN.match(command)) is not None:
            return NAMED_BONUS / 3 if self.names(m.group(1)) else 0.0
        if (m := CONSUME.match(command)) is not None and self.names(m.group(2)):
            if f" {m.group(2)} " in self.goal and any(f" {w} " in self.goal for w in EATING_WORDS):
                return NAMED_BONUS  # "You are hungry! ... enjoy your meal!"
            return -2 * UNNAMED_TAKE_COST  # wanted, not eaten ("only missing a grilled milk", a recipe's apple)
        return 0.0
