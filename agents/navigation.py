"""The agent's map, read from memory triples: paths between known rooms and exits not yet taken.

Connections are the triples (X, "is DIR of", Y): going DIR from Y leads to X. Exits are (room,
"has exit", DIR). Any direction counts (up/down and the diagonals too); doors are handled by the
agent that walks a path (it opens them on the way), since a closed door still is a connection.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable

from graphmem.profiles import DIRECTIONS, EXIT, OPPOSITE, connection_direction


@dataclass
class RoomMap:
    """``exits[room][direction]`` = the room it leads to, or None while unknown."""

    exits: dict[str, dict[str, str | None]] = field(default_factory=dict)

    @classmethod
    def from_triples(cls, triples: Iterable) -> "RoomMap":
        """From (subject, relation, object) tuples or Triple objects (current ones only)."""
        room_map = cls()
        known: list[tuple[str, str, str]] = []
        for t in triples:
            s, r, o = (t.subject, t.relation, t.object) if hasattr(t, "subject") else tuple(t)
            if r == EXIT and o in OPPOSITE:
                room_map.exits.setdefault(s, {}).setdefault(o, None)
            elif (direction := connection_direction(r)) is not None:
                known.append((o, direction, s))
        for origin, direction, target in known:  # after exits, so a known destination wins
            room_map.exits.setdefault(origin, {})[direction] = target
            room_map.exits.setdefault(target, {})
        return room_map

    def rooms(self) -> list[str]:
        return sorted(self.exits)

    def neighbours(self, room: str) -> list[tuple[str, str]]:
        """(direction, room) pairs leaving ``room``, in DIRECTIONS order."""
        out = self.exits.get(room, {})
        return [(d, to) for d in DIRECTIONS if (to := out.get(d))]

    def path(self, start: str, goal: str) -> list[tuple[str, str]] | None:
        """Shortest list of (direction, room reached) from ``start`` to ``goal``; [] if already there,
        None when no known path leads there (breadth-first, so the fewest moves)."""
        if start == goal:
            return []
        previous: dict[str, tuple[str, str]] = {start: ("", "")}
        queue = deque([start])
        while queue:
            room = queue.popleft()
            for direction, nxt in self.neighbours(room):
                if nxt in previous:
                    continue
                previous[nxt] = (room, direction)
                if nxt == goal:
                    steps = []
                    while nxt != start:
                        before, how = previous[nxt]
                        steps.append((how, nxt))
                        nxt = before
                    return steps[::-1]
                queue.append(nxt)
        return None

    def nearest_unexplored(self, start: str) -> list[tuple[str, str | None]] | None:
        """Moves to the nearest exit whose destination is unknown, that exit included (its room
        unknown: None); None when every known exit is explored or none is reachable."""
        open_ends = self.unexplored()
        best: list[tuple[str, str | None]] | None = None
        for room, dirs in open_ends.items():
            path = self.path(start, room)
            if path is not None and (best is None or len(path) < len(best)):
                best = [*path, (dirs[0], None)]
        return best

    def reachable(self, start: str) -> list[str]:
        """Known rooms with a path from ``start`` (start excluded), sorted."""
        return [r for r in self.rooms() if r != start and self.path(start, r) is not None]

    def unexplored(self) -> dict[str, list[str]]:
        """Per room, the exits whose destination is still unknown (rooms without any are left out)."""
        out = {}
        for room in self.rooms():
            open_ends = [d for d in DIRECTIONS if d in self.exits[room] and self.exits[room][d] is None]
            if open_ends:
                out[room] = open_ends
        return out
