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
   rooms sub-goals point at, and ``explore`` (walk to the nearest exit not yet taken); the effect
   ledger (``agents.effects``) judges every command by what it did and what the game told: commands
   that changed nothing are not offered again until the memory changes, game-losing ones never. A walk
   (``go to``/``explore``) is played one move per turn over the next steps without LLM calls.
So a step costs at most one call (two with the LLM extractor), and none while walking.
"""
from __future__ import annotations

import logging

from graphmem_environments.textworld import StepResult, Task
from graphmem import Memory
from graphmem.errors import ConfigError
from graphmem.extract import EXTRACTORS, Extractor, make_extractor
from graphmem.extract.llm import LLMExtractor
from graphmem.llm import ChatModel
from graphmem.profiles import connection_direction, is_location
from graphmem.spatial import move_triples, room_of, with_room

from .arithmetic import answers
from .base import shorten
from .candidates import DOOR_WORDS, from_memory, move_verb
from .choice import Candidate, Chooser
from .commands import EXAMINE, readable
from .cycles import CycleGuard, state_key
from .effects import HOLD, NEVER, EffectTracker, refused
from .families import VETO, family_for
from .goal import GoalReader
from .instructions import Plan, carries_out, read_goal_plan, read_plan
from .prerequisites import HeatSources, step_work
from .subgoals import generic_prior, lock_checklist, lock_places
from .world import WorldView

log = logging.getLogger("graphmem_agents.ariadne")

MAP_RELATIONS = ("has exit",)  # move records and exits: the map shows them already
GO_TO_PRIOR, EXPLORE_PRIOR, OTHER_ROOM_PRIOR = 2.5, 1.0, -0.5
OBSERVATION_CHARS = 400  # the state lines above it already say what the room holds
NEXT_STEP_PRIOR = 6.0  # the next step of an ordered plan the game gave: played without a call
CHECKLIST_PRIOR = 3.0  # a step of a checklist the game gave (a recipe's directions)
REREAD_PRIOR = 3.0     # reading again what gave a plan now done (the next instruction may be there)
UNREAD_PRIOR = 1.5     # reading a readable thing not read yet (notes, books, problems tell what to do)
READ_AGAIN_COST = 2.0  # reading again what was read (cancels the prior of examining readable things)


class Ariadne:
    name = "ariadne"

    def __init__(self, llm: ChatModel, *, extractor: str = "offline", max_facts: int = 6,
                 shortlist: int = 8, temperature: float = 0.0, seed: int = 0, remember: bool = True,
                 families: bool = True) -> None:
        """``remember=False`` is the ablation with memory off: each step starts from an empty memory
        (no recalled facts, map, plan or failure ledger beyond the current observation; the
        episode's extractor reads it, since the extractor keeps nothing of what it read); the
        chooser and the loop guard over the last actions stay. ``families=False`` plays with the
        generic layer alone."""
        if extractor not in EXTRACTORS:
            raise ConfigError(f"extractor must be one of {', '.join(EXTRACTORS)}, not {extractor!r}")
        self.remember = remember
        self.families = families
        self.name = "ariadne" if remember and families else "ariadne-generic" if remember else "ariadne-nomem"
        self.llm = llm
        self.extractor = extractor
        self.max_facts = max_facts
        self.chooser = Chooser(llm, shortlist=shortlist, temperature=temperature, seed=seed)
        self.effects = EffectTracker()
        self.guard = CycleGuard()
        self.counts = {"path_moves": 0, "path_aborts": 0, "doors_opened": 0, "explores": 0, "vetoed": 0,
                       "blocked": 0, "plan_steps": 0, "restarts": 0}

    def _new_extractor(self) -> Extractor:
        extractor = make_extractor(self.extractor, self.llm)
        if isinstance(extractor, LLMExtractor):
            extractor.asker.retries = 0  # a corrective retry would be a third call in the step
        return extractor

    # --- protocol ------------------------------------------------------------------------------
    def reset(self, task: Task) -> None:
        self.task = task
        self.triple_extractor = self._new_extractor()  # one per episode: the offline one loads its parser once
        self.memory = Memory(extractor=self.triple_extractor)
        self.family = family_for(task.goal, self.llm, self.memory.embedder.encode) if self.families else None
        self.goal = GoalReader(task.goal)
        self.goal_plan = read_goal_plan(task.goal)
        self.answers: list[str] = answers(task.goal)  # results of arithmetic the game asked for
        self.plan: Plan | None = self.goal_plan
        self.effects.clear()
        self.guard.clear()
        self.read: set[str] = set()   # things read or examined (the game answered)
        self.room: str | None = None
        self.last_action: str | None = None
        self.last_score = 0.0
        self.path: list[tuple[str, str | None]] = []  # (direction, room it should reach) still to walk
        self.expected_room: str | None = None
        self.current_ids: set[str] = set()
        self.checklist: list[str] = []
        self.realising: dict[str, str] = {}  # command -> the plan step it does in the game's phrasing
        self.heat = HeatSources()
        self.step = 0
        if task.hint:  # what the player is told at the start is memory too ("key 1 opens the white locker")
            self.memory.observe(task.hint, 0)

    def act(self, result: StepResult) -> str | None:
        if result.done:
            return None
        self._perceive(result)
        current = self.memory.current()
        view = WorldView.read(current, self.room)
        self.guard.arrive(state_key(self.room, current))
        self.checklist = self._checklist(view)
        action = self._walk(result) if self.path else None
        if action is None:
            candidates = self._candidates(result, view)
            decision = self.chooser.choose(self.context(result, view), candidates)
            action = self._start(decision.command, result, view, candidates)
        if self.family:
            self.family.played(action)
        self.guard.played(action)
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
        if not self.remember:  # the ablation: nothing but this observation is known
            self.memory.close()
            self.memory = Memory(extractor=self.triple_extractor)  # a new graph: nothing kept
            self.effects.clear()
            self.room, self.plan, self.path, self.answers, self.read = None, None, [], [], set()
            self.heat = HeatSources()
        goal = self.task.goal.strip()
        restated = bool(goal) and goal in obs  # as after a restart
        seen = obs
        started_over = restated and self.remember and self.last_action is not None
        if started_over:
            self._world_started_over()
            seen = obs[obs.rfind(goal):]  # the new game's start: what came before is of the old one
        room = room_of(seen) or self.room
        observed = self.memory.observe(with_room(seen, room), self.step)
        self._follow_instructions(obs, restated)
        if self.last_action and self.last_action.startswith(("read ", "examine ")) and not refused(obs):
            self.read.add(self.last_action.split(" ", 1)[1])
        if self.last_action:
            self.heat.heard(self.last_action, obs)
        self.answers = list(dict.fromkeys(self.answers + answers(obs)))
        if self.last_action is not None:
            # A move that lost the game led nowhere on the map: the new game starts where it starts.
            moves = [] if started_over else move_triples(self.room, self.last_action, obs)
            new_map = 0
            if moves:
                new_map = len(self.memory.add_triples(moves, self.step, text=f"{self.last_action}: moved to {room}").added)
            self.effects.record(self.last_action, score_delta=result.score - self.last_score,
                                moved_to=room if room != self.room else None,
                                learned=[f"{t.subject} {t.relation} {t.object}" for t in observed.added],
                                other_changes=len(observed.retired) + new_map, response=obs)
        for t in observed.added:
            if is_location(t.relation):
                self.effects.forget_failures(t.subject)
        self.current_ids = set(observed.episode.triple_ids)
        self.room = room
        if self.expected_room is not None and self.room != self.expected_room:
            log.warning("path: expected to reach %r, am in %r; abandoning the path", self.expected_room, self.room)
            self.counts["path_aborts"] += 1
            self.path = []
        self.expected_room = None

    def _world_started_over(self) -> None:
        """The game started over (it was lost): its things are back where they began, so what the
        memory says of where they are and what state they are in is dropped, and what was read is
        worth reading again. The map stays, and so does what the game taught (refused verbs,
        failures, what its heat sources do)."""
        kept = [(t.subject, t.relation, t.object) for t in self.memory.current() if connection_direction(t.relation)]
        self.memory.close()
        self.memory = Memory(extractor=self.triple_extractor)
        if kept:
            self.memory.add_triples(kept, self.step, text="the map, as known before the game started over")
        self.read = set()
        self.counts["restarts"] += 1

    def _follow_instructions(self, obs: str, restated: bool) -> None:
        """Mark the plan's step the last action did, then take up any new instruction the text gives
        (the goal told again, as after a restart, restarts the goal's plan)."""
        if self.plan is not None and self.last_action is not None and not refused(obs):
            if self.plan.played(self.last_action, self.realising.get(self.last_action)):
                self.counts["plan_steps"] += 1
        if restated and self.last_action is not None:
            self.effects.record_loss(self.last_action)  # it ended the game: never again
        new = read_plan(obs, source=self.last_action)
        if new is None and restated:
            new = read_goal_plan(self.task.goal)
        if new is None and restated and self.plan is not None:  # the game started over: so does the plan
            new = Plan(self.plan.steps, self.plan.ordered, self.plan.source)
        # A list read again (a book re-read) keeps its progress; one command told again is new.
        again = self.plan is not None and new is not None and new.steps == self.plan.steps and len(new.steps) > 1
        if new is not None and (restated or not again):
            self.plan = new

    def _plan_commands(self, admissible: tuple[str, ...], unknown_verbs: set[str],
                       view: WorldView) -> dict[str, float]:
        """Commands doing the plan's wanted steps (or reading its source again once it is done),
        with their priors."""
        if self.plan is None:
            return {}
        out: dict[str, float] = {}
        if self.plan.complete():
            if self.plan.source and (not admissible or self.plan.source in admissible):
                out[self.plan.source] = REREAD_PRIOR
            return out
        prior = NEXT_STEP_PRIOR if self.plan.ordered else CHECKLIST_PRIOR
        self.realising = {}
        for step in self.plan.wanted():
            if step.startswith("take ") and view.carries(step[5:]):
                continue  # done another way (a step read again after it was done)
            listed = [c for c in admissible if carries_out(c, step)]
            if listed:
                out.update((c, prior) for c in listed)
            elif step.startswith("go ") and not admissible:
                out[f"{move_verb(unknown_verbs)} {step[3:]}"] = prior
            elif not step.startswith("go "):
                # No listed command does the step ("grill" where the list says "cook ... in ..."):
                # read it as without a list (as refused as written), keeping listed commands only.
                refused_before = step in self.effects.refusals or bool(admissible)
                work = step_work(step, view, refused_before, self.heat, self.effects.failed)
                usable = [c for c in work.commands if not admissible or c in admissible]
                out.update((c, prior) for c in usable)
                self.realising.update((c, step) for c in work.realises if c in usable)
        return {c: p for c, p in out.items() if not self.effects.gave_up(c)}

    # --- think ---------------------------------------------------------------------------------
    def _checklist(self, view: WorldView) -> list[str]:
        items = [f"next: {step}" for step in self.plan.wanted()[:3]] if self.plan else []
        items += self.family.checklist(view) if self.family else []
        items += lock_checklist(view)
        if view.rooms.unexplored():
            items.append("explore: exits not taken yet")
        return items

    def _commands(self, result: StepResult, view: WorldView) -> list[str]:
        """The game's command list when it gives one, else commands built from memory."""
        if result.admissible_commands:
            return list(result.admissible_commands)
        return from_memory(view, self.effects.unknown_verbs())

    def _candidates(self, result: StepResult, view: WorldView) -> list[Candidate]:
        blocked = self.effects.blocked()
        planned = self._plan_commands(result.admissible_commands, self.effects.unknown_verbs(), view)
        self.goal.instructed(self.plan, self.answers)
        named_seen = bool(self.goal.named_things(view))
        next_thing = self.goal.next_in_order(view)
        last_changed = bool(self.effects.recent) and self.effects.recent[-1].changed
        out, vetoed, kept_blocked = [], 0, []
        commands = self._commands(result, view)
        for command in commands + [c for c in planned if c not in commands]:
            prior = self.family.prior(command, view) if self.family else None
            prior = generic_prior(command, view) if prior is None else prior
            told = planned.get(command) == NEXT_STEP_PRIOR
            goal_part = self.goal.prior(command, view, named_seen, next_thing)
            if told:
                goal_part = max(goal_part, 0.0)  # the game's next step ("eat pea") is not charged for the goal's guesses
            prior += planned.get(command, 0.0) + goal_part
            prior += UNREAD_PRIOR if self._unread(command) else -READ_AGAIN_COST * self._read_again(command, planned)
            prior, standing = self.effects.judge(command, prior, told=told,
                                                 in_order=self.goal.moves_next(command, next_thing))
            prior -= self.guard.penalty(command, last_changed)
            if prior == VETO or standing == NEVER:
                vetoed += 1
            elif standing == HOLD:
                kept_blocked.append(Candidate(command, prior, "changed nothing last time"))
            else:
                out.append(Candidate(command, prior))
        self.counts["vetoed"] += vetoed
        self.counts["blocked"] += len(kept_blocked)
        wanted = (self.family.wanted_places(view) if self.family else []) + lock_places(view) \
            + self.goal.wanted_rooms(view)
        for room in view.rooms.reachable(self.room) if self.room else []:
            command = f"go to {room}"
            if command not in blocked:
                out.append(Candidate(command, GO_TO_PRIOR if room in wanted else OTHER_ROOM_PRIOR))
        if self.room and view.rooms.nearest_unexplored(self.room) and "explore" not in blocked:
            family_prior = self.family.prior("explore", view) if self.family else None
            out.append(Candidate("explore", EXPLORE_PRIOR if family_prior is None else family_prior))
        return out or kept_blocked or [Candidate(c) for c in commands or ["look"]]

    def _read_again(self, command: str, planned: dict[str, float]) -> bool:
        """Reading or examining again a readable thing already read, unless the plan asks for it
        (its source once the plan is done): the same text again."""
        m = EXAMINE.match(command)
        return m is not None and readable(m.group(1)) and m.group(1) in self.read and command not in planned

    def _unread(self, command: str) -> bool:
        words = command.split(" ", 1)
        if len(words) < 2 or words[0] != "read" or not readable(words[1]):
            return False
        return words[1] not in self.read

    def context(self, result: StepResult, view: WorldView) -> str:
        """State first, the stable parts at the top (the backend reuses the evaluated prefix)."""
        lines = [f"Goal: {self.task.goal or 'win the game (score points)'}"]
        if self.task.hint:
            lines.append(f"Hint: {self.task.hint}")
        lines += ["To do:", *[f"- {item}" for item in self.checklist[:6] or ["explore and score points"]]]
        lines += [
            f"Room: {self.room or 'unknown'}",
            f"Here: {view.describe_room()}",
            f"Carrying: {', '.join(view.carried()) or 'nothing'}",
            f"Exits: {self._exits(view)}",
        ]
        facts = self._recalled_facts() if self.remember else []
        if facts:
            lines += ["Known facts:", *facts]
        lines += [
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
        action = self._walk(result) if self.path else None
        if action is not None:
            return action
        # The walk could not start: play the best plain command instead.
        plain = [c for c in candidates if c.command != "explore" and not c.command.startswith("go to ")
                 or c.command in result.admissible_commands]
        return max(plain, key=lambda c: c.prior).command if plain else "look"

    def _walk(self, result: StepResult) -> str | None:
        """The next command on the path: the move, or opening a door in the way; None if blocked."""
        direction, reached = self.path[0]
        admissible = result.admissible_commands
        move = next((f"{v} {direction}" for v in ("go", "move") if f"{v} {direction}" in admissible), None)
        if not admissible:  # no list to check: the map says the exit is there
            move = f"{move_verb(self.effects.unknown_verbs())} {direction}"
        if move is not None and not (self.guard.loops(move) and reached is not None):
            self.path.pop(0)
            self.expected_room = reached
            self.counts["path_moves"] += 1
            return move
        door = next((c for c in admissible if c.startswith("open ") and any(w in c for w in DOOR_WORDS)), None)
        if door is not None and door != self.last_action:
            self.counts["doors_opened"] += 1
            return door
        log.warning("path: cannot go %s from %r (not admissible); abandoning the path", direction, self.room)
        self.counts["path_aborts"] += 1
        self.path = []
        return None
