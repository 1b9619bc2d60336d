"""What a plan's step needs before the game will take it, read from the agent's memory.

A told step ("take the chicken wing", "slice the red apple", "grill the chicken wing") often cannot
be played as it stands: the thing is not in sight, or a preparation needs the thing and a tool in
hand, or the game knows the preparation under another verb. General text-game sense, no family's
knowledge:
- a thing to take that the memory has never placed is searched for: the closed things in sight are
  opened (the step itself would only be refused);
- a preparation (a cut or a heat verb) acts on a thing carried, and a cut needs a cutter carried:
  what is missing and in sight is taken first;
- a heat verb the game refused ("grill", "roast" where only "cook ... in ..." is known) is played as
  cooking the thing on a heat source in sight. The game's answers to cooking say what each source
  does ("You roast the apple with the oven"): a source learned for the verb is the one played, and
  one learned for another verb is left out; before any answer, the sources the verb usually names
  (grill: a grill or toaster; roast: an oven) come first, then the chooser picks, reading the step;
  a source the game refused to cook on is not offered again, so the others are tried next.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Collection

from .candidates import CUTS, CUTTERS, HEAT_SOURCES, visible
from .world import WorldView

HEAT_VERBS = ("grill", "roast", "fry", "bake", "toast", "boil", "broil", "cook")
# What kitchen English usually does each with, by the source's head word: tried first until the
# game's answers say otherwise (a grill step is not tried in the oven, which roasts).
USUAL_SOURCES = {"grill": ("grill", "bbq", "barbecue", "toaster"), "toast": ("toaster", "grill"),
                 "roast": ("oven",), "bake": ("oven",), "broil": ("oven", "grill"),
                 "fry": ("stove",), "boil": ("stove",)}
COOKED = re.compile(r"\byou (\w+) the .+? (?:with|in|on) the ([\w ]+?)[.!,]", re.I)


@dataclass
class HeatSources:
    """What each heat source does in this game, as its answers to cooking told it: verb -> source."""

    by_verb: dict[str, str] = field(default_factory=dict)

    def heard(self, action: str, response: str) -> None:
        """Learn from the game's answer to a cooking command ("You roast the apple with the oven.")."""
        if not action.startswith("cook "):
            return
        m = COOKED.search(response or "")
        if m is not None and m.group(1).lower() in HEAT_VERBS:
            self.by_verb[m.group(1).lower()] = m.group(2).lower()

    def for_verb(self, verb: str, sources: list[str]) -> list[str]:
        """Of ``sources``, the one learned for ``verb``; else those not learned for another verb,
        the ones the verb usually names first (only them, when there are any)."""
        mine = [h for h in sources if self.by_verb.get(verb) == h]
        taken = set(self.by_verb.values())
        free = [h for h in sources if h not in taken]
        usual = [h for h in free if h.split()[-1] in USUAL_SOURCES.get(verb, ())]
        return mine or usual or free


@dataclass(frozen=True)
class StepWork:
    """``commands``: what to play for the step now; ``realises``: those of them that do the step
    itself under the game's own phrasing (playing one marks the step done)."""

    commands: tuple[str, ...]
    realises: tuple[str, ...] = ()


def step_work(step: str, view: WorldView, refused_before: bool, heat: HeatSources | None = None,
              failed: Collection[str] = ()) -> StepWork:
    """What to play for ``step`` now (the step itself when nothing is missing); ``refused_before``:
    the game refused the step as written; ``heat``: what the game told of its heat sources;
    ``failed``: commands the game refused (a source it refused to cook on is not offered again)."""
    verb, _, thing = step.partition(" ")
    if not thing or view.room is None:
        return StepWork((step,))
    seen = visible(view, view.room)
    if verb == "take" and thing not in view.location:
        searches = tuple(f"open {t}" for t in seen if view.is_(t, "closed") and not view.is_(t, "locked"))
        return StepWork(searches or (step,))
    if verb not in CUTS and verb not in HEAT_VERBS:
        return StepWork((step,))
    missing = []
    if not view.carries(thing) and thing in seen:
        missing.append(f"take {thing}")
    if verb in CUTS and not any(t.split()[-1] in CUTTERS for t in view.carried()):
        missing += [f"take {t}" for t in seen if t.split()[-1] in CUTTERS]
    if missing:
        return StepWork(tuple(missing))
    if verb in HEAT_VERBS and refused_before and view.carries(thing):
        sources = [h for h in seen if h.split()[-1] in HEAT_SOURCES and f"cook {thing} in {h}" not in failed]
        cooked = tuple(f"cook {thing} in {h}" for h in (heat or HeatSources()).for_verb(verb, sources))
        return StepWork(cooked or (step,), cooked)
    return StepWork((step,))
