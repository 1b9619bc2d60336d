"""One episode runner for every agent: play, log each step as a JSON line, resume a killed run.

The log starts with a ``start`` line (game, agent, settings), then one ``step`` line per step and,
when the episode ends, a ``final`` line (the result the CLI prints). ``resume=True`` reads the log,
replays its actions through the (deterministic) game while the agent re-observes every step (its
LLM calls are answered by the response cache, so the agent's memory and plan are rebuilt for free),
then plays on and appends. A torn last line (the process died while writing it) is cut off; the
lines before it are never rewritten. A log that holds a run is never started over by accident: that
needs ``resume`` (or deleting it first). One process at a time writes a log (an advisory lock).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from graphmem_environments.episode import Env, StepResult
from graphmem.errors import GraphmemError
from graphmem.util.filelock import FileLock
from graphmem.llm import Accounting, Usage

from .base import Agent
from .loops import loop_counts

log = logging.getLogger("graphmem_agents.runner")

SUMMED = ("llm_calls", "prompt_tokens", "completion_tokens", "cached", "seconds")


def live_steps(steps: list[dict]) -> list[dict]:
    """Steps that did not come wholly from the response cache: the ones whose time and tokens say
    what the agent costs (a rerun answered by the cache would otherwise look nearly free)."""
    return [s for s in steps if s.get("llm_calls", 0) > 0 or not s.get("cached", 0)]


class RunLogError(GraphmemError, RuntimeError):
    """A log that cannot be resumed (another game or agent, or a replay that diverged)."""


@dataclass
class RunLog:
    start: dict | None = None
    steps: list[dict] = field(default_factory=list)
    final: dict | None = None
    torn_lines: int = 0
    size: int = 0        # bytes in the file
    good_bytes: int = 0  # bytes before a torn last line (all of them when there is none)

    @classmethod
    def read(cls, path: Path) -> "RunLog":
        out = cls()
        if not path.is_file():
            return out
        data = path.read_bytes()
        out.size = out.good_bytes = len(data)
        lines = data.splitlines(keepends=True)
        offset = 0
        for i, line in enumerate(lines):
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                if i != len(lines) - 1:
                    raise RunLogError(f"{path}: line {i + 1} is not JSON (only a torn last line is tolerated)") from None
                out.torn_lines += 1
                out.good_bytes = start
                log.warning("%s: dropping a torn last line", path)
                continue
            if not isinstance(rec, dict):
                raise RunLogError(f"{path}: line {i + 1} is not a run log record (a JSON object)")
            kind = rec.get("type")
            if kind == "start":
                out.start = rec
            elif kind == "step":
                if not isinstance(rec.get("action"), str) or not isinstance(rec.get("step"), int) \
                        or not isinstance(rec.get("score"), (int, float)):
                    raise RunLogError(f"{path}: line {i + 1} is a step without action, step and score")
                out.steps.append(rec)
            elif kind == "final":
                out.final = rec
        return out


class _Writer:
    def __init__(self, path: Path | None, keep: RunLog, on_record: Callable[[dict], None] | None = None) -> None:
        self.file = None
        self.on_record = on_record
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("ab")
        # Append after what is kept; a torn last line is cut off so it never stays in the middle.
        self.file.truncate(keep.good_bytes)
        if keep.good_bytes and path.read_bytes()[keep.good_bytes - 1:] != b"\n":
            self.file.write(b"\n")  # a last line without its newline (edited by hand)

    def write(self, rec: dict) -> None:
        if self.file is not None:
            self.file.write((json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))
            self.file.flush()
        if self.on_record is not None:
            self.on_record(rec)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _check_log(path: Path, previous: RunLog, resume: bool) -> None:
    if not resume and previous.size:
        raise RunLogError(f"{path} already holds a run: --resume to continue it, or give another --log "
                          f"(--force starts it over)")
    if previous.start is None and (previous.steps or previous.final):
        raise RunLogError(f"{path} has no start line: it is not a graphmem run log")


def run_episode(env: Env, agent: Agent, *, meta: dict | None = None, usage: Accounting | None = None,
                log_path: str | Path | None = None, resume: bool = False,
                on_record: Callable[[dict], None] | None = None) -> dict:
    """Play one episode of ``env`` with ``agent``; returns the final record (also the log's last line).

    ``meta``: settings written to the start line and checked on resume (game, agent, seed...).
    ``usage``: the accounting of the agent's LLM, for per-step token counts.
    ``on_record``: called with each record as it happens (start, every step played, final), the
    log's lines whether or not there is a log: a progress display watches the run through it.
    """
    path = Path(log_path) if log_path else None
    if path is None:
        return _run(env, agent, meta, usage, None, resume, on_record)
    with FileLock(path, "run log"):
        return _run(env, agent, meta, usage, path, resume, on_record)


def _run(env: Env, agent: Agent, meta: dict | None, usage: Accounting | None, path: Path | None,
         resume: bool, on_record: Callable[[dict], None] | None) -> dict:
    meta = {"agent": agent.name, **(meta or {})}
    previous = RunLog.read(path) if path is not None else RunLog()
    if path is not None:
        _check_log(path, previous, resume)
    if previous.start is not None:
        _check_same_run(previous.start, meta, path)
    if previous.final is not None:
        log.info("%s: the run is already complete; not playing again", path)
        # A log written before loops were counted gets them from its steps (the file is not rewritten).
        return {"loops": loop_counts([s["action"] for s in previous.steps]), **previous.final}
    usage = usage or Accounting()
    agent.reset(env.task)
    result = env.reset()
    replay = _replay(env, agent, result, previous.steps, usage)
    result = replay["result"]
    writer = _Writer(path, previous, on_record)
    if previous.start is None:
        writer.write({"type": "start", **meta})
    elif on_record is not None:
        on_record({**previous.start, "resumed_steps": len(previous.steps)})
    totals = {k: sum(s.get(k, 0) for s in previous.steps) for k in SUMMED}
    live = live_steps(previous.steps)
    totals.update(live_steps=len(live), live_seconds=sum(s["seconds"] for s in live))
    actions = [s["action"] for s in previous.steps]
    last_stats: dict = {}
    try:
        while not result.done:
            snap, t0 = usage.snapshot(), time.perf_counter()
            action = agent.act(result)
            if action is None:
                break
            t1 = time.perf_counter()
            result = env.step(action)
            t2 = time.perf_counter()
            used = usage.since(snap)
            last_stats = agent.stats()
            rec = _step_record(action, result, used, last_stats, agent_s=t1 - t0, env_s=t2 - t1)
            for k in SUMMED:
                totals[k] += rec[k]
            if live_steps([rec]):
                totals["live_steps"] += 1
                totals["live_seconds"] += rec["seconds"]
            actions.append(action)
            writer.write(rec)
        final = {
            "type": "final", **meta,
            "score": result.score, "max_score": result.max_score, "normalized": round(result.normalized, 4),
            "steps": result.moves, "won": result.won, "lost": result.lost, "truncated": result.truncated,
            **{k: (round(v, 3) if k.endswith("seconds") else v) for k, v in totals.items()},
            "resumed_steps": len(previous.steps), "replay_mismatches": replay["mismatches"],
            "replay_seconds": round(replay["seconds"], 3),
            "agent_stats": last_stats or agent.stats(), "loops": loop_counts(actions),
        }
        writer.write(final)
        return final
    finally:
        writer.close()


def _check_same_run(start: dict, meta: dict, path: Path | None) -> None:
    for key in ("game", "agent", "seed", "temperature", "llm", "max_steps"):
        if key in meta and key in start and start[key] != meta[key]:
            raise RunLogError(f"{path}: cannot resume: the log is for {key}={start[key]!r}, "
                              f"this run has {key}={meta[key]!r}")


def _replay(env: Env, agent: Agent, result: StepResult, steps: list[dict], usage: Accounting) -> dict:
    """Play the logged actions again; the agent acts as usual (cache hits) and is overridden if it
    chooses differently. The score after each step must match the log (the game is deterministic)."""
    t0, mismatches = time.perf_counter(), 0
    for rec in steps:
        action = rec["action"]
        chosen = agent.act(result)
        if chosen != action:
            mismatches += 1
            log.warning("replay step %s: agent chose %r, the log has %r (was the LLM cache off?); "
                        "playing the logged action", rec.get("step"), chosen, action)
            agent.override(action)
        result = env.step(action)
        if result.score != rec["score"] or result.moves != rec["step"]:
            raise RunLogError(f"replay diverged at step {rec['step']}: score {result.score} after "
                              f"{action!r}, the log has {rec['score']}")
    if steps:
        log.info("resumed after %d logged steps (%d choice mismatches)", len(steps), mismatches)
    return {"result": result, "mismatches": mismatches, "seconds": time.perf_counter() - t0}


def _step_record(action: str, result: StepResult, used: Usage, stats: dict, *, agent_s: float,
                 env_s: float) -> dict:
    return {
        "type": "step", "step": result.moves, "action": action, "observation": result.observation,
        "score": result.score, "max_score": result.max_score, "normalized": round(result.normalized, 4),
        "done": result.done, "won": result.won, "memory_size": stats.get("memory_size", 0),
        "llm_calls": used.calls, "prompt_tokens": used.prompt_tokens,
        "completion_tokens": used.completion_tokens, "cached": used.cached,
        "llm_seconds": round(used.seconds, 3), "agent_seconds": round(agent_s, 3),
        "env_seconds": round(env_s, 3), "seconds": round(agent_s + env_s, 3),
    }
