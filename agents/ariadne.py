"""Ariadne: an LLM agent whose memory is a knowledge graph (after AriGraph).

Each step:
1. perceive: the observation, headed by the room the agent is in, goes into the graph memory
   (offline spaCy extractor by default, no LLM call; an LLM extractor costs one); a move adds its
   connection triples from code (``graphmem.spatial``); the effect of the last action (score, room,
   facts learned or retired) is recorded;
2. read the world from memory (``agents.world``): room contents, inventory, exits, states;
3. sub-goals from the graph: the game family's checklist (``agents.families``, e.g. the recipe's
   missing items) plus keys and locks (``agents.subgoals``), each linked to the commands and rooms
   that serve it through priors;
4. act: one scoring call (``agents.choice``) over the admissible commands, ``go to <room>`` for the
   rooms sub-goals point at, and ``explore`` (walk to the nearest exit not yet taken); commands that
   changed nothing are not offered again until the memory changes, game-losing ones never. A walk
   (``go to``/``explore``) is played one move per turn over the next steps without LLM calls.
So a step costs at most one call (two with the LLM extractor), and none while walking.
"""
from __future__ import annotations

import logging

from graphmem_environments.textworld import StepResult, Task
from graphmem import Memory
from graphmem.errors import ConfigError
from graphmem.extract import EXTRACTORS, make_extractor
from graphmem.extract.llm import LLMExtractor
from graphmem.llm import ChatModel
from graphmem.spatial import move_triples, room_of, with_room

from .base import options_of, shorten
from .choice import Candidate, Chooser
from .effects import EffectTracker
from .families import VETO, family_for
from .subgoals import generic_prior, lock_checklist, lock_places
from .world import WorldView

log = logging.getLogger("graphmem_agents.ariadne")

DOOR_WORDS = ("door", "gate", "hatch", "portal", "gateway")
MAP_RELATIONS = ("has exit",)  # move records and exits: the map shows them already
GO_TO_PRIOR, EXPLORE_PRIOR, OTHER_ROOM_PRIOR = 2.5, 1.0, -0.5
OBSERVATION_CHARS = 400  # the state lines above it already say what the room holds
USELESS_PENALTY = 2.0  # an action that changed nothing last time ranks below untried ones


class Ariadne:
    name = "ariadne"

    def __init__(self, llm: ChatModel, *, extractor: str = "offline", max_facts: int = 6,
                 shortlist: int = 8, temperature: float = 0.0, seed: int = 0) -> None:
        if extractor not in EXTRACTORS:
            raise ConfigError(f"extractor must be one of {', '.join(EXTRACTORS)}, not {extractor!r}")
        self.llm = llm
        self.extractor = extractor
        self.max_facts = max_facts
        self.chooser = Chooser(llm, shortlist=shortlist, temperature=temperature, seed=seed)
        self.effects = EffectTracker()
        self.counts = {"path_moves": 0, "path_aborts": 0, "doors_opened": 0, "explores": 0, "vetoed": 0,
                       "blocked": 0}

    def _new_memory(self) -> Memory:
        extractor = make_extractor(self.extractor, self.llm)
        if isinstance(extractor, LLMExtractor):
            extractor.asker.retries = 0  # a corrective retry would be a third call in the step
        return Memory(extractor=extractor)

    # --- protocol ------------------------------------------------------------------------------
    def reset(self, task: Task) -> None:
        self.task = task
        self.memory = self._new_memory()
        self.family = family_for(task.goal, self.llm, self.memory.embedder.encode)
        self.effects.clear()
        self.room: str | None = None
        self.last_action: str | None = None
        self.last_score = 0.0
        self.path: list[tuple[str, str | None]] = []  # (direction, room it should reach) still to walk
        self.expected_room: str | None = None
        self.current_ids: set[str] = set()
        self.checklist: list[str] = []
        self.step = 0
        if task.hint:  # what the player is told at the start is memory too ("key 1 opens the white locker")
            self.memory.observe(task.hint, 0)

    def act(self, result: StepResult) -> str | None:
        if result.done:
            return None
        self._perceive(result)
        view = WorldView.read(self.memory.current(), self.room)
        self.checklist = self._checklist(view)
        action = self._walk(result) if self.path else None
        if action is None:
            candidates = self._candidates(result, view)
            decision = self.chooser.choose(self.context(result, view), candidates)
            action = self._start(decision.command, result, view, candidates)
        if self.family:
            self.family.played(action)
        self.last_action, self.last_score = action, result.score
        return action

    def override(self, action: str) -> None:
        self.last_action = action
        self.path, self.expected_room = [], None

    def stats(self) -> dict:
        decision = self.chooser.last
        return {"memory_size": len(self.memory.current()), "action_fallbacks": self.chooser.fallbacks,
                **self.counts, "plan": list(self.checklist[:3]),
                "choice": decision.summary() if decision else ""}

    # --- perceive ------------------------------------------------------------------------------
    def _perceive(self, result: StepResult) -> None:
        self.step += 1
        obs = result.observation
        room = room_of(obs) or self.room
        observed = self.memory.observe(with_room(obs, room), self.step)
        if self.last_action is not None:
            moves = move_triples(self.room, self.last_action, obs)
            new_map = 0
            if moves:
                new_map = len(self.memory.add_triples(moves, self.step, text=f"{self.last_action}: moved to {room}").added)
            self.effects.record(self.last_action, score_delta=result.score - self.last_score,
                                moved_to=room if room != self.room else None,
                                learned=[f"{t.subject} {t.relation} {t.object}" for t in observed.added],
                                other_changes=len(observed.retired) + new_map)
        self.current_ids = set(observed.episode.triple_ids)
        self.room = room
        if self.expected_room is not None and self.room != self.expected_room:
            log.warning("path: expected to reach %r, am in %r; abandoning the path", self.expected_room, self.room)
            self.counts["path_aborts"] += 1
            self.path = []
        self.expected_room = None

    # --- think ---------------------------------------------------------------------------------
    def _checklist(self, view: WorldView) -> list[str]:
        items = self.family.checklist(view) if self.family else []
        items += lock_checklist(view)
        if view.rooms.unexplored():
            items.append("explore: exits not taken yet")
        return items

    def _candidates(self, result: StepResult, view: WorldView) -> list[Candidate]:
        blocked, useless = self.effects.blocked(), self.effects.useless()
        out, vetoed, kept_blocked = [], 0, []
        for command in options_of(result):
            prior = self.family.prior(command, view) if self.family else None
            prior = generic_prior(command, view) if prior is None else prior
            prior -= USELESS_PENALTY if command in useless else 0.0
            if prior == VETO:
                vetoed += 1
            elif command in blocked:
                kept_blocked.append(Candidate(command, prior, "changed nothing last time"))
            else:
                out.append(Candidate(command, prior))
        self.counts["vetoed"] += vetoed
        self.counts["blocked"] += len(kept_blocked)
        wanted = (self.family.wanted_places(view) if self.family else []) + lock_places(view)
        for room in view.rooms.reachable(self.room) if self.room else []:
            command = f"go to {room}"
            if command not in blocked:
                out.append(Candidate(command, GO_TO_PRIOR if room in wanted else OTHER_ROOM_PRIOR))
        if self.room and view.rooms.nearest_unexplored(self.room) and "explore" not in blocked:
            family_prior = self.family.prior("explore", view) if self.family else None
            out.append(Candidate("explore", EXPLORE_PRIOR if family_prior is None else family_prior))
        return out or kept_blocked or [Candidate(c) for c in options_of(result)]

    def context(self, result: StepResult, view: WorldView) -> str:
        """State first, the stable parts at the top (the backend reuses the evaluated prefix)."""
        lines = [f"Goal: {self.task.goal or 'win the game (score points)'}"]
        if self.task.hint:
            lines.append(f"Hint: {self.task.hint}")
        lines += ["To do:", *[f"- {item}" for item in self.checklist[:6] or ["explore and score points"]]]
        facts = self._recalled_facts()
        if facts:
            lines += ["Known facts:", *facts]
        lines += [
            f"Room: {self.room or 'unknown'}",
            f"Here: {view.describe_room()}",
            f"Carrying: {', '.join(view.carried()) or 'nothing'}",
            f"Exits: {self._exits(view)}",
            "Last actions:", self.effects.render(),
            f"Observation: {shorten(result.observation, OBSERVATION_CHARS)}",
        ]
        return "\n".join(lines)

    def _recalled_facts(self) -> list[str]:
        """Facts about the sub-goals' entities, without the current observation's own facts (the
        prompt shows the observation) and without map records (the exits line shows them)."""
        queries = [*self.checklist[:2], self.task.goal]
        recalled = self.memory.recall([q for q in queries if q])
        facts = [t for t in recalled.triples if t.id not in self.current_ids
                 and t.relation not in MAP_RELATIONS and not t.relation.startswith("is ")]
        return [f"- {t.subject}, {t.relation}, {t.object}" for t in facts[: self.max_facts]]

    def _exits(self, view: WorldView) -> str:
        if not self.room:
            return "unknown"
        known = [f"{d} -> {r}" for d, r in view.rooms.neighbours(self.room)]
        unexplored = [f"{d} (unexplored)" for d in view.rooms.unexplored().get(self.room, [])]
        return ", ".join(known + unexplored) or "none known"

    # --- act -----------------------------------------------------------------------------------
    def _start(self, choice: str, result: StepResult, view: WorldView, candidates: list[Candidate]) -> str:
        """A command to play now: the choice itself, or the first move of a walk it starts."""
        if choice == "explore":
            assert self.room is not None  # exploring and going to a room are offered in a known room only
            self.counts["explores"] += 1
            self.path = view.rooms.nearest_unexplored(self.room) or []
        elif choice.startswith("go to ") and choice not in result.admissible_commands:
            assert self.room is not None
            self.path = list(view.rooms.path(self.room, choice[len("go to "):]) or [])
        else:
            return choice
        action = self._walk(result)
        if action is not None:
            return action
        # The walk could not start: play the best plain command instead.
        plain = [c for c in candidates if c.command in result.admissible_commands]
        return max(plain, key=lambda c: c.prior).command if plain else options_of(result)[0]

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
