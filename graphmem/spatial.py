"""Spatial triples that come from code, not text: a move plus the room heading that follows it.

After "go west" takes the player from Room A to Room B, the map gains ("room b", "is west of",
"room a") and ("room a", "is east of", "room b"). An extractor cannot know this from the text alone
(the new observation does not name the room left behind), so agents add these triples directly.
"""
from __future__ import annotations

import re

from .normalize import canonical_entity
from .profiles import OPPOSITE, connection

HEADING = re.compile(r"^\s*-=\s*(.+?)\s*=-\s*$", re.M)
# Games without headings say where the player is in a sentence: "You are in the kitchen."
PLACE_SENTENCE = re.compile(r"^\s*you\s+are\s+(?:now\s+)?in\s+(?:the|a|an)\s+([\w' -]{1,40}?)\s*\.", re.I | re.M)
ABBREVIATIONS = {"n": "north", "s": "south", "e": "east", "w": "west", "u": "up", "d": "down",
                 "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest"}
_MOVE = re.compile(r"^\s*(?:(?:go|walk|run|move|head|climb)\s+(?:to\s+(?:the\s+)?)?)?([a-z]+)\s*$")


def room_of(observation: str) -> str | None:
    """The room named by the observation's heading (``-= Room B =-``), else by a sentence opening a
    line ("You are in the kitchen."), canonical; None if none.

    With several headings (a long observation), the last one is where the player is now.
    """
    rooms = HEADING.findall(observation or "") or PLACE_SENTENCE.findall(observation or "")
    return canonical_entity(rooms[-1]) or None if rooms else None


def with_room(observation: str, room: str | None) -> str:
    """``observation`` headed by the room the player is in, when it has no heading of its own.

    Responses to actions ("You drop the knife on the ground.") do not say where the player is; the
    agent knows, and an extractor needs it to place what is dropped or seen.
    """
    if not room or HEADING.search(observation or ""):
        return observation
    return f"-= {room} =-\n{observation}"


def direction_of(command: str) -> str | None:
    """The compass direction a movement command goes ("go west", "west", "w", "climb up"), or None."""
    m = _MOVE.match((command or "").lower())
    if m is None:
        return None
    word = ABBREVIATIONS.get(m.group(1), m.group(1))
    return word if word in OPPOSITE else None


def move_triples(previous_room: str | None, command: str, observation: str) -> list[tuple[str, str, str]]:
    """The two connection triples a successful move establishes; [] when the room did not change."""
    direction = direction_of(command)
    new_room = room_of(observation)
    old_room = canonical_entity(previous_room) if previous_room else None
    if direction is None or not new_room or not old_room or new_room == old_room:
        return []
    return [(new_room, connection(direction), old_room),
            (old_room, connection(OPPOSITE[direction]), new_room)]
