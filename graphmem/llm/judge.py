"""LLM judge of outdated facts: which current triples do newly observed ones make false?

Conservative by construction: the model is asked to retire only facts about the same aspect of the
same thing, and the code vetoes anything else: a fact identical to a new one, or one whose aspect
(subject plus relation, all location relations counting as one) no new fact talks about. The model
adds judgement within an aspect (which values exclude each other); a bad reply retires nothing.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Sequence

from ..errors import ConfigError
from ..model import Triple
from ..normalize import canonical_entity, canonical_relation
from ..profiles import TEXT_GAME, DomainProfile
from .base import ChatModel
from .jsonout import JSONReplyError
from .structured import JSONAsker

log = logging.getLogger("graphmem.llm")

OUTDATED_SCHEMA = {
    "type": "object",
    "properties": {"outdated": {"type": "array", "items": {"type": "integer"}}},
    "required": ["outdated"],
}

EXAMPLE_NEW = [("apple", "in", "inventory"), ("fridge", "is", "open")]
EXAMPLE_OLD = [("apple", "on", "table"), ("fridge", "is", "closed"), ("table", "in", "kitchen"),
               ("fridge", "in", "kitchen")]
EXAMPLE_REPLY = {"outdated": [1, 2]}


class LLMJudge:
    def __init__(self, llm: ChatModel, *, profile: DomainProfile = TEXT_GAME, max_tokens: int = 64) -> None:
        if profile.prompts is None:
            raise ConfigError(f"the {profile.name!r} profile has no LLM prompts: the LLM judge needs them")
        self.profile = profile
        self.prompts = profile.prompts
        self.asker = JSONAsker(llm, OUTDATED_SCHEMA, task="judge", max_tokens=max_tokens)
        self.vetoed = 0  # retirements the model proposed and the code refused

    @property
    def stats(self) -> dict:
        return {**vars(self.asker.stats), "vetoed": self.vetoed}

    def outdated(self, new: Sequence[Triple], existing: Sequence[Triple]) -> list[str]:
        """Ids of ``existing`` triples replaced by ``new``, in ``existing`` order."""
        if not new or not existing:
            return []

        def in_range(data: Any) -> None:
            bad = [i for i in data["outdated"] if not 1 <= i <= len(existing)]
            if bad:
                raise JSONReplyError(f"numbers {bad} are not between 1 and {len(existing)}")

        answer = self.asker.ask(self.messages(new, existing), check=in_range)
        if answer.data is None:
            return []
        chosen = set(answer.data["outdated"])
        new_facts = {_fact(t.subject, t.relation, t.object) for t in new}
        new_aspects = {self._aspect(t) for t in new}
        out = []
        for i, old in enumerate(existing, start=1):
            if i not in chosen:
                continue
            if _fact(old.subject, old.relation, old.object) in new_facts or self._aspect(old) not in new_aspects:
                self.vetoed += 1
                log.info("judge: kept %r (not a same-aspect conflict with the new facts)", old.text)
                continue
            out.append(old.id)
        return out

    def _aspect(self, t: Triple) -> tuple[str, str]:
        return canonical_entity(t.subject), self.profile.aspect(canonical_relation(t.relation))

    def messages(self, new: Sequence[Triple], existing: Sequence[Triple]) -> list[dict]:
        return [
            {"role": "system", "content": self.prompts.judge_system},
            {"role": "user", "content": _user(EXAMPLE_NEW, EXAMPLE_OLD)},
            {"role": "assistant", "content": json.dumps(EXAMPLE_REPLY)},
            {"role": "user", "content": _user([(t.subject, t.relation, t.object) for t in new],
                                              [(t.subject, t.relation, t.object) for t in existing])},
        ]


def _user(new: Sequence[tuple[str, str, str]], old: Sequence[tuple[str, str, str]]) -> str:
    lines = ["New facts:"] + [f"- {', '.join(t)}" for t in new] + ["Existing facts:"]
    lines += [f"{i}. {', '.join(t)}" for i, t in enumerate(old, start=1)]
    return "\n".join(lines)


def _fact(s: str, r: str, o: str) -> tuple[str, str, str]:
    return canonical_entity(s), canonical_relation(r), canonical_entity(o)
