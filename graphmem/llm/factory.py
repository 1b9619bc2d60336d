"""``make_llm``: one spec string picks and configures a backend (the CLI's ``--llm``)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .base import ChatModel, LLMConfigError
from .cache import ResponseCache
from .usage import Accounting

SPEC_FORMS = "local, local:/path/model.gguf, openai, openai:MODEL"


def default_spec() -> str:
    """GRAPHMEM_LLM if set; else the OpenAI-compatible backend when an endpoint or model is
    configured (OPENAI_BASE_URL or GRAPHMEM_MODEL); else the local model."""
    if os.environ.get("GRAPHMEM_LLM"):
        return os.environ["GRAPHMEM_LLM"]
    if os.environ.get("OPENAI_BASE_URL") or os.environ.get("GRAPHMEM_MODEL"):
        return "openai"
    return "local"


def make_llm(
    spec: str | None = None,
    *,
    cache_mode: str = "on",
    cache_path: str | Path | None = None,
    accounting: Accounting | None = None,
    timeout: float | None = None,
    **backend_kwargs,
) -> ChatModel:
    """A chat model from ``spec`` (see SPEC_FORMS); None means ``default_spec()``.

    ``cache_mode``: on, off or replay. ``timeout``: seconds one call may take, retries included
    (default GRAPHMEM_LLM_TIMEOUT, else the backend's own: 120 for servers, none for the local
    model). ``backend_kwargs`` go to the backend (e.g. base_url for openai; n_ctx, n_threads for local).
    """
    spec = spec or default_spec()
    try:
        spec.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8 in argv, kept as surrogate escapes
        raise LLMConfigError(f"the LLM spec {spec!r} is not UTF-8 text: a model's name is sent to servers "
                             f"and kept in the response cache as text (rename a model file whose name is not)") from None
    kind, _, arg = spec.partition(":")
    if kind not in ("local", "openai"):
        raise LLMConfigError(f"unknown LLM spec {spec!r}; use one of: {SPEC_FORMS}")
    timeout = timeout if timeout is not None else env_timeout()
    if timeout is not None:
        backend_kwargs["timeout"] = timeout
    cache = None if cache_mode == "off" else ResponseCache(cache_path)
    common: dict[str, Any] = dict(cache=cache, cache_mode=cache_mode, accounting=accounting)
    if kind == "local":
        from .local import LocalChat

        return LocalChat(arg or None, **common, **backend_kwargs)
    from .openai_backend import OpenAIChat

    return OpenAIChat(arg or None, **common, **backend_kwargs)


def env_timeout() -> float | None:
    """GRAPHMEM_LLM_TIMEOUT in seconds, if set."""
    text = os.environ.get("GRAPHMEM_LLM_TIMEOUT", "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise LLMConfigError(f"GRAPHMEM_LLM_TIMEOUT must be a positive number of seconds, not {text!r}")
    return value
