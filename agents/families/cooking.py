"""The cooking family (TextWorld's tw-cooking games): read the recipe, gather, prepare, eat.

Knowledge of the family, never of one game: a recipe's verbs map to commands (slice/dice/chop with
a knife; fry on the stove, roast in the oven, grill on the BBQ, as the games' hint says); eating or
drinking an ingredient, cooking or cutting what the recipe does not ask for, and dropping an
ingredient lose the game or waste it. The recipe itself comes from the memory's facts, which the
offline extractor reads off the cookbook when the agent examines it: (recipe, needs, X) and
(X, must be, diced).
"""
from __future__ import annotations

import re

from ..commands import CONSUME, EXAMINE, TAKE
from ..world import WorldView, bare_name
from .base import VETO

CUTS = {"sliced": "slice", "diced": "dice", "chopped": "chop"}
COOKS = {"fried": "stove", "roasted": "oven", "grilled": "bbq"}
COOK_VERBS = {"fried": "fry", "roasted": "roast", "grilled": "grill"}
TOOL = "knife"
KITCHEN = "kitchen"  # where a meal is prepared
DOCUMENTS = ("cookbook", "recipe")

_CUT = re.compile(r"^(slice|dice|chop) (.+) with (.+)$")
_COOK = re.compile(r"^cook (.+) with (.+)$")
_LET_GO = re.compile(r"^(?:drop|put|insert) (.+?)(?: (?:on|into|in) .+)?$")


class CookingFamily:
    name = "cooking"
    goal_words = ("recipe", "meal", "cook")

    # --- what the memory says about the recipe ---------------------------------------------------
    @staticmethod
    def needed(view: WorldView) -> list[str]:
        # A cookbook that never says "recipe" is read as "instructions" (TextWorldExpress's).
        return [bare_name(o) for s, r, o in view.facts if s in ("recipe", "instructions") and r == "needs"]

    @staticmethod
    def required(view: WorldView, thing: str) -> list[str]:
        return [o for s, r, o in view.facts if bare_name(s) == thing and r == "must be"
                and (o in CUTS or o in COOKS)]

    def pending(self, view: WorldView) -> list[tuple[str, str]]:
        """(ingredient, state) pairs the recipe asks for and the memory does not show yet."""
        return [(x, s) for x in self.needed(view) for s in self.required(view, x) if not view.is_(x, s)]

    def ready(self, view: WorldView) -> bool:
        needed = self.needed(view)
        return bool(needed) and all(view.carries(x) for x in needed) and not self.pending(view)

    # --- the checklist shown to the model --------------------------------------------------------
    def checklist(self, view: WorldView) -> list[str]:
        needed = self.needed(view)
        if not needed:
            where = self._where(view, DOCUMENTS[0])
            return [f"read the cookbook ({where})" if where else "find the cookbook and read it"]
        if view.carries("meal"):
            return ["eat meal"]
        items = [f"take {x} ({self._where(view, x) or 'not seen yet'})" for x in needed if not view.carries(x)]
        pending = self.pending(view)
        if any(s in CUTS for _, s in pending) and not view.carries(TOOL):
            items.append(f"take the knife ({self._where(view, TOOL) or 'not seen yet'})")
        for x, s in pending:
            items.append(f"{CUTS[s]} {x} with knife" if s in CUTS else f"cook {x} with {COOKS[s]} ({COOK_VERBS[s]})")
        items.append("prepare meal, then eat meal")
        return items

    @staticmethod
    def _where(view: WorldView, thing: str) -> str:
        loc = view.location.get(thing)
        if loc is None:
            return ""
        room = view.place_of(thing)
        here = loc[1] if room in (None, loc[1]) else f"{loc[1]}, {room}"
        return f"{loc[0]} {here}"

    # --- priors ----------------------------------------------------------------------------------
    def prior(self, command: str, view: WorldView) -> float | None:
        cmd = command.lower()
        needed = self.needed(view)
        if (m := CONSUME.match(cmd)) is not None:
            return 6.0 if m.group(1) == "eat" and m.group(2) == "meal" else VETO
        if cmd == "prepare meal":
            return 5.0 if self.ready(view) else VETO
        if (m := EXAMINE.match(cmd)) is not None and m.group(1) in DOCUMENTS:
            return 4.0 if not needed else -1.0
        if not needed:  # no recipe yet: nothing may be cut or cooked
            return VETO if _CUT.match(cmd) or _COOK.match(cmd) else None
        pending = self.pending(view)
        if (m := _CUT.match(cmd)) is not None:
            thing, state = bare_name(m.group(2)), m.group(1)
            return 3.5 if (thing, _state_of_cut(state)) in pending and view.carries(thing) else VETO
        if (m := _COOK.match(cmd)) is not None:
            thing, appliance = bare_name(m.group(1)), m.group(2)
            wanted = [s for x, s in pending if x == thing and s in COOKS]
            return 3.5 if view.carries(thing) and any(COOKS[s] == appliance for s in wanted) else VETO
        if (m := TAKE.match(cmd)) is not None:
            thing = bare_name(m.group(1))
            if thing in needed and not view.carries(thing):
                return 3.0
            if thing == TOOL and any(s in CUTS for _, s in pending) and not view.carries(TOOL):
                return 3.0
            return -1.0
        if (m := _LET_GO.match(cmd)) is not None:
            thing = bare_name(m.group(1))
            return VETO if thing in needed or thing in (TOOL, "meal") else -1.0
        return None

    def played(self, command: str) -> None:
        """Nothing to note: the recipe's progress is in the memory."""

    def wanted_places(self, view: WorldView) -> list[str]:
        """Rooms holding what the next checklist items need, nearest concerns first."""
        needed = self.needed(view)
        things = [] if needed else [DOCUMENTS[0]]
        things += [x for x in needed if not view.carries(x)]
        pending = self.pending(view)
        if any(s in CUTS for _, s in pending) and not view.carries(TOOL):
            things.append(TOOL)
        if all(view.carries(x) for x in needed):
            things += [COOKS[s] for _, s in pending if s in COOKS]
        rooms = [view.place_of(t) for t in things]
        if needed and self.ready(view):
            rooms.append(KITCHEN if KITCHEN in view.rooms.exits else view.place_of("stove"))
        return list(dict.fromkeys(r for r in rooms if r and r != "inventory"))


def _state_of_cut(verb: str) -> str:
    return next(s for s, v in CUTS.items() if v == verb)
