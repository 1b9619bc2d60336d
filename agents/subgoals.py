"""Sub-goals and command priors any text game shares, computed from the agent's memory.

Keys and locks (a known key for a locked container is used, its contents taken, notes read),
exploration (exits whose destination is unknown), and the low value of commands that only repeat
what the memory already holds (look, inventory). A family module (``agents.families``) may
override any prior; the rest falls back here.
"""
from __future__ import annotations

from .commands import EXAMINE, GO, OPEN, TAKE, UNLOCK, readable
from .world import WorldView

UNLOCK_RELATIONS = ("unlock", "unlocks", "opens", "open")



def locks(view: WorldView) -> list[tuple[str, str]]:
    """(container, key) pairs for containers not open yet: those the memory states, and a carried
    key named like a container ("golden key" for the "golden locker") when nothing is stated."""
    pairs = {o: s for s, r, o in view.facts if r in UNLOCK_RELATIONS}
    keys = [k for k in view.carried() if k.split()[-1] == "key" and len(k.split()) > 1]
    for thing in view.location:
        if thing not in pairs and thing not in keys:
            named_alike = [k for k in keys if k.split()[0] == thing.split()[0]]
            if named_alike:
                pairs[thing] = named_alike[-1]
    return [(c, k) for c, k in sorted(pairs.items()) if not view.is_(c, "open")]


def lock_checklist(view: WorldView) -> list[str]:
    """Containers whose key is known: where the key is, where the container is."""
    items = []
    for thing, key in locks(view):
        if view.carries(key):
            items.append(f"unlock {thing} with {key} ({view.place_of(thing) or 'not seen yet'})")
        else:
            items.append(f"get {key} to unlock {thing} ({view.place_of(key) or 'not seen yet'})")
    return items


def lock_places(view: WorldView) -> list[str]:
    """Rooms with a container whose known key is carried, or with a key that opens something."""
    rooms = []
    for thing, key in locks(view):
        rooms.append(view.place_of(thing) if view.carries(key) else view.place_of(key))
    return list(dict.fromkeys(r for r in rooms if r and r != "inventory"))


def generic_prior(command: str, view: WorldView) -> float:
    cmd = command.lower()
    if (m := UNLOCK.match(cmd)) is not None:
        return 3.0 if (m.group(1), m.group(2)) in locks(view) else 0.5
    if (m := OPEN.match(cmd)) is not None:
        thing = m.group(1)
        if view.is_(thing, "open"):
            return -1.0
        return 2.5 if any(c == thing for c, _ in locks(view)) and not view.is_(thing, "locked") else 1.5
    if (m := TAKE.match(cmd)) is not None:
        return 1.5
    if (m := EXAMINE.match(cmd)) is not None:
        return 2.0 if readable(m.group(1)) else 0.0
    if (m := GO.match(cmd)) is not None and view.room:
        unexplored = view.rooms.unexplored().get(view.room, [])
        return 1.2 if m.group(1) in unexplored else 0.0
    if cmd in ("look", "inventory"):
        return -1.0
    if cmd.startswith(("close ", "drop ", "lock ")):
        return -0.5
    return 0.0
