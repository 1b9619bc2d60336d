"""Outdated-fact detection: which current triples do newly extracted ones replace?

The rule judge reads its rules from the domain profile (``graphmem.profiles``): single-valued
relations (in a text game a thing is in one place at a time: ``in``/``on`` and their variants), gone
states (nowhere once eaten or destroyed) and state groups (one value per group: open/closed/locked,
raw/cooked...). An LLM judge (``graphmem.llm.judge``) has the same ``outdated`` method. Which
existing facts a judge may see at all (another source's facts are off limits for documents) is
decided by ``Memory`` from the same profile. Replaced triples are retired (their ``valid_until`` is
set), never deleted, so history stays queryable.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from .model import Triple
from .profiles import TEXT_GAME, DomainProfile


class OutdatedJudge(Protocol):
    def outdated(self, new: Sequence[Triple], existing: Sequence[Triple]) -> list[str]:
        """Ids of ``existing`` triples that ``new`` ones replace."""


class RuleJudge:
    """Conservative rules for single-valued relations; anything else is left alone.

    Containers of containers are nested places, not rivals: "key in box" does not retire "box in room".
    """

    name = "rules"

    def __init__(self, profile: DomainProfile = TEXT_GAME):
        self.profile = profile
        self._aspects: dict[str, str | None] = {}  # relation -> _single's answer (asked per fact)

    def _single(self, relation: str) -> str | None:
        """The aspect a single-valued relation sets, None when the relation may have many values."""
        if relation not in self._aspects:
            aspect = self.profile.aspect(relation)
            self._aspects[relation] = aspect if aspect == "location" or relation in self.profile.single_valued \
                else None
        return self._aspects[relation]

    def at_stake(self, new: Sequence[Triple]) -> list[str]:
        """The subjects whose existing facts ``new`` may retire (their triples are all a judge of
        these rules needs to see): those given a place, a gone state or a state of a group."""
        out = []
        for t in new:
            if self._single(t.relation) is not None or (t.relation == "is" and (
                    t.object in self.profile.gone_states or self.profile.state_group(t.object) is not None)):
                out.append(t.subject)
        return list(dict.fromkeys(out))

    def outdated(self, new: Sequence[Triple], existing: Sequence[Triple]) -> list[str]:
        profile = self.profile
        placed: set[tuple[str, str]] = set()
        states: set[tuple[str, frozenset[str]]] = set()
        for t in new:
            aspect = self._single(t.relation)
            if aspect is not None:
                placed.add((t.subject, aspect))
            elif t.relation == "is" and t.object in profile.gone_states:
                placed.add((t.subject, "location"))
            group = profile.state_group(t.object) if t.relation == "is" else None
            if group is not None:
                states.add((t.subject, group))
        new_keys = {t.key for t in new}
        out = []
        for old in existing:
            if not old.current or old.key in new_keys:
                continue
            aspect = self._single(old.relation)
            if aspect is not None and (old.subject, aspect) in placed:
                out.append(old.id)
            elif old.relation == "is":
                group = profile.state_group(old.object)
                if group is not None and (old.subject, group) in states:
                    out.append(old.id)
        return out
