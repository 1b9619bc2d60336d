"""What every agent shares: the protocol the episode runner drives, and the LLM action interface.

An agent sees a StepResult and returns the next command (None to stop). A resumed run replays its
log by calling ``act`` as usual (the LLM response cache answers the repeated calls, so the agent's
state is rebuilt exactly and for free) and, should a choice differ from the logged action (cache off),
``override(action)`` tells the agent which action was played instead.

All LLM agents choose among the game's admissible commands (plus agent-specific extras such as
Ariadne's ``go to <room>``) through the same chooser (``agents.choice``).
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from graphmem_environments.textworld import StepResult, Task

log = logging.getLogger("agents")

OBSERVATION_CHARS = 600      # the current observation, cut for prompt size
RECENT_CHARS = 160           # each past observation in the recent steps


class Agent(Protocol):
    name: str

    def reset(self, task: Task) -> None: ...

    def act(self, result: StepResult) -> str | None: ...

    def override(self, action: str) -> None: ...

    def stats(self) -> dict: ...


@dataclass
class StepMemory:
    action: str
    observation: str


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def goal_block(task: Task) -> str:
    """The stable head of every user prompt (kept first so the backend's prompt cache reuses it)."""
    lines = [f"Goal: {task.goal or 'win the game (score points)'}"]
    if task.hint:
        lines.append(f"Hint: {task.hint}")
    return "\n".join(lines)


class RecentSteps:
    """The last ``n`` (action, observation) pairs, as prompt lines."""

    def __init__(self, n: int) -> None:
        self.items: deque[StepMemory] = deque(maxlen=n)

    def add(self, action: str, observation: str) -> None:
        self.items.append(StepMemory(action, observation))

    def actions(self) -> list[str]:
        return [s.action for s in self.items]

    def without_effect(self) -> list[str]:
        """Actions played at least twice in the window, every time with the same response: playing
        them again would only waste a step (a small model tends to loop on them)."""
        seen: dict[str, set[str]] = {}
        counts: dict[str, int] = {}
        for s in self.items:
            seen.setdefault(s.action, set()).add(" ".join(s.observation.split()))
            counts[s.action] = counts.get(s.action, 0) + 1
        return [a for a in seen if counts[a] >= 2 and len(seen[a]) == 1]

    def render(self) -> str:
        return "\n".join(f"> {s.action}: {shorten(s.observation, RECENT_CHARS)}" for s in self.items) or "(none)"

    def clear(self) -> None:
        self.items.clear()


def options_of(result: StepResult) -> list[str]:
    return list(result.admissible_commands) or ["look"]
