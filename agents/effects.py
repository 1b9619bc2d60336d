"""Effect-aware loop control: what an action changed, and which actions are not worth repeating.

An action whose last try changed nothing (no score, no move, no fact added to or retired from the
memory) is blocked until the memory changes, and ranks below untried actions after that, so
"examine X" / "examine Y" cycles end as soon as each examine stops teaching anything. The record of recent actions with their effects goes into prompts.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Effect:
    action: str
    summary: str       # "score +1", "moved to hallway", "learned: knife in inventory", "no effect"
    changed: bool


class EffectTracker:
    def __init__(self, shown: int = 3) -> None:
        self.recent: deque[Effect] = deque(maxlen=shown)
        self.version = 0                   # grows whenever the memory changes
        self._dead: dict[str, int] = {}    # action -> memory version when it last changed nothing

    def record(self, action: str, *, score_delta: float, moved_to: str | None, learned: list[str],
               other_changes: int) -> Effect:
        """``learned``: facts the action's observation added; ``other_changes``: facts retired or
        map records added."""
        parts = []
        if score_delta:
            parts.append(f"score {score_delta:+g}")
        if moved_to:
            parts.append(f"moved to {moved_to}")
        if learned:
            parts.append("learned: " + ", ".join(learned[:3]) + (" ..." if len(learned) > 3 else ""))
        elif other_changes:
            parts.append("state changed")
        changed = bool(parts)
        if learned or other_changes:
            self.version += 1
        if changed:
            self._dead.pop(action, None)
        else:
            self._dead[action] = self.version
        effect = Effect(action, "; ".join(parts) or "no effect", changed)
        self.recent.append(effect)
        return effect

    def blocked(self) -> set[str]:
        """Actions that changed nothing last time, with no memory change since."""
        return {a for a, v in self._dead.items() if v == self.version}

    def useless(self) -> set[str]:
        """Actions whose last try changed nothing, blocked or not (worth less than untried ones)."""
        return set(self._dead)

    def render(self) -> str:
        return "\n".join(f"> {e.action}: {e.summary}" for e in self.recent) or "(none)"

    def clear(self) -> None:
        self.recent.clear()
        self._dead.clear()
        self.version = 0
