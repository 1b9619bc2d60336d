"""The one chat interface every LLM user in graphmem goes through.

``ChatModel.chat`` owns what all backends share: the response cache (and replay mode), JSON parsing
and schema checks of structured replies, and usage accounting. A backend only implements
``_complete``: send messages, return text and token counts.
"""
from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

from ..errors import GraphmemError
from ..util.unicode import valid_unicode
from .cache import CACHE_MODES, CachedReply, ResponseCache, cache_key
from .jsonout import JSONReplyError, json_in_reply, validate
from .usage import Accounting, Usage

log = logging.getLogger("graphmem.llm")

Message = dict[str, str]


class LLMError(GraphmemError, RuntimeError):
    """Base of the errors this package raises on purpose."""


class LLMConfigError(LLMError, ValueError):
    """The backend cannot be set up (unknown spec, missing package, model, key...)."""


class LLMRequestError(LLMError):
    """The request failed for good (a non-transient error, or transient ones beyond the retries)."""


class ReplayMiss(LLMError):
    """Replay mode found no recorded reply for a request."""


class BadReply(LLMError):
    """A structured reply that is not JSON or breaks the schema. ``result`` holds the raw reply."""

    def __init__(self, reason: str, result: "ChatResult") -> None:
        super().__init__(reason)
        self.reason = reason
        self.result = result


@dataclass
class ChatResult:
    text: str
    data: object | None  # the parsed JSON when a schema was given
    prompt_tokens: int
    completion_tokens: int
    cached: bool
    latency: float  # seconds, cache lookups included


@dataclass
class Scores:
    """Log-probabilities of candidate replies after one shared prompt (``ChatModel.score``)."""

    logprobs: list[float]  # per option: sum of its tokens' log-probabilities (end of turn included)
    tokens: list[int]      # per option: how many tokens were scored
    prompt_tokens: int
    cached: bool = False

    def mean(self) -> list[float]:
        """Per-token means: long options are not penalised for their length alone."""
        return [lp / max(n, 1) for lp, n in zip(self.logprobs, self.tokens)]


@dataclass
class Completion:
    """What a backend returns for one request."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None = None


def with_json_instruction(messages: Sequence[Message], schema: dict) -> list[Message]:
    """``messages`` with the schema spelled out in the system message, for backends that cannot
    enforce it. One system message is kept because several chat templates reject a second."""
    note = ("Reply with only a JSON value that follows this JSON schema:\n"
            + json.dumps(schema, separators=(",", ":")))
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0]['content']}\n\n{note}"
    else:
        out.insert(0, {"role": "system", "content": note})
    return out


class ChatModel(ABC):
    backend: str = ""

    def __init__(
        self,
        model: str,
        *,
        cache: ResponseCache | None = None,
        cache_mode: str = "on",
        accounting: Accounting | None = None,
        prompt_price: float = 0.0,
        completion_price: float = 0.0,
        timeout: float | None = None,
    ) -> None:
        """``cache_mode``: on (read and write), off (ignore the cache), replay (read only; a miss is
        an error). Prices are per million tokens and only feed ``Usage.cost``. ``timeout``: the most
        seconds one ``chat`` call may take, retries included (None: no limit); the backend enforces
        it and raises LLMRequestError when it runs out."""
        if cache_mode not in CACHE_MODES:
            raise LLMConfigError(f"cache_mode must be one of {CACHE_MODES}, not {cache_mode!r}")
        if cache_mode == "replay" and cache is None:
            raise LLMConfigError("replay mode needs a response cache")
        if timeout is not None and not timeout > 0:
            raise LLMConfigError(f"the LLM timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = timeout
        self.model = model
        self.cache = cache if cache_mode != "off" else None
        self.cache_mode = cache_mode
        self.usage = accounting or Accounting()
        self._prices = (prompt_price, completion_price)

    @property
    def name(self) -> str:
        return f"{self.backend}:{self.model}"

    def chat(
        self,
        messages: Sequence[Message],
        *,
        schema: dict | None = None,
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int = 0,
    ) -> ChatResult:
        """One reply to ``messages``. With ``schema``, ``data`` holds the validated JSON reply, and a
        reply that is not valid raises BadReply (after being counted; it is never cached)."""
        messages = [{**m, "content": valid_unicode(m["content"])} for m in messages]  # the client would refuse one
        started = time.perf_counter()
        key = cache_key(backend=self.backend, model=self._cache_model(), messages=messages,
                        schema=schema, temperature=temperature, max_tokens=max_tokens, seed=seed)
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is not None:
            self.usage.add(Usage(cached=1))
            result = ChatResult(hit.text, None, hit.prompt_tokens, hit.completion_tokens, True,
                                time.perf_counter() - started)
            return self._checked(result, schema, None)
        if self.cache_mode == "replay":
            assert self.cache is not None  # __init__ refuses replay without a cache
            raise ReplayMiss(
                f"replay mode: no recorded reply from {self.name} for this request (cache "
                f"{self.cache.path}, key {key[:12]}). Record it by running once without replay, or "
                "check that the model, prompts and parameters match the recorded run.")
        done = self._complete(messages, schema=schema, temperature=temperature,
                              max_tokens=max_tokens, seed=seed)
        latency = time.perf_counter() - started
        self.usage.add(Usage(
            calls=1, prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens,
            seconds=latency,
            cost=(done.prompt_tokens * self._prices[0] + done.completion_tokens * self._prices[1]) / 1e6,
        ))
        result = ChatResult(done.text, None, done.prompt_tokens, done.completion_tokens, False, latency)
        result = self._checked(result, schema, done.finish_reason)
        if self.cache is not None:
            self.cache.put(key, CachedReply(done.text, done.prompt_tokens, done.completion_tokens),
                           backend=self.backend, model=self._cache_model())
        return result

    @staticmethod
    def _checked(result: ChatResult, schema: dict | None, finish_reason: str | None) -> ChatResult:
        if schema is None:
            return result
        try:
            data = json_in_reply(result.text)
            validate(data, schema)
        except JSONReplyError as exc:
            reason = str(exc)
            if finish_reason == "length":
                reason = f"reply cut off at max_tokens ({result.completion_tokens} tokens): {reason}"
            raise BadReply(reason, result) from None
        result.data = data
        return result

    # --- scoring candidate replies ---------------------------------------------------------------
    @property
    def can_score(self) -> bool:
        """Whether ``score`` works (a backend that exposes token log-probabilities of a prompt)."""
        return type(self)._score is not ChatModel._score

    def score(self, messages: Sequence[Message], options: Sequence[str]) -> Scores:
        """How likely the model finds each option as the whole assistant reply to ``messages``.

        One evaluation of the shared prompt, then only the options' tokens: far cheaper than
        generating, and no first-token lock-in. Cached and replayed like ``chat``."""
        if not self.can_score:
            raise LLMConfigError(f"{self.name} cannot score options (no token log-probabilities)")
        messages, options = [dict(m) for m in messages], list(options)
        started = time.perf_counter()
        key = cache_key(backend=self.backend, model=self._cache_model(), messages=messages,
                        score_options=options)
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is not None:
            self.usage.add(Usage(cached=1))
            data = json.loads(hit.text)
            return Scores(data["logprobs"], data["tokens"], hit.prompt_tokens, cached=True)
        if self.cache_mode == "replay":
            assert self.cache is not None  # __init__ refuses replay without a cache
            raise ReplayMiss(f"replay mode: no recorded scores from {self.name} for this request "
                             f"(cache {self.cache.path}, key {key[:12]})")
        scores = self._score(messages, options)
        self.usage.add(Usage(calls=1, prompt_tokens=scores.prompt_tokens, seconds=time.perf_counter() - started))
        if self.cache is not None:
            text = json.dumps({"logprobs": scores.logprobs, "tokens": scores.tokens})
            self.cache.put(key, CachedReply(text, scores.prompt_tokens, 0), backend=self.backend,
                           model=self._cache_model())
        return scores

    def _score(self, messages: list[Message], options: list[str]) -> Scores:
        """Backends with log-probabilities override this."""
        raise NotImplementedError

    def _cache_model(self) -> str:
        """The model's identity in cache keys (a backend may make it stricter than the name)."""
        return self.model

    @abstractmethod
    def _complete(self, messages: list[Message], *, schema: dict | None, temperature: float,
                  max_tokens: int, seed: int) -> Completion:
        """Send one request to the backend (structured output enforced if the backend can)."""
