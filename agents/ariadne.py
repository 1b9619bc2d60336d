"""Ariadne: an LLM agent whose memory is a knowledge graph (after AriGraph).

Each step:
1. perceive: the observation goes into the graph memory (offline spaCy extractor by default, no LLM
   call; an LLM extractor costs one), and a move adds its connection triples from code
   (``graphmem.spatial``: the move's direction plus the new room's heading);
2. plan (one call, skipped while walking a path): a JSON list of at most three sub-goals;
3. act (one call, skipped while walking a path): one of the admissible commands or ``go to <room>``
   for any known room with a path; ``go to`` is walked one move per turn over the following steps
   (opening doors on the way), without further LLM calls.
So a step costs at most 3 calls. The working memory in the prompt: goal and hint, retrieved triples,
the top past observations, unexplored exits, the last steps, inventory, room and observation.
"""
from __future__ import annotations

import logging

from environments.textworld import StepResult, Task
from graphmem import Memory
from graphmem.llm import ChatModel
from graphmem.llm.jsonout import JSONReplyError
from graphmem.llm.structured import JSONAsker
from graphmem.spatial import move_triples, room_of

from .base import (OBSERVATION_CHARS, ActionChooser, RecentSteps, fallback_action, goal_block, messages,
                   options_of, shorten)
from .navigation import RoomMap

log = logging.getLogger("agents.ariadne")

PLAN_SCHEMA = {
    "type": "object",
    "properties": {"plan": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3}},
    "required": ["plan"],
}
DOOR_WORDS = ("door", "gate", "hatch", "portal", "gateway")
EPISODE_CHARS = 200
EXTRACTORS = ("offline", "llm")


class Ariadne:
    name = "ariadne"

    def __init__(self, llm: ChatModel, *, extractor: str = "offline", recent_steps: int = 4,
                 max_facts: int = 15, max_episodes: int = 2) -> None:
        if extractor not in EXTRACTORS:
            raise ValueError(f"extractor must be one of {EXTRACTORS}, not {extractor!r}")
        self.llm = llm
        self.extractor = extractor
        self.max_facts, self.max_episodes = max_facts, max_episodes
        self.recent = RecentSteps(recent_steps)
        self.chooser = ActionChooser(llm)
        self.planner = JSONAsker(llm, PLAN_SCHEMA, task="plan", max_tokens=90, retries=0)
        self.counts = {"plan_fallbacks": 0, "path_moves": 0, "path_aborts": 0, "doors_opened": 0}

    def _new_memory(self) -> Memory:
        if self.extractor == "llm":
            from graphmem.extract.llm import LLMExtractor

            extractor = LLMExtractor(self.llm)
            extractor.asker.retries = 0  # a corrective retry would be a 4th call in the step
            return Memory(extractor=extractor)
        return Memory()

    # --- protocol ------------------------------------------------------------------------------
    def reset(self, task: Task) -> None:
        self.task = task
        self.memory = self._new_memory()
        self.recent.clear()
        self.plan: list[str] = []
        self.room: str | None = None
        self.last_action: str | None = None
        self.path: list[tuple[str, str]] = []   # (direction, room it should reach) still to walk
        self.expected_room: str | None = None
        self.step = 0

    def act(self, result: StepResult) -> str | None:
        if result.done:
            return None
        self._perceive(result)
        action = self._walk(result) if self.path else None
        if action is None:
            context = self.context(result)
            self._update_plan(context)
            action = self._choose(result, context)
        self.last_action = action
        return action

    def override(self, action: str) -> None:
        self.last_action = action
        self.path, self.expected_room = [], None

    def stats(self) -> dict:
        return {"memory_size": len(self.memory.current()), "action_fallbacks": self.chooser.fallbacks,
                **self.counts, "plan": list(self.plan)}

    # --- steps ---------------------------------------------------------------------------------
    def _perceive(self, result: StepResult) -> None:
        self.step += 1
        obs = result.observation
        self.memory.observe(obs, self.step)
        room = room_of(obs)
        if self.last_action is not None:
            moves = move_triples(self.room, self.last_action, obs)
            if moves:
                self.memory.add_triples(moves, self.step, text=f"{self.last_action}: moved to {room}")
            self.recent.add(self.last_action, obs)
        if room:
            self.room = room
        if self.expected_room is not None and self.room != self.expected_room:
            log.warning("path: expected to reach %r, am in %r; abandoning the path", self.expected_room, self.room)
            self.counts["path_aborts"] += 1
            self.path = []
        self.expected_room = None

    def room_map(self) -> RoomMap:
        return RoomMap.from_triples(self.memory.current())

    def inventory(self) -> list[str]:
        return [t.subject for t in self.memory.current() if t.relation == "in" and t.object == "inventory"]

    def context(self, result: StepResult) -> str:
        """The working memory shared by the plan and action prompts (stable parts first)."""
        obs = result.observation
        queries = [shorten(obs, 300), *self.plan[:1], self.task.goal]
        recalled = self.memory.recall([q for q in queries if q])
        facts = [f"- {t.subject}, {t.relation}, {t.object}" for t in recalled.triples[: self.max_facts]]
        episodes = [e.episode for e in recalled.episodes if e.episode.step < self.step and e.episode.text]
        past = [f"- [step {e.step}] {shorten(e.text, EPISODE_CHARS)}" for e in episodes[: self.max_episodes]]
        lines = [goal_block(self.task), "Known facts:", *(facts or ["- (none)"])]
        if past:
            lines += ["Past observations:", *past]
        lines += [
            f"Unexplored exits: {self.room_map().exploration_hint()}",
            "Recent steps:", self.recent.render(),
            f"Inventory: {', '.join(self.inventory()) or 'nothing known'}",
            f"Current room: {self.room or 'unknown'}",
            f"Observation: {shorten(obs, OBSERVATION_CHARS)}",
        ]
        return "\n".join(lines)

    def _update_plan(self, context: str) -> None:
        previous = "; ".join(self.plan) or "none"
        instruction = (f"Previous plan: {previous}\nWrite the plan from here: at most 3 short sub-goals, "
                       'the first is what to do now. Reply {"plan": ["...", "..."]}')
        answer = self.planner.ask(messages(context, instruction), check=_check_plan)
        if answer.data is None:
            self.counts["plan_fallbacks"] += 1
            log.warning("plan: bad reply; keeping the previous plan (fallback #%d)", self.counts["plan_fallbacks"])
            return
        self.plan = [" ".join(p.split()) for p in answer.data["plan"] if p.strip()][:3]

    def _choose(self, result: StepResult, context: str) -> str:
        admissible = options_of(result)
        rooms = self.room_map().reachable(self.room) if self.room else []
        options = admissible + [f"go to {r}" for r in rooms]
        plan = f"Plan: {'; '.join(self.plan)}\n" if self.plan else ""
        choice = self.chooser.choose(context, options, self.recent, extra=plan)
        if choice.startswith("go to ") and choice not in admissible:
            self.path = self.room_map().path(self.room, choice[len("go to "):]) or []
            action = self._walk(result)
            if action is not None:
                return action
            choice = fallback_action(admissible, self.recent.actions())
        return choice

    def _walk(self, result: StepResult) -> str | None:
        """The next command on the path: the move, or opening a door in the way; None if blocked."""
        direction, reached = self.path[0]
        admissible = result.admissible_commands
        if f"go {direction}" in admissible:
            self.path.pop(0)
            self.expected_room = reached
            self.counts["path_moves"] += 1
            return f"go {direction}"
        door = next((c for c in admissible if c.startswith("open ") and any(w in c for w in DOOR_WORDS)), None)
        if door is not None and door != self.last_action:
            self.counts["doors_opened"] += 1
            return door
        log.warning("path: cannot go %s from %r (not admissible); abandoning the path", direction, self.room)
        self.counts["path_aborts"] += 1
        self.path = []
        return None


def _check_plan(data: object) -> None:
    if not any(isinstance(p, str) and p.strip() for p in data["plan"]):
        raise JSONReplyError("the plan has no non-empty sub-goal")
