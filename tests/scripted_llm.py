"""A ChatModel whose replies come from a script: for prompt and parsing unit tests only.

The script is a function of the messages (and schema) that returns the reply text; every request
is recorded. It goes through ChatModel.chat, so schema checks, BadReply and usage accounting are the
real ones.
"""
from __future__ import annotations

from typing import Callable

from graphmem.llm import ChatModel, Completion, ResponseCache


class ScriptedChat(ChatModel):
    backend = "scripted"

    def __init__(self, script: Callable[[list[dict], dict | None], str], cache_path=None) -> None:
        """``cache_path``: use a response cache there (as a real run would); default no cache."""
        cache = ResponseCache(cache_path) if cache_path else None
        super().__init__("script", cache=cache, cache_mode="on" if cache is not None else "off")
        self.script = script
        self.requests: list[tuple[list[dict], dict | None]] = []

    def _complete(self, messages, *, schema, temperature, max_tokens, seed) -> Completion:
        self.requests.append((messages, schema))
        text = self.script(messages, schema)
        return Completion(text, prompt_tokens=len(str(messages)) // 4, completion_tokens=len(text) // 4)
