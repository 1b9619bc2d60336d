"""OpenAI-compatible chat backend (OpenAI, vLLM, Ollama, llama.cpp server...) via the ``openai`` package.

Retries belong to tenacity (the client's own retries are off) so that only transient failures are
retried. Structured output degrades json_schema -> json_object -> schema in the prompt, remembering
per client what the server accepted.
"""
from __future__ import annotations

import logging
import os

import openai
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

from .base import ChatModel, Completion, LLMConfigError, LLMRequestError, Message, with_json_instruction

log = logging.getLogger("graphmem.llm")

STRUCTURED_MODES = ("json_schema", "json_object", "prompt")


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, timeouts and dropped connections."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code == 429 or exc.status_code >= 500)


class OpenAIChat(ChatModel):
    backend = "openai"

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
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
        super().__init__(model, **kwargs)
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)
        self.base_url = str(self._client.base_url)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self._retrying = Retrying(
            stop=stop_after_attempt(max_attempts),
            # Exponential backoff plus jitter of the same scale, so that clients don't retry in step.
            wait=wait_exponential(multiplier=wait_initial, max=wait_max) + wait_random(0, wait_initial),
            retry=retry_if_exception(is_transient),
            before_sleep=lambda state: log.warning(
                "LLM request failed (%s); attempt %d of %d", _describe(state.outcome.exception()),
                state.attempt_number, max_attempts),
            reraise=True,
        )
        self.modes = list(STRUCTURED_MODES)  # what is still worth trying, best first

    def _complete(self, messages: list[Message], *, schema: dict | None, temperature: float,
                  max_tokens: int, seed: int) -> Completion:
        params = dict(model=self.model, temperature=temperature, max_tokens=max_tokens, seed=seed)
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
        try:
            reply = self._retrying(self._client.chat.completions.create, messages=messages, **params)
        except openai.APIStatusError as exc:
            if fallback_ok and exc.status_code in (400, 422):
                raise _Rejected(_describe(exc)) from exc
            raise LLMRequestError(self._explain(exc)) from exc
        except openai.APIConnectionError as exc:
            raise LLMRequestError(self._explain(exc)) from exc
        choice = reply.choices[0]
        usage = reply.usage
        return Completion(
            text=choice.message.content or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            finish_reason=choice.finish_reason,
        )

    def _explain(self, exc: openai.APIError) -> str:
        """A message that says what failed and what to check."""
        where = f"{self.base_url} (model {self.model!r})"
        tries = f"after {self.max_attempts} attempts"
        if isinstance(exc, openai.APITimeoutError):
            return f"LLM request to {where} timed out {tries} ({self.timeout:g} s each): check the server or raise the timeout"
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
