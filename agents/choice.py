"""The one action chooser every LLM agent uses (Ariadne and the baselines alike: memory stays the
only difference between them).

Candidates carry a prior from code (0 when the agent has none). The model then judges a shortlist:
- a backend that exposes token log-probabilities (the local llama.cpp model) scores every option as
  the whole reply after one shared prompt evaluation; the choice maximises the option's mean token
  log-probability plus its prior. No generated token decides alone, so a frequent first word
  ("examine") cannot win by being first;
- any other backend (OpenAI-compatible servers) answers a JSON choice whose schema enumerates the
  options; the chosen option gets ``enum_bonus`` on top of its prior.
A single candidate is played without a call, and so is one whose prior leads the next by
``decisive_gap`` or more (no likelihood difference the model gives candidates in practice
overturns it: the call would only cost time). A bad structured reply falls back, logged and
counted, to the highest prior. With ``temperature`` > 0 the choice is sampled from the softmax of
the values with a seeded generator (a run's seed makes it repeatable); 0 (the default) is argmax.
"""
from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field
from typing import Sequence

from graphmem.llm import ChatModel
from graphmem.llm.structured import JSONAsker

log = logging.getLogger("graphmem_agents.choice")

SYSTEM = ("You play a text adventure game. You get the goal, what you know and the current "
          "observation; reply with the single best next command, exactly as listed.")


@dataclass(frozen=True)
class Candidate:
    command: str
    prior: float = 0.0
    reason: str = ""  # why code favours it (shown in logs, not to the model)


@dataclass
class Decision:
    command: str
    ranked: list[tuple[str, float]] = field(default_factory=list)  # shortlist with final values
    by: str = "model"  # model, enum, prior (decided without a call), fallback

    def summary(self, n: int = 3) -> str:
        return "; ".join(f"{c} ({v:+.2f})" for c, v in self.ranked[:n])


def action_schema(options: Sequence[str]) -> dict:
    return {"type": "object", "properties": {"action": {"type": "string", "enum": list(options)}},
            "required": ["action"]}


def messages(context: str, instruction: str) -> list[dict]:
    """System prompt, then the shared context, then the call's own instruction: consecutive calls
    start with the same tokens, so the local backend reuses the evaluated prefix."""
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{context}\n\n{instruction}"}]


class Chooser:
    def __init__(self, llm: ChatModel, *, shortlist: int = 12, enum_bonus: float = 2.0,
                 prior_weight: float = 1.0, decisive_gap: float = 3.0, temperature: float = 0.0,
                 seed: int = 0) -> None:
        self.llm = llm
        self.decisive_gap = decisive_gap
        self.temperature = temperature
        self.rng = random.Random(seed)
        self.shortlist = shortlist
        self.enum_bonus = enum_bonus
        self.prior_weight = prior_weight
        self.calls = 0
        self.fallbacks = 0
        self.last: Decision | None = None

    def choose(self, context: str, candidates: Sequence[Candidate]) -> Decision:
        """The best candidate; ``candidates`` must not be empty."""
        unique: dict[str, Candidate] = {}
        for c in candidates:
            if c.command not in unique or c.prior > unique[c.command].prior:
                unique[c.command] = c
        # Highest priors first; ties keep the caller's order (never set or hash order).
        order = sorted(unique.values(), key=lambda c: -c.prior)[: self.shortlist]
        if len(order) == 1 or self.prior_weight * (order[0].prior - order[1].prior) >= self.decisive_gap:
            self.last = Decision(order[0].command, [(c.command, c.prior) for c in order[:3]], "prior")
            return self.last
        options = [c.command for c in order]
        listing = "\n".join(f"- {o}" for o in options)
        self.calls += 1
        if self.llm.can_score:
            instruction = f"Possible commands:\n{listing}\nThe best next command:"
            model = self.llm.score(messages(context, instruction), options).mean()
            values, by = [m + self.prior_weight * c.prior for m, c in zip(model, order)], "model"
        else:
            values, by = self._enum_values(context, listing, order)
        best = self._pick(values)
        ranked = sorted(zip(options, values), key=lambda p: -p[1])
        self.last = Decision(options[best], [(o, round(v, 3)) for o, v in ranked], by)
        return self.last

    def _pick(self, values: list[float]) -> int:
        if self.temperature <= 0:
            return max(range(len(values)), key=lambda i: (values[i], -i))
        top = max(values)
        weights = [math.exp((v - top) / self.temperature) for v in values]
        return self.rng.choices(range(len(values)), weights=weights)[0]

    def _enum_values(self, context: str, listing: str, order: list[Candidate]) -> tuple[list[float], str]:
        options = [c.command for c in order]
        instruction = (f"Possible commands:\n{listing}\n"
                       'Choose the best next command. Reply {"action": "<one of the possible commands>"}')
        asker = JSONAsker(self.llm, action_schema(options), task="choose action", max_tokens=40, retries=0)
        answer = asker.ask(messages(context, instruction))
        picked = answer.data["action"] if answer.data is not None else None
        values = [self.prior_weight * c.prior for c in order]
        if picked in options:
            values[options.index(picked)] += self.enum_bonus
            return values, "enum"
        self.fallbacks += 1
        log.warning("choose action: no valid choice in the reply; using the priors (fallback #%d)", self.fallbacks)
        return values, "fallback"
