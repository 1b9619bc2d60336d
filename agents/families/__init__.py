"""Optional knowledge of one game family each, declared here and chosen by the task's goal.

A family module knows how a kind of game works (how a recipe's verbs map to commands, which moves
lose the game) and turns what the agent has *observed* - its graph memory, read through
``agents.world.WorldView`` - into a checklist and priors for candidate commands. It never reads the
game's own state, walkthrough, quest or fail conditions.
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from graphmem.llm import ChatModel

from ..world import WorldView
from .base import VETO
from .cleaning import CleaningFamily
from .cooking import CookingFamily

class Family(Protocol):
    name: str

    def checklist(self, view: WorldView) -> list[str]: ...

    def prior(self, command: str, view: WorldView) -> float | None:
        """The command's prior (VETO: never offer it), or None to leave it to the generic rules."""

    def wanted_places(self, view: WorldView) -> list[str]:
        """Rooms worth walking to now (where a needed thing was seen)."""

    def played(self, command: str) -> None:
        """The agent played ``command`` (a family may note what its own moves settled)."""


__all__ = ["VETO", "Family", "family_for"]


def family_for(goal: str, llm: ChatModel, encode: Callable[[list[str]], np.ndarray]) -> Family | None:
    """The family whose goal words the task's goal uses, if any; ``encode`` is the memory's embedder."""
    text = (goal or "").lower()
    if any(w in text for w in CookingFamily.goal_words):
        return CookingFamily()
    if any(w in text for w in CleaningFamily.goal_words):
        return CleaningFamily(llm, encode)
    return None
