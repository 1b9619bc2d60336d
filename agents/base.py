"""What every agent shares: the protocol the episode runner drives, and the LLM action interface.

An agent sees a StepResult and returns the next command (None to stop). A resumed run replays its
log by calling ``act`` as usual (the LLM response cache answers the repeated calls, so the agent's
state is rebuilt exactly and for free) and, should a choice differ from the logged action (cache off),
``override(action)`` tells the agent which action was played instead.

All LLM agents choose among the game's admissible commands (plus agent-specific extras such as
Ariadne's ``go to <room>``) through one schema-checked call whose schema lists the options, so a
grammar-enforcing backend can only answer with one of them. A bad reply falls back, logged and
counted, to the first option not played in the last steps.
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Protocol, Sequence

from environments.textworld import StepResult, Task
from graphmem.llm import ChatModel
from graphmem.llm.structured import JSONAsker

log = logging.getLogger("agents")

SYSTEM = ("You play a text adventure game. Each turn you get the goal, what you remember and the "
          "current observation, then one task: make a plan or choose an action. Be brief. "
          "Reply with JSON only.")
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


def action_schema(options: Sequence[str]) -> dict:
    return {"type": "object", "properties": {"action": {"type": "string", "enum": list(options)}},
            "required": ["action"]}


class ActionChooser:
    """One LLM call that picks an action among ``options``; counted fallback on a bad reply."""

    def __init__(self, llm: ChatModel, max_tokens: int = 40) -> None:
        self.llm = llm
        self.max_tokens = max_tokens
        self.calls = 0
        self.fallbacks = 0

    def choose(self, context: str, options: Sequence[str], recent: RecentSteps, extra: str = "") -> str:
        """Pick among ``options``, less the actions that recently had no effect (if any remain)."""
        stale = set(recent.without_effect())
        options = [o for o in dict.fromkeys(options) if o not in stale] or list(dict.fromkeys(options))
        instruction = (f"{extra}Possible actions: {' | '.join(options)}\n"
                       'Choose the best next action. Reply {"action": "<one of the possible actions>"}')
        asker = JSONAsker(self.llm, action_schema(options), task="choose action",
                          max_tokens=self.max_tokens, retries=0)
        self.calls += 1
        answer = asker.ask(messages(context, instruction))
        action = answer.data["action"] if answer.data is not None else None
        if action in options:
            return action
        self.fallbacks += 1
        choice = fallback_action(options, recent.actions())
        log.warning("choose action: no valid choice in the reply; fallback %r (fallback #%d)",
                    choice, self.fallbacks)
        return choice


def fallback_action(options: Sequence[str], recent: Sequence[str]) -> str:
    """The first option not played in the recent steps (the first option if all were)."""
    played = set(recent)
    return next((o for o in options if o not in played), options[0])


def messages(context: str, instruction: str) -> list[dict]:
    """System prompt, then the shared context, then the call's own instruction: every call of a
    step starts with the same tokens, so the local backend reuses the evaluated prefix."""
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{context}\n\n{instruction}"}]


def options_of(result: StepResult) -> list[str]:
    return list(result.admissible_commands) or ["look"]
