"""The TextWorld challenge table: generated treasure-hunter and coin-collector games at levels 1, 5,
10 and 20, and tw-simple with dense and with sparse rewards (brief goal), seeds 0-4 each.

    .venv/bin/python scripts/bench_challenges.py [--agents ariadne] [--llm SPEC] [--max-steps 100]
        [--families tw-coin_collector,tw-simple:rewards=dense,goal=brief] [--seeds 0-4] [--out bench-challenges]
    .venv/bin/python scripts/bench_challenges.py --summarize DIR   # the table of any play/eval-agents logs

Resumable: each run logs to OUT/logs/GAME__AGENT__runSEED.jsonl (eval-agents' names for --seed 0)
and a rerun continues every unfinished log and reads finished ones back. Prints a progress line per
run, then per game and agent: wins, mean normalized score, degenerate loops (agents.loops) and the
median seconds and LLM calls of a live step (one not answered wholly by the response cache); writes
OUT/summary.json. ``--summarize`` reads the logs under DIR (any folder of run logs, searched
recursively), prints the same table and each run's loops, and plays nothing.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from graphmem_agents.evaluate import play
from graphmem_agents.factory import AGENTS, LLM_AGENTS
from graphmem_agents.loops import loop_counts
from graphmem_agents.runner import RunLog, live_steps
from graphmem_environments.textworld import GameError, split_games
from graphmem.llm import make_llm

LEVELS = (1, 5, 10, 20)
FAMILIES = ([f"tw-treasure_hunter:level={n}" for n in LEVELS] + [f"tw-coin_collector:level={n}" for n in LEVELS]
            + [f"tw-simple:rewards={r},goal=brief" for r in ("dense", "sparse")])
# The limits, printed beside the totals.
MAX_MEDIAN_SECONDS, MAX_CALLS_PER_STEP = 6.0, 1.3


def select_families(text: str) -> list[str]:
    """Games named by ``--families``: a bare kind (``tw-coin_collector``) picks its rows of the table;
    a spec is played as given (it need not be in the table)."""
    chosen: list[str] = []
    for piece in split_games(text):
        rows = [f for f in FAMILIES if f.split(":", 1)[0] == piece] if ":" not in piece else [piece]
        chosen += [r for r in rows or [piece] if r not in chosen]
    return chosen


def parse_seeds(text: str) -> list[int]:
    """``0-4`` or ``0,2,7`` (or both: ``0-2,7``)."""
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        seeds += range(int(low), int(high or low) + 1)
    return seeds


def log_name(game: str, agent: str, seed: int) -> str:
    return f"{re.sub(r'[^A-Za-z0-9]+', '-', game).strip('-')}__{agent}__run{seed}.jsonl"


def run_record(path: Path, log: RunLog) -> dict:
    """What the table needs of one finished run, its loops counted over the logged actions."""
    final = log.final or {}
    live = live_steps(log.steps)
    return {
        "log": str(path), "game": final.get("game", final.get("task", path.stem)), "agent": final.get("agent"),
        "seed": final.get("seed"), "won": bool(final.get("won")), "normalized": final.get("normalized", 0.0),
        "steps": len(log.steps), "loops": loop_counts([s["action"] for s in log.steps]),
        "live_seconds": [s["seconds"] for s in live], "live_calls": [s.get("llm_calls", 0) for s in live],
    }


def summarize_runs(runs: list[dict]) -> list[dict]:
    """One row per (game, agent), in the order the games first appear."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in runs:
        groups[(r["game"], r["agent"])].append(r)
    rows = []
    for (game, agent), group in groups.items():
        seconds = [x for r in group for x in r["live_seconds"]]
        calls = [x for r in group for x in r["live_calls"]]
        rows.append({
            "game": game, "agent": agent, "runs": len(group), "won": sum(r["won"] for r in group),
            "normalized_mean": round(statistics.fmean(r["normalized"] for r in group), 4),
            "two_cycles": sum(r["loops"]["two_cycles"] for r in group),
            "long_repeats": sum(r["loops"]["long_repeats"] for r in group),
            "live_steps": len(seconds),
            "median_seconds_per_step": round(statistics.median(seconds), 3) if seconds else None,
            "median_calls_per_step": statistics.median(calls) if calls else None,
            "calls_per_step": round(statistics.fmean(calls), 2) if calls else None,
        })
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| game | agent | won | normalized mean | two-cycles | long repeats | live steps | median s/step "
             "| median calls/step | calls/step |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        def cell(key: str) -> str:
            return "-" if r[key] is None else f"{r[key]:g}"
        lines.append(f"| {r['game']} | {r['agent']} | {r['won']}/{r['runs']} | {r['normalized_mean']:.3f} | "
                     f"{r['two_cycles']} | {r['long_repeats']} | {r['live_steps']} | "
                     f"{cell('median_seconds_per_step')} | {cell('median_calls_per_step')} | {cell('calls_per_step')} |")
    return "\n".join(lines)


def totals(runs: list[dict]) -> str:
    """The issue's checks over every run: no loops; per live step a median of at most 6 s, and at
    most 1.3 LLM calls (a mean: a median of whole calls could not say 1.3)."""
    loops = sum(sum(r["loops"].values()) for r in runs)
    looping = sum(1 for r in runs if any(r["loops"].values()))
    seconds = [x for r in runs for x in r["live_seconds"]]
    calls = [x for r in runs for x in r["live_calls"]]
    line = f"{len(runs)} runs: {loops} degenerate loops in {looping} runs (allowed: 0)"
    if seconds:
        line += (f"; per live step median {statistics.median(seconds):.2f} s (at most {MAX_MEDIAN_SECONDS:g}), "
                 f"{statistics.fmean(calls):.2f} LLM calls (at most {MAX_CALLS_PER_STEP:g})")
    return line


def per_run_table(runs: list[dict]) -> str:
    lines = ["| log | game | agent | seed | steps | won | two-cycles | long repeats |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {Path(r['log']).name} | {r['game']} | {r['agent']} | {r['seed']} | {r['steps']} | {r['won']} | {r['loops']['two_cycles']} | "
              f"{r['loops']['long_repeats']} |" for r in runs]
    return "\n".join(lines)


def read_logs(folder: Path) -> tuple[list[dict], list[Path]]:
    """The finished runs logged anywhere under ``folder``, and the logs of unfinished ones."""
    runs, unfinished = [], []
    for path in sorted(folder.rglob("*.jsonl")):
        log = RunLog.read(path)
        if log.start is None:
            continue  # not a run log (another JSON-lines file)
        if log.final is None:
            unfinished.append(path)
        else:
            runs.append(run_record(path, log))
    return runs, unfinished


def report(runs: list[dict], per_run: bool) -> str:
    parts = [markdown(summarize_runs(runs)), "", totals(runs)]
    if per_run:
        parts += ["", per_run_table(runs)]
    return "\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench-challenges", help="folder of the logs and summary.json (default ./bench-challenges)")
    ap.add_argument("--agents", default="ariadne", help=f"comma-separated: {', '.join(AGENTS)}")
    ap.add_argument("--llm", default=None, help="the LLM (graphmem's --llm forms; default: graphmem's default)")
    ap.add_argument("--max-steps", type=int, default=100)
    ap.add_argument("--families", default=None, help="games to play, comma-separated: specs of the table or "
                    "others, or a kind for all its levels (default: the whole table)")
    ap.add_argument("--seeds", default="0-4", help="e.g. 0-4 or 0,3 (default 0-4)")
    ap.add_argument("--summarize", metavar="DIR", help="only print the table of the logs under DIR")
    args = ap.parse_args()
    if args.summarize:
        runs, unfinished = read_logs(Path(args.summarize))
        if not runs:
            sys.exit(f"no finished run log under {args.summarize}")
        print(report(runs, per_run=True))
        if unfinished:
            print(f"\n{len(unfinished)} unfinished runs left out: {', '.join(p.name for p in unfinished)}")
        return

    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    unknown = [a for a in agents if a not in AGENTS]
    if unknown or not agents:
        sys.exit(f"unknown agent(s) {', '.join(unknown) or '(none)'}; agents: {', '.join(AGENTS)}")
    games = select_families(args.families) if args.families else FAMILIES
    seeds = parse_seeds(args.seeds)
    llm = make_llm(args.llm) if any(a in LLM_AGENTS for a in agents) else None
    out = Path(args.out)
    runs: list[dict] = []
    skipped: list[dict] = []
    for game in games:
        for agent in agents:
            for seed in seeds:
                path = out / "logs" / log_name(game, agent, seed)
                try:
                    final = play(game, agent, llm, seed=seed, max_steps=args.max_steps, log_path=path, resume=True)
                except GameError as exc:  # TextWorld cannot make every level with every seed
                    print(f"{game} seed {seed}: skipped: {exc}", file=sys.stderr, flush=True)
                    skipped.append({"game": game, "seed": seed, "reason": str(exc)})
                    continue
                runs.append(run_record(path, RunLog.read(path)))
                loops = final["loops"]
                print(f"{game} {agent} seed {seed}: won={final['won']} normalized {final['normalized']} in "
                      f"{final['steps']} steps, {final['seconds']} s, {final['llm_calls']} LLM calls, "
                      f"loops {loops['two_cycles']}+{loops['long_repeats']}", file=sys.stderr, flush=True)
    rows = summarize_runs(runs)
    summary = {"rows": rows, "runs": [{k: v for k, v in r.items() if not k.startswith("live_")} for r in runs],
               "totals": totals(runs), "skipped": skipped, "settings": {"games": games, "agents": agents, "seeds": seeds,
                                                    "max_steps": args.max_steps,
                                                    "llm": llm.name if llm is not None else None}}
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(report(runs, per_run=False))


if __name__ == "__main__":
    main()
