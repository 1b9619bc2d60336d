"""``graphmem eval-agents --suite twx``: agents over the TALES TextWorldExpress games.

Each agent plays seed ``seed_index`` of ``split`` of every game once, under TALES's protocol (see
``graphmem_environments.twx.env``); the score of a game is the high score 0..100 and the suite's is
their mean, as TALES reports it. Each run logs to ``out/logs`` and is resumed from its log, so an
interrupted evaluation continues where it stopped.
"""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import Callable, Sequence

from graphmem_environments.episode import DEFAULT_MAX_STEPS
from graphmem_environments.twx import GAMES, SUITE, TWXEnv, game
from graphmem.llm import ChatModel

from .factory import LLM_AGENTS, make_agent
from .results import write_results
from .runner import run_episode


def play_twx(name: str, agent_name: str, llm: ChatModel | None, *, split: str, seed_index: int, admissible: bool,
             max_steps: int, out_dir: Path, seed: int = 0, extractor: str = "offline", temperature: float = 0.0,
             on_record: Callable[[dict], None] | None = None) -> dict:
    """One run of the TWX game ``name``; returns the runner's final record. ``seed`` seeds the
    chooser's sampling; the game's seed comes from ``split`` and ``seed_index``."""
    with TWXEnv(name, split=split, seed_index=seed_index, admissible=admissible, max_steps=max_steps) as env:
        agent_llm = llm if agent_name in LLM_AGENTS else None
        agent = make_agent(agent_name, env, agent_llm, extractor=extractor,
                           temperature=temperature, seed=seed)
        meta = {"game": env.game.name, "suite": SUITE, "split": split, "game_seed": env.seed,
                "admissible": admissible, "seed": seed, "temperature": temperature, "max_steps": max_steps,
                "llm": agent_llm.name if agent_llm is not None else None}
        if agent_name == "ariadne":
            meta["extractor"] = extractor
        # The settings that change the game are in the name: another split or seed never resumes this log.
        log_path = out_dir / "logs" / f"{env.game.name}__{agent_name}__{split}-s{seed_index}-a{int(admissible)}.jsonl"
        return run_episode(env, agent, meta=meta, usage=agent_llm.usage if agent_llm is not None else None,
                           log_path=log_path, resume=True, on_record=on_record)


def eval_suite(agents: Sequence[str], llm: ChatModel | None, *, out_dir: str | Path, games: Sequence[str] = (),
               split: str = "test", seed_index: int = 0, admissible: bool = False,
               max_steps: int = DEFAULT_MAX_STEPS, seed: int = 0, extractor: str = "offline",
               temperature: float = 0.0, progress: Callable[[dict], None] | None = None,
               on_record: Callable[[dict], None] | None = None) -> dict:
    """Every agent plays every game (all 16 unless ``games`` names some). Returns the first agent's
    scores (``games``: name -> score, steps, won; ``mean``), and with several agents every agent's
    under ``agents``. Writes results.json (that, plus every run's final record) and results.md."""
    chosen = [game(name) for name in games] if games else list(GAMES)
    out = Path(out_dir)
    finals: list[dict] = []
    scores: dict[str, dict[str, dict]] = {}
    for g in chosen:
        for agent in agents:
            final = play_twx(g.name, agent, llm, split=split, seed_index=seed_index, admissible=admissible,
                             max_steps=max_steps, out_dir=out, seed=seed, extractor=extractor,
                             temperature=temperature, on_record=on_record)
            finals.append(final)
            scores.setdefault(agent, {})[g.name] = {"score": int(final["score"]), "steps": final["steps"],
                                                     "won": bool(final["won"])}
            if progress:
                progress(final)
    per_agent = {agent: {"games": scores[agent], "mean": mean_score(scores[agent])} for agent in agents}
    result: dict = {"suite": SUITE, "split": split, "admissible": admissible, "agent": agents[0],
                    **per_agent[agents[0]]}
    if len(agents) > 1:
        result["agents"] = per_agent
    write_results(out, {**result, "runs": finals}, markdown_table(per_agent))
    return result


def mean_score(games: dict[str, dict]) -> float:
    return round(statistics.fmean(g["score"] for g in games.values()), 2)


def markdown_table(per_agent: dict[str, dict]) -> str:
    """One row per game and a mean row; score, steps and won for each agent side by side."""
    agents = list(per_agent)
    head = "| game | " + " | ".join(f"{a} score | {a} steps | {a} won" for a in agents) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(agents))]
    for name in per_agent[agents[0]]["games"]:
        cells = [(c["score"], c["steps"], "yes" if c["won"] else "no")
                 for c in (per_agent[a]["games"][name] for a in agents)]
        lines.append(_row(name, cells))
    lines.append(_row("mean", [(f"{per_agent[a]['mean']:.2f}", "", "") for a in agents]))
    return "\n".join(lines)


def _row(first: str, cells: list[tuple]) -> str:
    return "| " + " | ".join([first, *(str(v) for cell in cells for v in cell)]) + " |"
