"""A small reset/step wrapper over TextWorld's gym-free API (``textworld.start``)."""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

from ..episode import StepResult, check_can_step
from .cleaning import CleaningScorer
from .games import GameError, Task, check_game_file, task_for_game_file
from .observation import clean_observation

log = logging.getLogger(__name__)


class TextWorldEnv:
    """One game, played in episodes of at most ``max_steps`` steps.

    Score comes from the game's quests, or, for cleaning tasks (games without quests), from a
    CleaningScorer over the state facts. Play is deterministic: the z-machine has no randomness
    left once the game file is fixed (generation takes the seed).
    """

    def __init__(self, game: Task | str | Path, max_steps: int | None = None):
        import textworld

        self.task = game if isinstance(game, Task) else task_for_game_file(Path(game))
        if not self.task.game_path.is_file():
            raise GameError(f"Game file not found: {self.task.game_path}")
        check_game_file(self.task.game_path)
        if not self.task.game_path.with_suffix(".json").is_file():  # the state facts come from it
            raise GameError(f"{self.task.game_path} is not a playable game here: its TextWorld metadata "
                            f"{self.task.game_path.with_suffix('.json').name} is missing (tw-make writes "
                            f"it beside the game)")
        self.max_steps = max_steps if max_steps is not None else self.task.max_steps
        infos = textworld.EnvInfos(admissible_commands=True, facts=True, score=True, max_score=True,
                                   won=True, lost=True, extras=["walkthrough"])
        with warnings.catch_warnings():
            # Jericho cannot track score in TextWorld games; TextWorld tracks it itself.
            warnings.filterwarnings("ignore", message=".*not fully supported.*")
            self._env = textworld.start(str(self.task.game_path), request_infos=infos)
        self._scorer: CleaningScorer | None = None
        self._moves = 0
        self._last: StepResult | None = None
        self.game_walkthrough: tuple[str, ...] | None = None

    def reset(self) -> StepResult:
        state = self._env.reset()
        self._moves = 0
        walkthrough = state.get("extra.walkthrough")
        self.game_walkthrough = tuple(walkthrough) if walkthrough else None
        if self.task.clean_place is not None:  # a cleaning task
            self._scorer = CleaningScorer(self.task.clean_place, state["facts"])
        self._last = self._result(state)
        return self._last

    def step(self, command: str) -> StepResult:
        check_can_step(self._last)
        state, _, _ = self._env.step(command)
        self._moves += 1
        self._last = self._result(state)
        return self._last

    def walkthrough(self) -> tuple[str, ...] | None:
        """The task file's walkthrough, else the game's own (call after reset)."""
        return self.task.walkthrough or self.game_walkthrough

    def _result(self, state) -> StepResult:
        facts = tuple(state["facts"] or ())
        if self._scorer is not None:
            score = float(self._scorer.update(facts))
            max_score = float(self._scorer.max_score)
            won = max_score > 0 and score >= max_score
            lost = False
        else:
            score, max_score = float(state["score"]), float(state["max_score"])
            won, lost = bool(state["won"]), bool(state["lost"])
        truncated = self._moves >= self.max_steps
        raw = state.feedback or ""
        return StepResult(
            observation=clean_observation(raw), raw=raw,
            admissible_commands=tuple(sorted(state["admissible_commands"] or ())),
            score=score, max_score=max_score, done=won or lost or truncated or bool(state.done),
            won=won, lost=lost, truncated=truncated and not (won or lost), moves=self._moves, facts=facts)

    def close(self) -> None:
        self._env.close()

    def __enter__(self) -> "TextWorldEnv":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
