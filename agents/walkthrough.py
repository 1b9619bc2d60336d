"""An agent that replays a game's walkthrough: the sanity check of the environment wrapper."""
from __future__ import annotations

from typing import Sequence

from graphmem_environments.textworld import GameError, StepResult, Task, TextWorldEnv


class WalkthroughAgent:
    """Plays the given commands in order, then stops (``act`` returns None).

    Invalid commands (the shared hunt walkthrough has "unclock ...") are simply played: the game
    answers with an error message and the replay goes on.
    """

    name = "walkthrough"

    def __init__(self, commands: Sequence[str]):
        if not commands:
            raise GameError("no walkthrough for this game: give one in the task file, or use a "
                             "generated game (their walkthrough comes with them)")
        self.commands = tuple(commands)
        self._next = 0

    def reset(self, task: Task | None = None) -> None:
        self._next = 0

    def override(self, action: str) -> None:
        """Nothing to adjust: the replay follows the fixed command list."""

    def stats(self) -> dict:
        return {"memory_size": 0, "played": self._next}

    def act(self, result: StepResult) -> str | None:
        if result.done or self._next >= len(self.commands):
            return None
        command = self.commands[self._next]
        self._next += 1
        return command


def replay_walkthrough(env: TextWorldEnv) -> list[tuple[str | None, StepResult]]:
    """Reset ``env`` and replay its walkthrough; returns (command, result) pairs, reset first."""
    result = env.reset()
    agent = WalkthroughAgent(env.walkthrough() or ())
    trace: list[tuple[str | None, StepResult]] = [(None, result)]
    while (command := agent.act(result)) is not None:
        result = env.step(command)
        trace.append((command, result))
    return trace
