"""What every game environment hands an agent, whatever engine runs the game: the task it is
told, the result of each step, and the small protocol the episode runner drives. Kept apart from
the engines so that agents and the runner depend on none of them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

DEFAULT_MAX_STEPS = 100


@dataclass(frozen=True)
class PlaceRule:
    """Where an item belongs in a cleaning game: ``item`` goes in/on ``holder``."""

    item: str
    holder: str


@dataclass(frozen=True)
class Task:
    """A playable game with what an agent is told about it."""

    name: str
    game_path: Path
    goal: str = ""
    hint: str = ""
    max_steps: int = DEFAULT_MAX_STEPS
    walkthrough: tuple[str, ...] | None = None
    clean_take: tuple[str, ...] | None = None
    clean_place: tuple[PlaceRule, ...] | None = None

    @property
    def is_cleaning(self) -> bool:
        return self.clean_place is not None


@dataclass(frozen=True)
class StepResult:
    """What the agent sees after reset or a step. ``facts`` is the true game state (for evaluation)."""

    observation: str            # cleaned text
    raw: str                    # as the game printed it
    admissible_commands: tuple[str, ...]
    score: float
    max_score: float
    done: bool
    won: bool
    lost: bool
    truncated: bool             # the episode's step limit was reached
    moves: int                  # steps taken by the wrapper this episode (invalid commands count)
    facts: tuple = ()           # textworld Propositions of the current state

    @property
    def normalized(self) -> float:
        return self.score / self.max_score if self.max_score else 0.0


def check_can_step(last: "StepResult | None") -> None:
    """Why a step cannot be played now (no reset yet, or the episode is over), as the error."""
    if last is None:
        raise RuntimeError("call reset() before step()")
    if last.done:
        raise RuntimeError("episode is over; call reset() to play again")


class Env(Protocol):
    """A game played in episodes of at most ``max_steps`` steps (what ``run_episode`` drives)."""

    task: Task
    max_steps: int

    def reset(self) -> StepResult: ...

    def step(self, command: str) -> StepResult: ...

    def walkthrough(self) -> tuple[str, ...] | None: ...

    def close(self) -> None: ...
