"""The cleaning family (tidy a house: take what is out of place, put it where it belongs).

Where a thing belongs is common sense, not something a game states. The model supplies it: one
scoring call per thing ranks the known receptacles as answers to "where does the X belong?" (with a
backend that cannot score, the memory's embedder ranks them by similarity instead). A thing is out
of place when another receptacle fits it clearly better than the one it is on. Receptacles are
those the memory has seen holding something and those the game offers to put things on or into.
Everything comes from what the agent observed; a thing once put away is never moved again. The
house is explored first, so that every receptacle is known before anything is judged or moved.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from graphmem.llm import ChatModel

from ..commands import CONSUME, OPEN, PUT, TAKE
from ..world import WorldView
from .base import VETO

MARGIN = 0.5  # how much better (mean log-probability) another receptacle must fit than the current one
EMBEDDING_MARGIN = 0.05  # the same for cosine similarities
JUDGED_PER_STEP = 2  # things newly judged a step (each is one scoring call): bounds a step's cost
EXPLORE_FIRST = 4.5  # while exits lead somewhere unknown: ahead of anything else by more than the decisive gap



class CleaningFamily:
    name = "cleaning"
    goal_words = ("clean", "tidy", "out of place")

    def __init__(self, llm: ChatModel, encode: Callable[[list[str]], np.ndarray]) -> None:
        self.llm = llm
        self.encode = encode
        self.margin = MARGIN if llm.can_score else EMBEDDING_MARGIN
        self.receptacles: dict[str, str | None] = {}  # name -> room it is in (None: unknown)
        self.placed: set[str] = set()                  # things put away by the agent
        self.items: set[str] = set()                   # things the game offers to take
        self._fits: dict[str, dict[str, float]] = {}

    # --- what fits where -------------------------------------------------------------------------
    def fits(self, thing: str) -> dict[str, float]:
        """How well ``thing`` fits each receptacle known when first asked (higher is better).

        Asked once per thing, by the checklist (at most JUDGED_PER_STEP new things a step, once the
        house is explored); priors only read the answers already there."""
        if thing not in self._fits:
            places = sorted(r for r in self.receptacles if r != thing)
            texts = [self._place_text(p) for p in places]
            if not places:
                values = []
            elif self.llm.can_score:
                question = (f"In a tidy house, where does the {thing} belong? "
                            f"Answer with one of: {'; '.join(texts)}.")
                values = self.llm.score([{"role": "user", "content": question}], texts).mean()
            else:
                vecs = self.encode([thing, *texts])
                values = list(vecs[1:] @ vecs[0])
            self._fits[thing] = {p: float(v) for p, v in zip(places, values)}
        return self._fits[thing]

    def judged(self, thing: str) -> bool:
        return thing in self._fits

    def learn(self, view: WorldView) -> None:
        """Receptacles: what holds something, and what stands in a room but is never offered to take."""
        for thing, (_, holder) in view.location.items():
            if holder in view.rooms.exits and thing not in self.items:
                self.receptacles.setdefault(thing, holder)
            elif holder != "inventory" and holder not in view.rooms.exits:
                self.receptacles.setdefault(holder, view.place_of(holder))
        for item in self.items:
            self.receptacles.pop(item, None)

    def _place_text(self, receptacle: str) -> str:
        """A receptacle with its room: "sink" says less than "sink in the bathroom"."""
        room = self.receptacles.get(receptacle)
        return f"{receptacle} in the {room}" if room else receptacle

    def home(self, thing: str) -> str | None:
        """The best-fitting known receptacle for ``thing`` (None until it was judged)."""
        fits = self._fits.get(thing)
        return max(sorted(fits), key=lambda p: fits[p]) if fits else None

    def out_of_place(self, thing: str, holder: str) -> str | None:
        """Where ``thing`` should go instead of ``holder`` (a receptacle, or a room's floor), or
        None if it may stay."""
        if thing in self.placed or thing in self.receptacles or not self.judged(thing):
            return None
        fits = self.fits(thing)
        home = self.home(thing)
        if home is None or home == holder:
            return None
        return home if holder not in fits or fits[home] > fits[holder] + self.margin else None

    # --- family protocol -------------------------------------------------------------------------
    def checklist(self, view: WorldView) -> list[str]:
        self.learn(view)
        items = []
        if view.rooms.unexplored():
            return ["explore the whole house first"]
        unjudged = [t for t, (_, holder) in sorted(view.location.items())
                     if t not in self.receptacles and t not in self.placed and not self.judged(t)]
        for thing in sorted(unjudged, key=lambda t: not view.carries(t))[:JUDGED_PER_STEP]:
            self.fits(thing)  # carried things first: they need a home now
        for thing in view.carried():
            home = self.home(thing)
            if home and thing not in self.placed:
                items.append(f"put {thing} on {home} ({self.receptacles.get(home) or 'room unknown'})")
        for thing, (_, holder) in sorted(view.location.items()):
            if holder == "inventory":
                continue
            if home := self.out_of_place(thing, holder):
                where = view.place_of(thing)
                items.append(f"take {thing} from {holder} ({where}), it belongs on {home}")
        return items[:6] or ["explore to find things out of place"]

    def prior(self, command: str, view: WorldView) -> float | None:
        cmd = command.lower()
        if CONSUME.match(cmd):
            return VETO
        explored = not view.rooms.unexplored()
        if cmd == "explore":
            return None if explored else EXPLORE_FIRST
        if (m := PUT.match(cmd)) is not None:
            thing, target = m.group(1), m.group(2)
            self.receptacles.setdefault(target, view.room)
            if not explored:
                return 1.0
            home = self.home(thing)
            return 4.0 if target == home and thing not in self.placed else -1.0
        if (m := TAKE.match(cmd)) is not None:
            self.items.add(m.group(1))
            if not explored:
                return 1.0
            thing = m.group(1)
            holder = m.group(2) or view.location.get(thing, ("", view.room or ""))[1]
            if not self.judged(thing):
                return 0.0  # not judged yet: the model's choice decides
            return 3.0 if self.out_of_place(thing, holder) else -2.0
        if (m := OPEN.match(cmd)) is not None and explored:
            # a closed cabinet or dishwasher that is a carried thing's home: open it to put it away
            homes = {self.home(t) for t in view.carried() if t not in self.placed}
            return 4.0 if m.group(1) in homes else None
        if cmd.startswith("drop "):
            return -2.0
        return None

    def wanted_places(self, view: WorldView) -> list[str]:
        if view.rooms.unexplored():
            return []
        rooms = [self.receptacles.get(self.home(thing) or "") for thing in view.carried()
                 if thing not in self.placed]
        # then where judged things wait to be taken
        rooms += [view.place_of(t) for t, (_, holder) in sorted(view.location.items())
                  if self.judged(t) and holder != "inventory" and self.out_of_place(t, holder)]
        return list(dict.fromkeys(r for r in rooms if r and r != "inventory"))

    def played(self, command: str) -> None:
        """Ariadne reports each command it plays: a thing put on its home stays there."""
        if (m := PUT.match(command.lower())) is not None and self.home(m.group(1)) == m.group(2):
            self.placed.add(m.group(1))
