"""Effect-aware loop control: what an action changed, and which actions are not worth repeating.

An action whose last try changed nothing (no score, no move, no fact added to or retired from the
memory) is blocked until the memory changes, and ranks below untried actions after that, so
"examine X" / "examine Y" cycles end as soon as each examine stops teaching anything. The record of recent actions with their effects goes into prompts.

Failures are remembered too: a response that refuses the command ("You can't", "That's not
something you can", "I'm not sure what you mean") makes it a failure whatever facts the text gave,
and a verb the game refused twice without ever accepting it ("Unknown action", "That's not a verb
I recognise") is a verb the game does not know. So is what lost: a command after which the game
started over is never offered again.

``judge`` is the one rule that turns this record into a command's standing, with one exception,
what the game told: the next step of an ordered plan it gave is offered whatever it did last time
(a told step is the way forward even when it taught nothing, and a restart tells it again), until
the game refuses it (then it is judged like any command) or refuses it GIVE_UP_REFUSALS times (then
it is no longer told at all: misread, or not doable yet).
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from graphmem.spatial import room_of

from .commands import verb_of

REFUSED = re.compile(
    r"\b(?:you can't|you cannot|you can not|that's not something|is not something you|isn't something you|"
    r"i'm not sure what you mean|unknown action|i don't (?:understand|know)|you don't see|you see no|"
    r"not a verb i recogni[sz]e|can't see any such|you're not carrying|you aren't carrying|incorrect)\b", re.I)
UNKNOWN_VERB = re.compile(r"\b(?:unknown action|not a verb i recogni[sz]e|i'm not sure what you mean|"
                          r"i don't (?:understand|know) (?:that|the word))\b", re.I)
VERB_REFUSALS = 2  # refusals (of any commands with it) before a verb counts as unknown to the game
USELESS_PENALTY = 2.0  # an action that changed nothing last time ranks below untried ones
STALE_PENALTY = 1.5    # per time an action answered with a text already seen (a book read again)
GIVE_UP_REFUSALS = 2   # a told step the game refused this often is no longer followed

# A command's standing (``EffectTracker.judge``): offered; held back, offered only when nothing else
# is (it changed nothing and the memory has not changed since); never offered (the game was lost).
OFFER, HOLD, NEVER = "offer", "hold", "never"


def refused(response: str) -> bool:
    """Whether the game's response refuses the command played. One that shows a room (the player
    arrived, or looked) refuses nothing, whatever its flavour text says ("You hear a noise behind
    you and spin around, but you can't see anything other than a chest")."""
    return REFUSED.search(response or "") is not None and room_of(response) is None


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
        self._verb_refusals: dict[str, list[str]] = {}  # verb -> the refused actions that count against it
        self._texts: set[str] = set()             # every response seen
        self.stale: dict[str, int] = {}           # action -> times it answered a text seen before
        self.lost: set[str] = set()               # actions after which the game started over

    def _refusal(self, action: str, response: str) -> None:
        verb = verb_of(action)
        if UNKNOWN_VERB.search(response) and verb not in self.verbs_accepted:
            self._verb_refusals.setdefault(verb, []).append(action)

    def unknown_verbs(self) -> set[str]:
        """Verbs refused VERB_REFUSALS times and never accepted."""
        return {v for v, actions in self._verb_refusals.items() if len(actions) >= VERB_REFUSALS}

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
        """``thing`` moved (taken, dropped, found elsewhere): what failed with it may work now, and
        its refusals no longer speak against their verb (a game that reads only what is held
        answers "unknown action" to reading what lies on the floor)."""
        def about(action: str) -> bool:
            return f" {thing}" in f" {action} "

        for action in [a for a in set(self.failed) | set(self.refusals) if about(a)]:
            self.failed.discard(action)
            self.refusals.pop(action, None)
            self._dead.pop(action, None)
        for actions in self._verb_refusals.values():
            actions[:] = [a for a in actions if not about(a)]

    def record_loss(self, action: str) -> None:
        """The game started over after ``action`` (it was lost): never offer it again unless told
        or wanted next by the goal's order (``judge``)."""
        self.lost.add(action)

    def gave_up(self, command: str) -> bool:
        """Whether a told ``command`` is no longer followed: the game refused it GIVE_UP_REFUSALS times."""
        return self.refusals.get(command, 0) >= GIVE_UP_REFUSALS

    def judge(self, command: str, prior: float, *, told: bool, in_order: bool = False) -> tuple[float, str]:
        """``command``'s prior less what its record costs (changed nothing last time, answered with
        a text seen before), and its standing: OFFER, HOLD or NEVER. ``told``: the command is the
        next step of an ordered plan the game gave; it is exempt from the costs and the hold while
        the game has not refused it, and from the loss veto always. ``in_order``: it moves the
        thing the goal's order wants next, so a loss it caused out of turn does not veto it now
        (a sorting game lost by putting the second thing first)."""
        heeded = told and command not in self.failed
        if not heeded:
            prior -= USELESS_PENALTY if command in self._dead else 0.0
            prior -= STALE_PENALTY * self.stale.get(command, 0)
        if command in self.lost and not (told or in_order):
            return prior, NEVER
        if command in self._dead and self._dead[command] == self.version and not heeded:
            return prior, HOLD
        return prior, OFFER

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
        self.lost.clear()
        self.version = 0
