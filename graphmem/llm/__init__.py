"""One chat interface (``ChatModel.chat``) over an OpenAI-compatible server or a local GGUF model,
with a persistent response cache, structured JSON output and usage accounting."""
from .base import (BadReply, ChatModel, ChatResult, Completion, LLMConfigError, LLMError,
                   LLMRequestError, ReplayMiss, Scores)
from .cache import ResponseCache
from .factory import make_llm
from .usage import Accounting, Usage

__all__ = [
    "Accounting", "BadReply", "ChatModel", "ChatResult", "Completion", "LLMConfigError", "LLMError",
    "LLMRequestError", "ReplayMiss", "ResponseCache", "Scores", "Usage", "make_llm",
]
