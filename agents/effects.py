"""Effect-aware loop control: what an action changed, and which actions are not worth repeating.

An action whose last try changed nothing (no score, no move, no fact added to or retired from the
memory) is blocked until the memory changes, and ranks below untried actions after that, so
"examine X" / "examine Y" cycles end as soon as each examine stops teaching anything. The record of recent actions with their effects goes into prompts.

Failures are remembered too: a response that refuses the command ("You can't", "That's not
something you can", "I'm not sure what you mean") makes it a failure whatever facts the text gave,
and a verb the game refused twice without ever accepting it ("Unknown action", "That's not a verb
I recognise") is a verb the game does not know.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from .commands import verb_of

REFUSED = re.compile(
    r"\b(?:you can't|you cannot|you can not|that's not something|is not something you|isn't something you|"
    r"i'm not sure what you mean|unknown action|i don't (?:understand|know)|you don't see|you see no|"
    r"not a verb i recogni[sz]e|can't see any such|you're not carrying|you aren't carrying|incorrect)\b", re.I)
UNKNOWN_VERB = re.compile(r"\b(?:unknown action|not a verb i recogni[sz]e|i'm not sure what you mean|"
                          r"i don't (?:understand|know) (?:that|the word))\b", re.I)
VERB_REFUSALS = 2  # refusals (of any commands with it) before a verb counts as unknown to the game


def refused(response: str) -> bool:
    """Whether the game's response refuses the command played."""
    return REFUSED.search(response or "") is not None


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
        self.failed: set[str] = set()      # actions the game refused (until they succeed)
        self.refusals: dict[str, int] = {}  # action -> times the game refused it
        self.verbs_accepted: set[str] = set()
        self._verb_refusals: dict[str, int] = {}
        self._texts: set[str] = set()             # every response seen
        self.stale: dict[str, int] = {}           # action -> times it answered a text seen before

    def _refusal(self, action: str, response: str) -> None:
        verb = verb_of(action)
        if UNKNOWN_VERB.search(response) and verb not in self.verbs_accepted:
            self._verb_refusals[verb] = self._verb_refusals.get(verb, 0) + 1

    def unknown_verbs(self) -> set[str]:
        """Verbs refused VERB_REFUSALS times and never accepted."""
        return {v for v, n in self._verb_refusals.items() if n >= VERB_REFUSALS}

    def record(self, action: str, *, score_delta: float, moved_to: str | None, learned: list[str],
               other_changes: int, response: str = "") -> Effect:
        """``learned``: facts the action's observation added; ``other_changes``: facts retired or
        map records added; ``response``: the game's text (a refusal makes the action a failure; a text
        seen before, as a book read twice, teaches nothing)."""
        text = " ".join(response.split())
        if text and text in self._texts and not moved_to and score_delta <= 0:
            self.stale[action] = self.stale.get(action, 0) + 1
        self._texts.add(text)
        if refused(response) and score_delta <= 0 and not moved_to:
            self._refusal(action, response)
            self.refusals[action] = self.refusals.get(action, 0) + 1
            effect = Effect(action, "failed: " + " ".join(response.split())[:60], False)
            self._dead[action] = self.version
            self.failed.add(action)
            self.recent.append(effect)
            return effect
        verb = verb_of(action)
        self.verbs_accepted.add(verb)
        self._verb_refusals.pop(verb, None)
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
        if learned or other_changes or moved_to:  # a move changes what is in reach: retry what failed
            self.version += 1
        if changed:
            self._dead.pop(action, None)
            self.failed.discard(action)
        else:
            self._dead[action] = self.version
        effect = Effect(action, "; ".join(parts) or "no effect", changed)
        self.recent.append(effect)
        return effect

    def forget_failures(self, thing: str) -> None:
        """``thing`` moved (taken, dropped, found elsewhere): what failed with it may work now."""
        about = [a for a in set(self.failed) | set(self.refusals) if f" {thing}" in f" {a} "]
        for action in about:
            self.failed.discard(action)
            self.refusals.pop(action, None)
            self._dead.pop(action, None)

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
        self.failed.clear()
        self.refusals.clear()
        self.verbs_accepted.clear()
        self._verb_refusals.clear()
        self._texts.clear()
        self.stale.clear()
        self.version = 0
