"""AriGraph-style LLM extraction: an observation becomes short atomic triples in the project's
vocabulary, with the names of known triples shown so the model reuses them.

The prompt is kept short on purpose: a 1.5B model on 2 cores reads ~95 tokens/s. The fixed part
(instructions plus two worked examples) is a shared prefix the local backend evaluates once.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Sequence

from ..errors import ConfigError
from ..llm.base import ChatModel
from ..llm.structured import JSONAsker
from ..model import Triple
from ..profiles import EXIT, TEXT_GAME, DomainProfile
from .base import MAX_NAME_WORDS, RawTriple

log = logging.getLogger("graphmem.extract")

TRIPLES_SCHEMA = {
    "type": "object",
    "properties": {
        "triples": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 3},
        }
    },
    "required": ["triples"],
}

# Relations whose objects are values (states, directions), not names of things.
VALUE_RELATIONS = frozenset({"is", EXIT})


@dataclass
class Extraction:
    """Triples plus what producing them cost (for ``--json`` reports and run logs)."""

    triples: list[RawTriple]
    prompt_tokens: int
    completion_tokens: int
    cached: bool
    ok: bool  # False when the fallback ([]) was used

    def to_dict(self) -> dict:
        return {"triples": [list(t) for t in self.triples], "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "cached": self.cached, "ok": self.ok}


class LLMExtractor:
    name = "llm"

    def __init__(self, llm: ChatModel, *, profile: DomainProfile = TEXT_GAME, max_context: int = 15,
                 max_words: int = MAX_NAME_WORDS, max_tokens: int = 384) -> None:
        self.llm = llm
        if profile.prompts is None:
            raise ConfigError(f"the {profile.name!r} profile has no LLM prompts: the LLM extractor needs them")
        self.prompts = profile.prompts
        self.max_context = max_context
        self.max_words = max_words
        self.asker = JSONAsker(llm, TRIPLES_SCHEMA, task="extract", max_tokens=max_tokens)
        self.dropped = 0  # triples discarded for empty or overlong parts

    @property
    def stats(self) -> dict:
        return {**vars(self.asker.stats), "dropped": self.dropped}

    def extract(self, text: str, context: Sequence[Triple] = ()) -> list[RawTriple]:
        return self.extract_report(text, context).triples

    def extract_report(self, text: str, context: Sequence[Triple] = ()) -> Extraction:
        answer = self.asker.ask(self.messages(text, context))
        triples = self._clean(answer.data["triples"]) if answer.data is not None else []
        return Extraction(triples, answer.prompt_tokens, answer.completion_tokens, answer.cached,
                          answer.data is not None)

    def messages(self, text: str, context: Sequence[Triple] = ()) -> list[dict]:
        prompts = self.prompts
        messages = [{"role": "system", "content": prompts.extract_system}]
        for known, example, reply in prompts.extract_examples:
            messages += [{"role": "user", "content": _user(example, known, prompts.text_label)},
                         {"role": "assistant", "content": json.dumps({"triples": [list(t) for t in reply]})}]
        messages.append({"role": "user", "content": _user(text.strip(), self._known(context), prompts.text_label)})
        return messages

    def _known(self, context: Sequence[Triple]) -> str:
        """The names used by the most recent known triples, newest first. Names rather than whole
        triples: small models copy shown triples into their answer as if they were new."""
        shown = list(context)[-self.max_context:] if self.max_context else []
        names = dict.fromkeys(n for t in reversed(shown) for n in (
            (t.subject,) if t.relation in VALUE_RELATIONS else (t.subject, t.object)))
        return ", ".join(names) or "(none)"

    def _clean(self, rows: list[list[str]]) -> list[RawTriple]:
        out: list[RawTriple] = []
        seen: set[tuple[str, ...]] = set()
        for row in rows:
            parts = tuple(" ".join(p.split()) for p in row)
            if not all(parts) or any(len(p.split()) > self.max_words for p in parts):
                self.dropped += 1
                log.info("dropped malformed triple %r", row)
                continue
            key = tuple(p.casefold() for p in parts)
            if key not in seen:
                seen.add(key)
                out.append(parts)  # type: ignore[arg-type]
        return out


def _user(text: str, known: str, label: str) -> str:
    return f"Known names: {known}\n{label}:\n{text}"
