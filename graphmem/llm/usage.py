"""Token, call and time accounting for LLM use: per call, per step (snapshot deltas) and per run."""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Usage:
    """Totals of LLM use. Tokens and seconds count live calls only; cache hits count in ``cached``."""

    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cost: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def __sub__(self, other: "Usage") -> "Usage":
        return Usage(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        d["cost"] = round(self.cost, 6)
        d["total_tokens"] = self.total_tokens
        return d


class Accounting:
    """A running, thread-safe total. ``snapshot()`` now, ``since(snap)`` later gives a step's usage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = Usage()

    def add(self, usage: Usage) -> None:
        with self._lock:
            self._total = self._total + usage

    def snapshot(self) -> Usage:
        with self._lock:
            return self._total

    def since(self, snapshot: Usage) -> Usage:
        return self.snapshot() - snapshot

    def reset(self) -> Usage:
        """Zero the totals and return what they were."""
        with self._lock:
            total, self._total = self._total, Usage()
            return total
