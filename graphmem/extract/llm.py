"""AriGraph-style LLM extraction: an observation becomes short atomic triples in the project's
vocabulary, with known triples shown so the model reuses their names.

The prompt is kept short on purpose: a 1.5B model on 2 cores reads ~95 tokens/s, and the fixed
part (instructions plus one worked example) is a shared prefix the local backend caches.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Sequence

from ..llm.base import ChatModel
from ..llm.structured import JSONAsker
from ..model import Triple
from .base import RawTriple

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

SYSTEM = """You turn a text game observation into facts for a knowledge graph.
Write each fact as a triple [subject, relation, object]: atomic, each part at most 7 words.
Use these forms when they fit:
[item, "in", room or container]
[item, "on", supporter]
[item, "in", "inventory"] for items the player carries or has taken
[container, "is", "open" or "closed" or "locked"]
[room, "has exit", direction]
[room B, "is north of", room A] when going north from room A led to room B
Reuse the names of the known facts. Only state what the text says.
Reply as JSON: {"triples": [[subject, relation, object], ...]}"""

EXAMPLE_TEXT = ("Action: go south\n-= Pantry =-\nYou are in a pantry. On the shelf is a red apple. "
                "A closed wooden chest is here. There is an exit to the north. You take the knife.")
EXAMPLE_REPLY = {"triples": [
    ["pantry", "is south of", "kitchen"], ["red apple", "on", "shelf"], ["shelf", "in", "pantry"],
    ["wooden chest", "in", "pantry"], ["wooden chest", "is", "closed"],
    ["pantry", "has exit", "north"], ["knife", "in", "inventory"],
]}
EXAMPLE_CONTEXT = "kitchen, has exit, south"


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

    def __init__(self, llm: ChatModel, *, max_context: int = 20, max_words: int = 7,
                 max_tokens: int = 384) -> None:
        self.llm = llm
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
        return [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": _user(EXAMPLE_TEXT, EXAMPLE_CONTEXT)},
            {"role": "assistant", "content": json.dumps(EXAMPLE_REPLY)},
            {"role": "user", "content": _user(text.strip(), self._known(context))},
        ]

    def _known(self, context: Sequence[Triple]) -> str:
        shown = list(context)[-self.max_context:] if self.max_context else []  # the most recent
        return "; ".join(f"{t.subject}, {t.relation}, {t.object}" for t in shown) or "(none)"

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


def _user(text: str, known: str) -> str:
    return f"Known facts: {known}\nObservation:\n{text}"
