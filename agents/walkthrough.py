"""An agent that replays a game's walkthrough: the sanity check of the environment wrapper."""
from __future__ import annotations

from typing import Sequence

from environments.textworld import StepResult, TextWorldEnv


class WalkthroughAgent:
    """Plays the given commands in order, then stops (``act`` returns None).

    Invalid commands (the shared hunt walkthrough has "unclock ...") are simply played: the game
    answers with an error message and the replay goes on.
    """

    name = "walkthrough"

    def __init__(self, commands: Sequence[str]):
        if not commands:
            raise ValueError("no walkthrough for this game: give one in the task file, or use a "
                             "generated game (their walkthrough comes with them)")
        self.commands = tuple(commands)
        self._next = 0

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
