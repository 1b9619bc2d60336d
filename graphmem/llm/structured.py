"""Asking for a JSON reply with one corrective retry and a counted, logged fallback.

Long runs must never die on one bad reply: the caller gets ``None`` and decides the safe default.
Request failures (server down beyond the retries, replay misses) still raise, since no default
answer would be honest there.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .base import BadReply, ChatModel, ChatResult, Message
from .jsonout import JSONReplyError

log = logging.getLogger("graphmem.llm")


@dataclass
class ReplyStats:
    requests: int = 0
    retried: int = 0
    failed: int = 0  # requests answered by the caller's fallback


@dataclass
class Answer:
    data: Any  # the reply's JSON, valid for the schema; None when every attempt was bad
    results: list[ChatResult] = field(default_factory=list)

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.results)

    @property
    def completion_tokens(self) -> int:
        return sum(r.completion_tokens for r in self.results)

    @property
    def cached(self) -> bool:
        return bool(self.results) and all(r.cached for r in self.results)


class JSONAsker:
    def __init__(self, llm: ChatModel, schema: dict, *, task: str, max_tokens: int, retries: int = 1):
        self.llm, self.schema, self.task = llm, schema, task
        self.max_tokens, self.retries = max_tokens, retries
        self.stats = ReplyStats()

    def ask(self, messages: Sequence[Message],
            check: Callable[[Any], None] | None = None) -> Answer:
        """``check`` may raise JSONReplyError for replies that fit the schema but make no sense."""
        self.stats.requests += 1
        messages = list(messages)
        answer = Answer(None)
        for attempt in range(self.retries + 1):
            try:
                result = self.llm.chat(messages, schema=self.schema, max_tokens=self.max_tokens)
                if check is not None:
                    check(result.data)
            except BadReply as exc:
                result, problem = exc.result, exc.reason
            except JSONReplyError as exc:
                problem = str(exc)
            else:
                answer.results.append(result)
                answer.data = result.data
                return answer
            answer.results.append(result)
            log.warning("%s: bad LLM reply (attempt %d of %d): %s", self.task, attempt + 1,
                        self.retries + 1, problem)
            if attempt < self.retries:
                self.stats.retried += 1
                # Show the model its reply and the problem: a new prompt, so no cache repeat either.
                messages = messages + [
                    {"role": "assistant", "content": result.text},
                    {"role": "user", "content": f"That reply was invalid ({problem}). Reply again with JSON only."},
                ]
        self.stats.failed += 1
        # The caller decides what stands in (a default, or what the cut-off reply still holds).
        log.warning("%s: no valid reply after %d attempts; the caller's fallback takes over", self.task,
                    self.retries + 1)
        return answer
