"""Extractors by name: the one registry the CLI, the agents and the QA harness pick from."""
from __future__ import annotations

from ..errors import ConfigError
from ..profiles import TEXT_GAME, DomainProfile
from .base import Extractor, RawTriple

EXTRACTORS = ("offline", "llm")

__all__ = ["EXTRACTORS", "Extractor", "RawTriple", "make_extractor"]


def make_extractor(name: str, llm=None, profile: DomainProfile = TEXT_GAME) -> Extractor:
    """The extractor called ``name``. ``llm`` (a ChatModel) is the llm extractor's model, by default
    the one ``graphmem.llm.make_llm`` picks from the environment; ``profile``: the kind of text (the
    offline extractor reads by its vocabulary, the llm extractor's prompt describes it)."""
    if name == "offline":
        from .offline import OfflineExtractor

        return OfflineExtractor(profile=profile)
    if name == "llm":
        from ..llm import make_llm
        from .llm import LLMExtractor

        return LLMExtractor(llm if llm is not None else make_llm(), profile=profile)
    raise ConfigError(f"unknown extractor {name!r}; choose one of {', '.join(EXTRACTORS)}")
