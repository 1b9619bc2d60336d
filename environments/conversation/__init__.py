"""Conversation benchmarks: LoCoMo's conversations, their turns and their questions."""
from .locomo import Conversation, ConversationQuestion, LocomoError, load_locomo

__all__ = ["Conversation", "ConversationQuestion", "LocomoError", "load_locomo"]
