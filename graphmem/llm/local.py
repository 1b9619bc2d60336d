"""In-process chat backend through llama-cpp-python (optional extra ``graphmem[local]``).

The model loads on the first request that misses the response cache, so cached and replayed runs
never pay the load. A RAM prompt cache keeps the evaluated state of recent prompts: the extractor
and the judge alternate, and each reuses its own long shared prefix instead of re-reading it.

``score`` evaluates the prompt once (reusing the longest prefix still in the KV cache, so a prompt
whose stable part comes first costs only its new tail), then each option in one batch whose logits
are read at every position; the options' tokens never enter the context the next request sees.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .base import ChatModel, Completion, LLMConfigError, LLMRequestError, Message, Scores
from .gguf import QWEN_FILE, default_model_path


def _bounded_ram_cache(llama_cpp: Any, capacity_bytes: int):
    """llama-cpp-python's RAM prompt cache with a size that counts all of each saved state.

    Why: ``LlamaRAMCache`` counts a state as its context bytes only, not the token and logit
    arrays saved with it, so its cap never triggered and a long run grew without bound (measured:
    about 35 MB a call against ~1.3 MB counted, 11.5 GB after 2 h of baselines).
    """

    class BoundedRAMCache(llama_cpp.LlamaRAMCache):
        @property
        def cache_size(self) -> int:
            return sum(state_bytes(state) for state in self.cache_state.values())

    return BoundedRAMCache(capacity_bytes=capacity_bytes)


def state_bytes(state: Any) -> int:
    """What one saved llama state holds in memory: its context bytes and its arrays."""
    arrays = (getattr(state, name, None) for name in ("input_ids", "scores"))
    return int(state.llama_state_size) + sum(int(getattr(a, "nbytes", 0)) for a in arrays)


class LocalChat(ChatModel):
    backend = "local"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        prompt_cache_bytes: int = 512 << 20,
        **kwargs,
    ) -> None:
        """``model_path``: a GGUF file; default GRAPHMEM_GGUF, else the verified Qwen model.
        ``n_threads``: default GRAPHMEM_LLM_THREADS, else all cores (on a machine busy with other
        work, fewer threads than cores can be much faster: llama.cpp threads spin-wait on each other).
        """
        path = model_path or os.environ.get("GRAPHMEM_GGUF")
        self.path = Path(path).expanduser() if path else None
        if self.path is not None and not self.path.is_file():
            raise LLMConfigError(f"GGUF model file not found: {self.path}")
        super().__init__(self.path.name if self.path else QWEN_FILE, **kwargs)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or int(os.environ.get("GRAPHMEM_LLM_THREADS") or os.cpu_count() or 1)
        self.prompt_cache_bytes = prompt_cache_bytes
        self._llm: Any = None  # llama_cpp.Llama, loaded on first use; its private state is used below
        self._lock = threading.Lock()  # a llama context serves one request at a time

    def _cache_model(self) -> str:
        # Two different files may share a name; their sizes almost surely differ.
        return f"{self.model}:{self.path.stat().st_size}" if self.path else self.model

    def _load(self):
        try:
            import llama_cpp
        except ImportError:
            raise LLMConfigError("the local backend needs llama-cpp-python: pip install 'graphmem[local]', "
                                 "or use an OpenAI-compatible server with --llm openai:MODEL") from None
        path = self.path or default_model_path()
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                              n_threads_batch=self.n_threads, verbose=False)
        if self.prompt_cache_bytes:
            llm.set_cache(_bounded_ram_cache(llama_cpp, self.prompt_cache_bytes))
        return llm

    def _complete(self, messages: list[Message], *, schema: dict | None, temperature: float,
                  max_tokens: int, seed: int) -> Completion:
        try:
            return self._generate(messages, schema=schema, temperature=temperature, max_tokens=max_tokens,
                                  seed=seed)
        except ValueError as exc:  # llama.cpp's word for a prompt longer than the context
            if "context window" not in str(exc):
                raise
            raise LLMRequestError(f"{exc}: the prompt and the reply do not fit the local model's "
                                  f"{self.n_ctx}-token context; send less text") from None

    def _generate(self, messages: list[Message], *, schema: dict | None, temperature: float,
                  max_tokens: int, seed: int) -> Completion:
        with self._lock:
            if self._llm is None:
                self._llm = self._load()
            params = dict(messages=messages, temperature=temperature, max_tokens=max_tokens, seed=seed)
            if schema is not None:
                # llama.cpp turns the schema into a grammar: the reply can only be matching JSON.
                params["response_format"] = {"type": "json_object", "schema": schema}
            if self.timeout:
                return self._complete_by(time.monotonic() + self.timeout, messages, params)
            reply = self._llm.create_chat_completion(**params)
        choice, usage = reply["choices"][0], reply.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            finish_reason=choice.get("finish_reason"),
        )

    def _complete_by(self, deadline: float, messages: list[Message], params: dict) -> Completion:
        """Generate token by token (streamed) and give up at ``deadline``."""
        text, tokens, finish = [], 0, None
        for chunk in self._llm.create_chat_completion(**params, stream=True):
            self._check_deadline(deadline)
            choice = chunk["choices"][0]
            piece = choice.get("delta", {}).get("content")
            if piece:
                text.append(piece)
                tokens += 1
            finish = choice.get("finish_reason") or finish
        return Completion("".join(text), len(self._prompt_tokens(messages)), tokens, finish)

    # --- per-call deadline (the llm timeout setting) ---------------------------------------------
    def _deadline(self) -> float | None:
        return time.monotonic() + self.timeout if self.timeout else None

    def _check_deadline(self, deadline: float | None) -> None:
        if deadline is not None and time.monotonic() > deadline:
            self._llm._requires_eval = True  # whatever was cut off must not be reused as fresh logits
            raise LLMRequestError(f"the local model took longer than {self.timeout:g} s (--llm-timeout / "
                                  "GRAPHMEM_LLM_TIMEOUT): raise the limit, or lower GRAPHMEM_LLM_THREADS "
                                  "if other work shares the cores")

    # --- scoring -------------------------------------------------------------------------------
    def _score(self, messages: list[Message], options: list[str]) -> Scores:
        with self._lock:
            if self._llm is None:
                self._llm = self._load()
            llm = self._llm
            prompt = self._prompt_tokens(messages)
            end = llm.token_eos()
            deadline = self._deadline()
            first = self._eval_prompt(prompt)
            logprobs, counts = [], []
            for option in options:
                self._check_deadline(deadline)
                tokens = llm.tokenize(option.encode("utf-8"), add_bos=False, special=False) + [end]
                logprobs.append(float(first[tokens[0]]) + self._continuation(len(prompt), tokens))
                counts.append(len(tokens))
            # The context holds the prompt, but the last logits are an option's: a generation that
            # follows must re-read the prompt's last token before it samples.
            llm._requires_eval = True
        return Scores(logprobs, counts, len(prompt))

    def _prompt_tokens(self, messages: list[Message]) -> list[int]:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._llm
        if getattr(self, "_formatter", None) is None:
            template = llm.metadata.get("tokenizer.chat_template")
            if not template:
                raise LLMConfigError(f"{self.model} has no chat template: cannot score options")
            vocab = llm._model
            self._formatter = Jinja2ChatFormatter(
                template=template, eos_token=vocab.token_get_text(llm.token_eos()),
                bos_token=vocab.token_get_text(llm.token_bos()), add_generation_prompt=True)
        # Our messages are plain dicts with the keys of llama_cpp's message TypedDicts.
        formatted = self._formatter(messages=messages)  # type: ignore[arg-type]
        return llm.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)

    def _eval_prompt(self, prompt: list[int]) -> np.ndarray:
        """Evaluate ``prompt`` (keeping the prefix already in the KV cache); log-probs of the next token."""
        llm = self._llm
        keep = 0
        for a, b in zip(llm.input_ids[: llm.n_tokens].tolist(), prompt[:-1]):
            if a != b:
                break
            keep += 1
        llm.n_tokens = keep
        llm.eval(prompt[keep:])
        return _log_softmax(self._logits(-1))

    def _continuation(self, start: int, tokens: list[int]) -> float:
        """Sum of log P(tokens[i+1] | prompt, tokens[:i+1]), one decode for the whole option."""
        if len(tokens) < 2:
            return 0.0
        llm = self._llm
        llm._ctx.kv_cache_seq_rm(-1, start, -1)
        llm._batch.set_batch(batch=tokens[:-1], n_past=start, logits_all=True)
        llm._ctx.decode(llm._batch)
        return sum(float(_log_softmax(self._logits(i))[tokens[i + 1]]) for i in range(len(tokens) - 1))

    def _logits(self, i: int) -> np.ndarray:
        llm = self._llm
        return np.ctypeslib.as_array(llm._ctx.get_logits_ith(i), shape=(llm.n_vocab(),))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - float(logits.max())
    return shifted - np.log(np.exp(shifted).sum())

