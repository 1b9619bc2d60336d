"""Answer a question from retrieved passages with a chat model (one call, JSON reply)."""
from __future__ import annotations

import logging
from typing import Sequence

from graphmem.errors import GraphmemError

log = logging.getLogger(__name__)

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}
SYSTEM = (
    "You answer multi-hop questions from the given passages. Chain the facts across passages. "
    "Reply with JSON {\"answer\": \"...\"}: the shortest span that answers the question (a name, "
    "date, number, place or yes/no), no explanation."
)


def build_messages(question: str, passages: Sequence) -> list[dict]:
    """Passages as numbered, titled blocks, then the question."""
    blocks = [f"[{i}] {p.title}\n{p.text.strip()}" for i, p in enumerate(passages, 1)]
    user = "Passages:\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


class Answerer:
    """``llm`` is any chat model with ``chat(messages, schema=..., max_tokens=...)`` returning a
    result whose ``data`` is the parsed JSON (graphmem.llm's ChatModel)."""

    def __init__(self, llm, top_k: int = 5, max_tokens: int = 64):
        self.llm = llm
        self.top_k = top_k
        self.max_tokens = max_tokens
        self.failures = 0

    def answer(self, question: str, passages: Sequence) -> str:
        messages = build_messages(question, passages[: self.top_k])
        try:
            reply = self.llm.chat(messages, schema=SCHEMA, max_tokens=self.max_tokens)
        except GraphmemError as exc:  # a bad reply or a failed request must not end a long evaluation
            self.failures += 1
            log.warning("answering failed (%d so far), counted as an empty answer: %s",
                        self.failures, exc)
            return ""
        data = reply.data if isinstance(reply.data, dict) else {}
        return str(data.get("answer", "")).strip()
