"""Answer a question about a conversation from some of its turns with a chat model (one call).

Two readers share the prompt: ``TurnAnswerer`` reads the turns memory retrieved, in the order they
were said; ``FullContextAnswerer`` reads as much of the conversation as fits the model's context,
the most recent turns first (the baseline memory must beat). Both count prompt tokens per question.
"""
from __future__ import annotations

import logging
from typing import Sequence

from graphmem.errors import GraphmemError
from graphmem.llm.base import LLMRequestError
from graphmem.model import Episode

from .conversation import turn_block

log = logging.getLogger(__name__)

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
SYSTEM = (
    "You answer questions about a conversation between two people from excerpts of it. Each "
    "excerpt starts with the date and time it was said; a date in [brackets] after a phrase such "
    "as 'yesterday' says which day that phrase meant. Reply with JSON {\"answer\": \"...\"}: a short "
    "answer of a few words (a name, a date such as '7 May 2023', a year, or a list separated by "
    "commas), no explanation. If the excerpts do not say, answer \"Not mentioned in the "
    "conversation\".")
CHARS_PER_TOKEN = 3.5  # a safe estimate for English chat text: the budget must not overflow the context


class TurnAnswerer:
    """``llm``: a graphmem chat model. ``max_tokens``: the answer's length."""

    def __init__(self, llm, max_tokens: int = 48):
        self.llm = llm
        self.max_tokens = max_tokens
        self.failures = 0
        self.prompt_tokens: list[int] = []

    def messages(self, question: str, turns: Sequence[Episode]) -> list[dict]:
        ordered = sorted(turns, key=lambda e: (e.step, e.id))
        user = "Conversation excerpts:\n" + "\n".join(turn_block(e) for e in ordered) + f"\n\nQuestion: {question}"
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]

    def answer(self, question, turns: Sequence[Episode]) -> str:
        text = getattr(question, "question", question)
        try:
            reply = self._reply(text, turns)
        except GraphmemError as exc:  # one bad reply must not end a long evaluation
            self.failures += 1
            log.warning("answering failed (%d so far), counted as an empty answer: %s", self.failures, exc)
            self.prompt_tokens.append(0)
            return ""
        self.prompt_tokens.append(reply.prompt_tokens)
        data = reply.data if isinstance(reply.data, dict) else {}
        return str(data.get("answer", "")).strip()

    def _reply(self, question: str, turns: Sequence[Episode]):
        return self.llm.chat(self.messages(question, turns), schema=SCHEMA, max_tokens=self.max_tokens)


class FullContextAnswerer(TurnAnswerer):
    """Reads the most recent turns that fit ``context_tokens`` (default: the model's context less
    the answer and the prompt's frame)."""

    def __init__(self, llm, max_tokens: int = 48, context_tokens: int | None = None):
        super().__init__(llm, max_tokens)
        n_ctx = getattr(llm, "n_ctx", None) or 4096
        self.context_tokens = context_tokens or n_ctx - max_tokens - 300

    def _reply(self, question: str, turns: Sequence[Episode]):
        """The most recent turns the context holds: the character estimate can overshoot on text
        with many short words, so a prompt the model refuses is sent again a fifth shorter."""
        share = 1.0
        while True:
            try:
                return super()._reply(question, self.shown(turns, share))
            except LLMRequestError as exc:
                if "context" not in str(exc) or share < 0.5:
                    raise
                share *= 0.8

    def shown(self, turns: Sequence[Episode], share: float = 1.0) -> list[Episode]:
        budget = self.context_tokens * CHARS_PER_TOKEN * share
        kept: list[Episode] = []
        for e in sorted(turns, key=lambda e: (e.step, e.id), reverse=True):
            budget -= len(turn_block(e)) + 1
            if budget < 0:
                break
            kept.append(e)
        return kept
