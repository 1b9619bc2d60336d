"""What the agent knows about the world right now, read from its graph memory's current triples.

Where things are (``X in/on Y`` chains ending in a room or the inventory), their states (``X is
open``), rooms and exits (``agents.navigation.RoomMap``) and any other fact. Only the memory is read:
nothing here looks at the game's own state.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from graphmem.profiles import INVENTORY, PREPARED_STATES, is_location

from .navigation import RoomMap

# Words the extractor reads as states, not names, when they lead a name ("diced pork chop").
COOKED_WORDS = PREPARED_STATES


def bare_name(name: str) -> str:
    """``name`` without leading preparation words: "diced roasted pork chop" -> "pork chop"."""
    words = name.split()
    while len(words) > 1 and words[0] in COOKED_WORDS:
        words.pop(0)
    return " ".join(words)


@dataclass
class WorldView:
    room: str | None
    location: dict[str, tuple[str, str]] = field(default_factory=dict)  # thing -> (relation, place)
    states: dict[str, set[str]] = field(default_factory=dict)
    facts: list[tuple[str, str, str]] = field(default_factory=list)
    rooms: RoomMap = field(default_factory=RoomMap)

    @classmethod
    def read(cls, triples: Iterable, room: str | None) -> "WorldView":
        triples = list(triples)
        view = cls(room, rooms=RoomMap.from_triples(triples))
        for t in triples:
            s, r, o = t.subject, t.relation, t.object
            view.facts.append((s, r, o))
            if is_location(r):
                view.location[bare_name(s)] = (r, o)
                if s != bare_name(s):  # "diced pork chop in inventory": the pork chop is diced
                    view.states.setdefault(bare_name(s), set()).update(
                        w for w in s.split()[:-1] if w in COOKED_WORDS)
            elif r == "is":
                view.states.setdefault(bare_name(s), set()).add(o)
        return view

    def place_of(self, thing: str, hops: int = 5) -> str | None:
        """The room (or the inventory) that holds ``thing``, following containers; None if unknown."""
        seen = set()
        while thing in self.location and thing not in seen and hops > 0:
            seen.add(thing)
            thing = self.location[thing][1]
            hops -= 1
            if thing in (INVENTORY, self.room) or thing in self.rooms.exits:
                return thing
        return None

    def carried(self) -> list[str]:
        return sorted(t for t, (_, place) in self.location.items() if place == INVENTORY)

    def carries(self, thing: str) -> bool:
        return self.location.get(thing, ("", ""))[1] == INVENTORY

    def is_(self, thing: str, state: str) -> bool:
        return state in self.states.get(thing, set())

    def inside(self, place: str) -> list[str]:
        return sorted(t for t, (_, p) in self.location.items() if p == place)

    def describe_room(self) -> str:
        """"fridge (open): pork chop, carrot; counter: knife; oven (closed)" for the current room."""
        if not self.room:
            return "unknown"
        parts = []
        for thing in self.inside(self.room):
            states = sorted(s for s in self.states.get(thing, ()) if s in {"open", "closed", "locked"})
            label = f"{thing} ({', '.join(states)})" if states else thing
            held = self.inside(thing)
            parts.append(f"{label}: {', '.join(held)}" if held else label)
        return "; ".join(parts) or "nothing seen"
