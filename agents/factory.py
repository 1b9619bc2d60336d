"""Agents by name, as the CLI and eval-agents pick them."""
from __future__ import annotations

from graphmem_environments.textworld import TextWorldEnv
from graphmem.errors import ConfigError
from graphmem.llm import ChatModel

AGENTS = ("ariadne", "full-history", "summary", "rag", "walkthrough", "ariadne-generic", "ariadne-nomem")
LLM_AGENTS = ("ariadne", "full-history", "summary", "rag", "ariadne-generic", "ariadne-nomem")
ARIADNE_VARIANTS = {"ariadne": {}, "ariadne-generic": {"families": False},   # the generic layer alone
                    "ariadne-nomem": {"remember": False}}                     # the ablation: memory off


def make_agent(name: str, env: TextWorldEnv, llm: ChatModel | None = None, *, extractor: str = "offline",
               temperature: float = 0.0, seed: int = 0):
    """A fresh agent for ``env``'s game. LLM agents need ``llm``; the walkthrough agent needs a
    walkthrough (task file or generated game). ``temperature``/``seed``: the chooser's sampling."""
    if name == "walkthrough":
        from .walkthrough import WalkthroughAgent

        commands = env.task.walkthrough
        if commands is None:
            env.reset()  # a game's own walkthrough is known after a reset
            commands = env.walkthrough()
        return WalkthroughAgent(commands or ())
    if name not in LLM_AGENTS:
        raise ConfigError(f"unknown agent {name!r}; agents: {', '.join(AGENTS)}")
    if llm is None:
        raise ConfigError(f"agent {name!r} needs an LLM")
    if name in ARIADNE_VARIANTS:
        from .ariadne import Ariadne

        return Ariadne(llm, extractor=extractor, temperature=temperature, seed=seed, **ARIADNE_VARIANTS[name])
    from .baselines import BASELINES

    return BASELINES[name](llm, temperature=temperature, seed=seed)
