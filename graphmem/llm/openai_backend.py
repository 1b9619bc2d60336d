"""OpenAI-compatible chat backend (OpenAI, vLLM, Ollama, llama.cpp server...) via the ``openai`` package.

Retries belong to tenacity (the client's own retries are off) so that only transient failures are
retried, all within one deadline per call (``timeout``): each attempt gets the time that is left, so
a stalled server costs at most ``timeout`` seconds, never attempts x timeout. Structured output
degrades json_schema -> json_object -> schema in the prompt, remembering per client what the server
accepted. Reply bodies are read here, not by the client: a proxy's HTML page or a body without
``choices`` is a MalformedReply (retried like a server error), never an AttributeError.
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import openai
from tenacity import (Retrying, retry_if_exception, stop_after_attempt, stop_before_delay, wait_exponential,
                      wait_random)

from .base import ChatModel, Completion, LLMConfigError, LLMRequestError, Message, with_json_instruction

log = logging.getLogger("graphmem.llm")

STRUCTURED_MODES = ("json_schema", "json_object", "prompt")
DEFAULT_TIMEOUT = 120.0  # seconds per call, retries included


class MalformedReply(LLMRequestError):
    """An HTTP 200 whose body is not an OpenAI chat completion (HTML, bad JSON, no choices...)."""


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, timeouts, dropped connections, garbled bodies."""
    if isinstance(exc, (openai.APIConnectionError, MalformedReply)):  # includes APITimeoutError
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code == 429 or exc.status_code >= 500)


def parse_completion(body: str | bytes) -> Completion:
    """The Completion in a chat-completions response body; MalformedReply says what is wrong."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedReply(f"the reply is not JSON: {_clip(body)!r}") from None
    if not isinstance(doc, dict):
        raise MalformedReply(f"the reply is not a JSON object: {_clip(body)!r}")
    if "error" in doc and not doc.get("choices"):
        raise MalformedReply(f"the server answered with an error: {_clip(json.dumps(doc['error']))}")
    choices = doc.get("choices")
    if not isinstance(choices, list) or not choices:
        raise MalformedReply(f"the reply has no choices: {_clip(body)!r}")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(message, dict) or not isinstance(content, (str, type(None))):
        raise MalformedReply(f"the reply's first choice has no message text: {_clip(body)!r}")
    usage = found if isinstance(found := doc.get("usage"), dict) else {}
    finish = choice.get("finish_reason")
    return Completion(text=content or "", prompt_tokens=_count(usage.get("prompt_tokens")),
                      completion_tokens=_count(usage.get("completion_tokens")),
                      finish_reason=finish if isinstance(finish, str) else None)


def _count(value) -> int:
    return value if type(value) is int and value >= 0 else 0


def _clip(text: str | bytes, limit: int = 160) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class OpenAIChat(ChatModel):
    backend = "openai"
    timeout: float  # always a deadline here (the base class allows none)

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        attempt_timeout: float | None = None,
        max_attempts: int = 4,
        wait_initial: float = 1.0,
        wait_max: float = 30.0,
        **kwargs,
    ) -> None:
        model = model or os.environ.get("GRAPHMEM_MODEL")
        if not model:
            raise LLMConfigError("no model name for the OpenAI-compatible backend: use "
                                 "--llm openai:MODEL or set GRAPHMEM_MODEL")
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        # Local servers (vLLM, Ollama, llama.cpp) usually accept any key, but the client needs one.
        api_key = api_key or os.environ.get("OPENAI_API_KEY") or ("unused" if base_url else None)
        if not api_key:
            raise LLMConfigError("no API key: set OPENAI_API_KEY, or OPENAI_BASE_URL for a local "
                                 "server that needs none")
        super().__init__(model, timeout=timeout or DEFAULT_TIMEOUT, **kwargs)
        # ``timeout`` bounds a whole call; ``attempt_timeout`` (default: all that is left) one try.
        self.attempt_timeout = attempt_timeout or self.timeout
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=self.attempt_timeout,
                                     max_retries=0)
        self.base_url = str(self._client.base_url)
        self.max_attempts = max_attempts
        self._retrying = Retrying(
            # No new attempt once its backoff would end past the deadline.
            stop=stop_after_attempt(max_attempts) | stop_before_delay(self.timeout),
            # Exponential backoff plus jitter of the same scale, so that clients don't retry in step.
            wait=wait_exponential(multiplier=wait_initial, max=wait_max) + wait_random(0, wait_initial),
            retry=retry_if_exception(is_transient),
            before_sleep=lambda state: log.warning(
                "LLM request failed (%s); attempt %d of %d", _describe(state.outcome.exception() if state.outcome else None),
                state.attempt_number, max_attempts),
            reraise=True,
        )
        self.modes = list(STRUCTURED_MODES)  # what is still worth trying, best first

    def _complete(self, messages: list[Message], *, schema: dict | None, temperature: float,
                  max_tokens: int, seed: int) -> Completion:
        params: dict[str, Any] = dict(model=self.model, temperature=temperature, max_tokens=max_tokens, seed=seed)
        if schema is None:
            return self._send(messages, **params)
        for i, mode in enumerate(self.modes):
            last = i == len(self.modes) - 1
            try:
                done = self._send(*_structured(messages, schema, mode), **params, fallback_ok=not last)
            except _Rejected as exc:
                log.warning("server rejected %s output (%s); falling back to %s",
                            mode, exc, self.modes[i + 1])
                continue
            if i:
                self.modes = self.modes[i:]
            return done
        raise AssertionError("unreachable: the last mode never falls back")

    def _send(self, messages: list[Message], response_format: dict | None = None, *,
              fallback_ok: bool = False, **params) -> Completion:
        if response_format is not None:
            params["response_format"] = response_format
        deadline = time.monotonic() + self.timeout
        attempts = 0

        def attempt() -> Completion:
            nonlocal attempts
            attempts += 1
            left = max(0.05, min(self.attempt_timeout, deadline - time.monotonic()))
            # Our messages are plain dicts with the keys of openai's message TypedDicts.
            raw = self._client.chat.completions.with_raw_response.create(
                messages=messages, timeout=left, **params)  # type: ignore[arg-type]
            return parse_completion(raw.http_response.content)

        try:
            return self._retrying(attempt)
        except openai.APIStatusError as exc:
            if fallback_ok and exc.status_code in (400, 422):
                raise _Rejected(_describe(exc)) from exc
            raise LLMRequestError(self._explain(exc, attempts)) from exc
        except (openai.APIConnectionError, MalformedReply) as exc:
            raise LLMRequestError(self._explain(exc, attempts)) from exc

    def _explain(self, exc: openai.APIStatusError | openai.APIConnectionError | MalformedReply,
                 attempts: int) -> str:
        """A message that says what failed and what to check."""
        where = f"{self.base_url} (model {self.model!r})"
        tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(exc, openai.APITimeoutError):
            return (f"LLM request to {where} timed out {tries} within its {self.timeout:g} s deadline: check "
                    f"the server, or allow more time with --llm-timeout / GRAPHMEM_LLM_TIMEOUT")
        if isinstance(exc, MalformedReply):
            return (f"LLM server {where} sent no chat completion {tries} ({exc}): check that OPENAI_BASE_URL "
                    f"points at an OpenAI-compatible API (usually ending in /v1)")
        if isinstance(exc, openai.APIConnectionError):
            return f"cannot reach {where} {tries}: check OPENAI_BASE_URL and that the server is running"
        code = exc.status_code
        hint = {
            401: "check OPENAI_API_KEY",
            403: "check that the key may use this model",
            404: "check the model name (GRAPHMEM_MODEL / --llm openai:MODEL) and the base URL "
                 "(OPENAI_BASE_URL, usually ending in /v1)",
            429: f"rate limited {tries}: wait, or lower the request rate",
        }.get(code)
        if hint is None:
            hint = (f"server error {tries}: check the server's logs" if code >= 500 else
                    "check the request parameters (max_tokens, context length, response_format)")
        return f"LLM request to {where} failed: {_describe(exc)}; {hint}"


class _Rejected(Exception):
    """The server refused a structured-output mode (HTTP 400/422); try the next one."""


def _structured(messages: list[Message], schema: dict, mode: str) -> tuple[list[Message], dict | None]:
    if mode == "json_schema":
        return messages, {"type": "json_schema",
                          "json_schema": {"name": "reply", "schema": schema, "strict": False}}
    if mode == "json_object":
        return with_json_instruction(messages, schema), {"type": "json_object"}
    return with_json_instruction(messages, schema), None


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"
