"""Outdated-fact detection: which current triples do newly extracted ones replace?

The rule judge knows single-valued relations: a thing is in one place at a time (``in``/``on`` and
their variants), nowhere once used up (eaten, consumed...), and has one value per state group
(open/closed/locked, raw/cooked...). An LLM judge
(``graphmem.llm.judge``) has the same ``outdated`` method. Replaced triples are retired (their
``valid_until`` is set), never deleted, so history stays queryable.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from .model import Triple

LOCATION_RELATIONS = frozenset({"in", "on", "at", "inside", "is in", "is on", "is at", "located in",
                                "is located in", "lies on", "lies in"})
# Containers-of-containers are nested places, not rivals: "key in box" does not retire "box in room".
STATE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"open", "closed", "locked"}),
    frozenset({"raw", "cooked", "roasted", "fried", "grilled", "burned"}),
    frozenset({"sliced", "diced", "chopped", "uncut"}),
    frozenset({"on", "off"}),
)


# A thing in one of these states is nowhere any more: "meal is eaten" retires "meal in inventory".
GONE_STATES = frozenset({"eaten", "drunk", "consumed", "destroyed", "gone"})


class OutdatedJudge(Protocol):
    def outdated(self, new: Sequence[Triple], existing: Sequence[Triple]) -> list[str]:
        """Ids of ``existing`` triples that ``new`` ones replace."""


def _state_group(value: str) -> frozenset[str] | None:
    for group in STATE_GROUPS:
        if value in group:
            return group
    return None


class RuleJudge:
    """Conservative rules for single-valued relations; anything else is left alone."""

    name = "rules"

    def outdated(self, new: Sequence[Triple], existing: Sequence[Triple]) -> list[str]:
        located = {t.subject: t for t in new if t.relation in LOCATION_RELATIONS or
                   t.relation == "is" and t.object in GONE_STATES}
        states: dict[tuple[str, frozenset[str]], Triple] = {}
        for t in new:
            group = _state_group(t.object) if t.relation == "is" else None
            if group is not None:
                states[(t.subject, group)] = t
        new_keys = {t.key for t in new}
        out = []
        for old in existing:
            if not old.current or old.key in new_keys:
                continue
            if old.relation in LOCATION_RELATIONS and old.subject in located:
                out.append(old.id)
            elif old.relation == "is":
                group = _state_group(old.object)
                if group is not None and (old.subject, group) in states:
                    out.append(old.id)
        return out
