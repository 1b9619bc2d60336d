"""One TextWorldExpress game played the way TALES's benchmark plays it.

TALES's protocol (its benchmark.py and TWX wrapper): the agent first reads the task description,
a blank line and the game's first observation; the score is the game's (0..1, negative after a
failure) times 100 cut to an integer, and what counts is the HIGH score over the run (never below
0); a game that ends without a full win is restarted at once (the agent reads the last
observation, ``-= Restarting =-`` and the new first observation) and play goes on until the step
budget is spent or the game is won. So a run never ends lost: ``lost`` stays False and ``moves``
counts the agent's steps over every restart. Differences: the game fold follows the split
(TALES always asks the engine for its test fold, which plays other games for train/dev seeds).
"""
from __future__ import annotations

import logging
import math
import shutil
import subprocess
from pathlib import Path

from ..episode import DEFAULT_MAX_STEPS, StepResult, Task, check_can_step
from .suite import TWXError, check_split, game, seeds

log = logging.getLogger(__name__)

MAX_SCORE = 100
RESTART = "\n\n-= Restarting =-\n"
ONE_ACTION = "The game only allows one action per step."


def start_engine():
    """A running TextWorldExpress engine (a JVM behind a py4j gateway)."""
    if shutil.which("java") is None:
        raise TWXError("TextWorldExpress runs on Java and no `java` is on PATH: install a JRE "
                       "(scripts/setup.sh installs Debian's default-jre-headless)")
    try:
        import textworld_express
    except ImportError:
        raise TWXError("TextWorldExpress is not installed: pip install 'graphmem[games]'") from None
    return textworld_express.TextWorldExpressEnv(envStepLimit=math.inf)  # the step budget is ours


class TWXEnv:
    """Seed ``seed_index`` of ``split`` of the TALES game ``task_name``, in runs of ``max_steps``.

    ``admissible``: whether results list the game's valid actions (TALES gives none by default).
    One engine (JVM) per env: close it (or use ``with``).
    """

    def __init__(self, task_name: str, split: str = "test", seed_index: int = 0, admissible: bool = False,
                 max_steps: int = DEFAULT_MAX_STEPS):
        self.game = game(task_name)
        self.split = check_split(split)
        self.admissible = admissible
        self.max_steps = max_steps
        self._engine = start_engine()
        try:
            split_seeds = seeds(split, self._engine)
            if not 0 <= seed_index < len(split_seeds):
                raise TWXError(f"seed index {seed_index} is out of range: the {split} split has "
                               f"{len(split_seeds)} seeds (0..{len(split_seeds) - 1})")
            self.seed = split_seeds[seed_index]
            _, info = self._new_game()  # the task description is part of the game
        except BaseException:
            self.close()
            raise
        self.task = Task(name=self.game.name, game_path=Path("twx", self.game.game), goal=info["taskDescription"],
                         max_steps=max_steps)
        self._info: dict = info  # the engine's info on the game now played
        self._moves = 0
        self._high = 0
        self._last: StepResult | None = None

    def _new_game(self) -> tuple[str, dict]:
        """Start the game afresh: its opening text (task description first) and the engine's info."""
        obs, info = self._engine.reset(seed=self.seed, gameFold=self.split, gameName=self.game.game,
                                       gameParams=self.game.params, generateGoldPath=True)
        return f"{info['taskDescription']}\n\n{obs}", info

    def reset(self) -> StepResult:
        text, info = self._new_game()
        self._moves, self._high = 0, 0
        self._last = self._result(text, info, won=False)
        return self._last

    def step(self, command: str) -> StepResult:
        check_can_step(self._last)
        self._moves += 1
        if "\n" in command.strip():  # as TALES: the step is spent, the game is not played
            self._last = self._result(ONE_ACTION, self._info, won=False)
            return self._last
        obs, _, over, info = self._engine.step(command)
        self._high = max(self._high, int(info["score"] * MAX_SCORE))
        won = bool(info["tasksuccess"]) and self._high >= MAX_SCORE
        text = obs
        if over and not won and self._moves < self.max_steps:
            log.debug("%s: game over without a full win after %d steps; restarting", self.game.name, self._moves)
            first, info = self._new_game()
            text = obs + RESTART + first
        self._last = self._result(text, info, won=won)
        return self._last

    def _result(self, text: str, info: dict, *, won: bool) -> StepResult:
        self._info = info
        truncated = self._moves >= self.max_steps and not won
        valid = tuple(sorted(set(info["validActions"]))) if self.admissible else ()
        return StepResult(observation=text, raw=text, admissible_commands=valid, score=self._high,
                          max_score=MAX_SCORE, done=won or truncated, won=won, lost=False, truncated=truncated,
                          moves=self._moves)

    def walkthrough(self) -> tuple[str, ...] | None:
        """The engine's gold action sequence of the current game (call after reset)."""
        return tuple(self._engine.getGoldActionSequence()) or None

    def close(self) -> None:
        engine, self._engine = getattr(self, "_engine", None), None
        if engine is None:
            return
        engine.close()
        # Wait for the JVM to exit: the engine's __del__ closes again, and writing to a JVM still
        # shutting down fails with a broken pipe printed at exit.
        try:
            engine._gateway.java_process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            engine._gateway.java_process.kill()

    def __enter__(self) -> "TWXEnv":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
