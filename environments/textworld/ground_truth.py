"""The game's true state as triples in the memory's vocabulary, for scoring memories.

Vocabulary (names lowercase, no leading article, single spaces):
  (x, "in", room)  (x, "in", container)  (x, "on", supporter)  (x, "in", "inventory")
  (c, "is", "open"|"closed"|"locked")    for openable containers and doors; locked wins
  (room, "has exit", direction)          (room_b, "is <direction> of", room_a)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

Triple = tuple[str, str, str]

DIRECTIONS = ("north", "south", "east", "west", "up", "down")
OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east", "up": "down", "down": "up"}
INVENTORY = "inventory"
STATES = ("open", "closed", "locked")
_ARTICLE = re.compile(r"^(?:a|an|the|some)\s+")
# Bookkeeping entities of the cooking games that are not things in the world.
_NOT_THINGS = {"RECIPE", "ingredient", "slot"}


def entity_name(name: str) -> str:
    """Canonical entity name: lowercase, single spaces, no leading article."""
    return _ARTICLE.sub("", " ".join(name.lower().split()))


def placement(fact) -> Triple | None:
    """(thing, "in"|"on", holder) for a location fact, None for any other fact or the player."""
    if fact.name not in ("at", "in", "on") or len(fact.arguments) != 2:
        return None
    thing, holder = fact.arguments
    if thing.type in ("P", "I") or thing.type in _NOT_THINGS or holder.type in _NOT_THINGS:
        return None
    target = INVENTORY if holder.type == "I" else entity_name(holder.name)
    return entity_name(thing.name), "on" if fact.name == "on" else "in", target


def holder_of(facts: Iterable) -> dict[str, str]:
    """Where every thing is: name -> room, container, supporter or "inventory" (player excluded)."""
    return {thing: holder for thing, _, holder in filter(None, map(placement, facts))}


def ground_truth_triples(state) -> list[Triple]:
    """Triples of a state: a StepResult (its ``facts``) or an iterable of textworld Propositions.

    Sorted, so the output never depends on the order the engine lists facts in.
    """
    facts = tuple(getattr(state, "facts", state))
    triples: set[Triple] = set()
    locked = {entity_name(f.arguments[0].name) for f in facts if f.name == "locked"}
    for fact in facts:
        name, args = fact.name, fact.arguments
        located = placement(fact)
        if located is not None:
            triples.add(located)
        elif name in STATES and len(args) == 1:
            thing = entity_name(args[0].name)
            if name == "locked" or thing not in locked:
                triples.add((thing, "is", name))
        elif name.endswith("_of") and name[:-3] in DIRECTIONS and len(args) == 2:
            # north_of(b, a): b lies north of a, so a has an exit north.
            direction = name[:-3]
            room_b, room_a = entity_name(args[0].name), entity_name(args[1].name)
            triples.add((room_b, f"is {direction} of", room_a))
            triples.add((room_a, "has exit", direction))
    return sorted(triples)


@dataclass
class ObservedFilter:
    """Restricts ground truth to what the agent could know: entities named in the observations
    seen so far, and rooms visited so far.

    A spatial triple counts once its rooms have been visited (exits are described on arrival);
    any other triple once its subject and its object (unless a state or the inventory) have been
    named in some observation. Feed it every cleaned observation with ``see(text)`` in order.
    """

    seen_text: list[str] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)
    _names: dict[str, bool] = field(default_factory=dict)

    def see(self, observation: str, facts: Iterable = ()) -> None:
        self.seen_text.append(" ".join(observation.lower().split()))
        for fact in facts:
            if fact.name == "at" and fact.arguments[0].type == "P":
                self.visited.add(entity_name(fact.arguments[1].name))

    def mentioned(self, name: str) -> bool:
        if name not in self._names or not self._names[name]:
            pattern = re.compile(r"(?<![a-z0-9])" + re.escape(name) + r"(?![a-z0-9])")
            self._names[name] = any(pattern.search(text) for text in self.seen_text)
        return self._names[name]

    def restrict(self, triples: Iterable[Triple]) -> list[Triple]:
        kept = []
        for subject, relation, obj in triples:
            if relation == "has exit":
                ok = subject in self.visited
            elif relation.startswith("is ") and relation.endswith(" of"):
                ok = subject in self.visited and obj in self.visited
            else:
                ok = self.mentioned(subject) and (
                    obj in STATES or obj == INVENTORY or obj in self.visited or self.mentioned(obj))
            if ok:
                kept.append((subject, relation, obj))
        return kept
