"""Optional knowledge of one game family each, declared here and chosen by the task's goal.

A family module knows how a kind of game works (how a recipe's verbs map to commands, which moves
lose the game) and turns what the agent has *observed* - its graph memory, read through
``agents.world.WorldView`` - into a checklist and priors for candidate commands. It never reads the
game's own state, walkthrough, quest or fail conditions.
"""
from __future__ import annotations

from typing import Protocol

from ..world import WorldView
from .base import VETO
from .cooking import CookingFamily

class Family(Protocol):
    name: str

    def checklist(self, view: WorldView) -> list[str]: ...

    def prior(self, command: str, view: WorldView) -> float | None:
        """The command's prior (VETO: never offer it), or None to leave it to the generic rules."""

    def wanted_places(self, view: WorldView) -> list[str]:
        """Rooms worth walking to now (where a needed thing was seen)."""


FAMILIES = (CookingFamily,)
__all__ = ["FAMILIES", "VETO", "Family", "family_for"]


def family_for(goal: str) -> Family | None:
    """The family whose goal words the task's goal uses, if any."""
    text = (goal or "").lower()
    return next((f() for f in FAMILIES if any(w in text for w in f.goal_words)), None)
