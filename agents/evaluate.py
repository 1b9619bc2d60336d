"""Play one game with one agent (``graphmem play``) and compare agents over games (``eval-agents``)."""
from __future__ import annotations

import re
import statistics
import time
from pathlib import Path
from typing import Callable, Sequence

from graphmem_environments.textworld import TextWorldEnv, looks_like_spec, resolve_game
from graphmem.llm import ChatModel

from .factory import AGENTS, LLM_AGENTS, make_agent
from .results import write_results
from .runner import run_episode

RERUN_TEMPERATURE = 0.3  # later runs of a fixed game sample the chooser, so that they differ


def play(game: str, agent_name: str, llm: ChatModel | None = None, *, tasks: str | None = None, seed: int = 0,
         max_steps: int | None = None, log_path: str | Path | None = None, resume: bool = False,
         extractor: str = "offline", temperature: float = 0.0, on_record: Callable[[dict], None] | None = None,
         after: Callable[[object], None] | None = None) -> dict:
    """One episode; returns the final record (score, steps, tokens, seconds...). ``seed`` seeds a
    generated game and the chooser's sampling (used only with ``temperature`` > 0). ``on_record``
    watches the run's records as they happen (see ``run_episode``); ``after(agent)`` is called when
    the episode is over, while the game is still open (e.g. to save a view of the agent's memory)."""
    started = time.perf_counter()
    task = resolve_game(game, tasks=tasks, seed=seed)
    with TextWorldEnv(task, max_steps=max_steps) as env:
        agent = make_agent(agent_name, env, llm if agent_name in LLM_AGENTS else None, extractor=extractor,
                           temperature=temperature, seed=seed)
        meta = {"game": game, "task": task.name, "seed": seed, "temperature": temperature, "max_steps": env.max_steps,
                "llm": llm.name if llm is not None and agent_name in LLM_AGENTS else None}
        if agent_name.startswith("ariadne"):
            meta["extractor"] = extractor
        usage = llm.usage if llm is not None else None
        final = run_episode(env, agent, meta=meta, usage=usage, log_path=log_path, resume=resume,
                            on_record=on_record)
        if after is not None:
            after(agent)
    return {**final, "wall_seconds": round(time.perf_counter() - started, 3)}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def eval_agents(games: Sequence[str], agents: Sequence[str], runs: int, llm: ChatModel | None, *,
                out_dir: str | Path, tasks: str | None = None, max_steps: int | None = None, seed: int = 0,
                extractor: str = "offline", temperature: float | None = None, progress=None,
                on_record: Callable[[dict], None] | None = None) -> dict:
    """Every agent plays every game ``runs`` times; run k uses seed + k, so runs differ: a generator
    spec makes another game per seed; a fixed game is replayed with the chooser sampling at
    ``temperature`` (default: 0 for run 0, RERUN_TEMPERATURE for later runs) from that seed.
    Each run logs to ``out_dir/logs`` and is resumed from its log, so an interrupted evaluation
    continues where it stopped. Writes results.json and results.md. ``progress(final)`` is called
    after each run, ``on_record`` with every record of every run (see ``run_episode``)."""
    unknown = [a for a in agents if a not in AGENTS]
    if unknown:
        raise ValueError(f"unknown agent(s) {', '.join(unknown)}; agents: {', '.join(AGENTS)}")
    out = Path(out_dir)
    rows, finals = [], []
    for game in games:
        for agent in agents:
            runs_done = []
            for k in range(runs):
                log_path = out / "logs" / f"{_slug(game)}__{agent}__run{k}.jsonl"
                final = play(game, agent, llm, tasks=tasks, seed=seed + k, max_steps=max_steps,
                             log_path=log_path, resume=True, extractor=extractor,
                             temperature=run_temperature(game, k, temperature), on_record=on_record)
                runs_done.append(final)
                if progress:
                    progress(final)
            finals += runs_done
            rows.append(summarize(game, agent, runs_done))
    result = {"rows": rows, "runs": finals, "settings": {
        "games": list(games), "agents": list(agents), "runs": runs, "max_steps": max_steps, "seed": seed,
        "llm": llm.name if llm is not None else None, "extractor": extractor}}
    write_results(out, result, markdown_table(rows))
    return result


def run_temperature(game: str, run: int, temperature: float | None) -> float:
    """The chooser's temperature for run ``run`` of ``game`` (an explicit value wins)."""
    if temperature is not None:
        return temperature
    return RERUN_TEMPERATURE if run > 0 and not looks_like_spec(game) else 0.0


def summarize(game: str, agent: str, finals: list[dict]) -> dict:
    scores = [f["normalized"] for f in finals]
    # Rates per step count the steps that really ran the LLM (not those replayed from the cache).
    live = sum(f.get("live_steps", f["steps"]) for f in finals) or 1
    live_seconds = sum(f.get("live_seconds", f["seconds"]) for f in finals)
    return {
        "game": game, "agent": agent, "runs": len(finals),
        "normalized_mean": round(statistics.fmean(scores), 4), "normalized_best": max(scores),
        "won": sum(bool(f["won"]) for f in finals),
        "steps_mean": round(sum(f["steps"] for f in finals) / len(finals), 1), "live_steps": live,
        "prompt_tokens": sum(f["prompt_tokens"] for f in finals),
        "completion_tokens": sum(f["completion_tokens"] for f in finals),
        "llm_calls": sum(f["llm_calls"] for f in finals),
        "prompt_tokens_per_step": round(sum(f["prompt_tokens"] for f in finals) / live, 1),
        "completion_tokens_per_step": round(sum(f["completion_tokens"] for f in finals) / live, 1),
        "llm_calls_per_step": round(sum(f["llm_calls"] for f in finals) / live, 2),
        "seconds": round(sum(f["seconds"] for f in finals), 1),
        "seconds_per_step": round(live_seconds / live, 2),
        # Two-cycles plus long repeats over the runs (agents.loops); a final logged before they were
        # counted has none.
        "loops": sum(sum(f.get("loops", {}).values()) for f in finals),
    }


def markdown_table(rows: list[dict]) -> str:
    head = ("| game | agent | runs | normalized mean | best | won | steps | live steps | prompt tok/step | "
            "completion tok/step | calls/step | s/step | total s | loops |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lines.append(f"| {r['game']} | {r['agent']} | {r['runs']} | {r['normalized_mean']:.3f} | "
                     f"{r['normalized_best']:.3f} | {r['won']} | {r['steps_mean']} | {r['live_steps']} | "
                     f"{r['prompt_tokens_per_step']} | "
                     f"{r['completion_tokens_per_step']} | {r['llm_calls_per_step']} | {r['seconds_per_step']} | "
                     f"{r['seconds']} | {r['loops']} |")
    return "\n".join(lines)
