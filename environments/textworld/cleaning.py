"""Score for cleaning games (no quests): put out-of-place items where they belong.

Scored from the game state's facts, not from command text: the parser accepts many phrasings
("put fins on equipment rack") and silently refuses others, so only the state says what moved.

  +1 the first time an out-of-place item is carried,
  +1 the first time it lies in/on the holder it belongs to,
  -1 each time an item that started in its place leaves that place.
  max = 2 x (items out of place at the start).

Rules naming an item or holder the game does not have are skipped (and logged): the shared
task file lists rules for items of several houses.
"""
from __future__ import annotations

import logging
from typing import Iterable, Sequence

from .ground_truth import INVENTORY, entity_name, holder_of

log = logging.getLogger(__name__)


class CleaningScorer:
    def __init__(self, rules: Sequence, initial_facts: Iterable):
        """``rules``: PlaceRule-like objects (``.item``, ``.holder``) or (item, holder) pairs."""
        start = holder_of(initial_facts)
        names = set(start) | set(start.values())
        self.home: dict[str, str] = {}
        self.skipped: list[tuple[str, str]] = []
        for rule in rules:
            item, holder = (rule.item, rule.holder) if hasattr(rule, "item") else rule
            item, holder = entity_name(item), entity_name(holder)
            if item in start and holder in names:
                self.home[item] = holder
            else:
                self.skipped.append((item, holder))
        if self.skipped:
            log.info("cleaning rules skipped (item or holder not in this game): %s", self.skipped)
        self.out_of_place = sorted(item for item, home in self.home.items() if start[item] != home)
        self.in_place = sorted(item for item, home in self.home.items() if start[item] == home)
        self.max_score = 2 * len(self.out_of_place)
        self._taken: set[str] = set()
        self._placed: set[str] = set()
        self._penalties = 0
        self._where = start

    @property
    def score(self) -> int:
        return len(self._taken) + len(self._placed) - self._penalties

    def update(self, facts: Iterable) -> int:
        """Account for the new state; returns the running score."""
        now = holder_of(facts)
        for item in self.out_of_place:
            if now.get(item) == INVENTORY:
                self._taken.add(item)
            if now.get(item) == self.home[item]:
                self._placed.add(item)
        for item in self.in_place:
            if self._where.get(item) == self.home[item] and now.get(item) != self.home[item]:
                self._penalties += 1
        self._where = now
        return self.score
