"""Commands built from memory, for games that give no list of valid commands.

The agent's graph holds the things it has seen (where they are, what they hold, their states), the
exits of its room and what the game refused. From these and a general verb vocabulary come:
take (things seen here, not the furniture that holds others), open/close by state, unlock with a
carried key, examine and read, put a carried thing in or on a holder here, eat what is carried,
cook it on a heat source here and cut it with a carried knife, a move along every known exit (in the movement verb the game has not refused), and the
look/inventory commands. The instructed steps of the agent's plan are added by the agent. The
list is long on purpose: priors and the chooser's shortlist cut it before any LLM call.
"""
from __future__ import annotations

from .commands import MOVE_VERBS, readable
from .world import WorldView

DOOR_WORDS = ("door", "gate", "hatch", "portal", "gateway")
LOOK_COMMANDS = ("look", "look around", "inventory")
HEAT_SOURCES = ("stove", "oven", "toaster", "grill", "barbecue", "bbq", "microwave", "fire", "fireplace")
CUTTERS = ("knife", "cleaver", "blade", "scissors", "axe")
CUTS = ("slice", "chop", "dice")


def move_verb(unknown_verbs: set[str]) -> str:
    """The first movement verb the game has not refused ("go", else "move")."""
    return next((v for v in MOVE_VERBS if v not in unknown_verbs), MOVE_VERBS[0])


def holders(view: WorldView, room: str) -> list[str]:
    """Things in ``room`` that hold other things, are empty or can be opened: where carried things go."""
    here = view.inside(room)
    held_by = {place for _, place in view.location.values()}
    return [t for t in here if t in held_by or view.states.get(t, set()) & {"open", "closed", "locked", "empty"}]


def visible(view: WorldView, room: str) -> list[str]:
    """Things in ``room`` and inside or on what is there (closed containers hide their contents)."""
    out, frontier = [], view.inside(room)
    while frontier:
        thing = frontier.pop(0)
        if thing in out or thing == room:
            continue
        out.append(thing)
        if not view.is_(thing, "closed") and not view.is_(thing, "locked"):
            frontier.extend(view.inside(thing))
    return out


def from_memory(view: WorldView, unknown_verbs: set[str]) -> list[str]:
    """Candidate commands for the current room, from what the memory holds; sorted, no duplicates."""
    room = view.room
    carried = view.carried()
    commands: list[str] = [c for c in LOOK_COMMANDS if c.split()[0] not in unknown_verbs]
    if room is None:
        return commands
    seen = visible(view, room)
    furniture = set(holders(view, room))
    keys = [k for k in carried if "key" in k.split()]
    for thing in seen:
        commands.append(f"examine {thing}")
        if readable(thing):
            commands.append(f"read {thing}")
        if view.is_(thing, "locked"):
            commands += [f"unlock {thing} with {k}" for k in keys]
        elif view.is_(thing, "closed"):
            commands.append(f"open {thing}")
        elif view.is_(thing, "open") and any(w in thing.split() for w in DOOR_WORDS):
            pass  # an open door stays open: closing it only blocks the way
        elif view.is_(thing, "open"):
            commands.append(f"close {thing}")
        if thing not in furniture:
            commands.append(f"take {thing}")
    heat = [t for t in seen if t.split()[-1] in HEAT_SOURCES]
    cutting = any(t.split()[-1] in CUTTERS for t in carried)
    for thing in carried:
        commands += [f"drop {thing}", f"eat {thing}", f"examine {thing}"]
        commands += [f"cook {thing} in {h}" for h in heat]
        if cutting and thing.split()[-1] not in CUTTERS:
            commands += [f"{cut} {thing}" for cut in CUTS]
        if readable(thing):
            commands.append(f"read {thing}")
        for place in furniture:
            surface = any(rel == "on" for rel, where in view.location.values() if where == place)
            commands.append(f"put {thing} {'on' if surface else 'in'} {place}")
    verb = move_verb(unknown_verbs)
    commands += [f"{verb} {d}" for d in view.rooms.exits.get(room, {})]
    return sorted({c for c in commands if c.split()[0] not in unknown_verbs})
