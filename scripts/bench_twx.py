"""The TALES TextWorldExpress table: agents on the 16 TWX games under TALES's protocol, beside
TALES's published TWX means, with degenerate-loop counts and per-step cost.

    .venv/bin/python scripts/bench_twx.py [--columns ariadne,ariadne-nomem,ariadne+admissible]
        [--split test] [--seed-index 0] [--out bench-twx] [--llm SPEC]
    .venv/bin/python scripts/bench_twx.py --report --out bench-twx    # the table of finished columns

A column is an agent, with ``+admissible`` to give it the game's command list (TALES's other
setting). Each column plays through ``graphmem eval-agents --suite twx``'s library function into
OUT/COLUMN/ (resumable: a rerun continues unfinished games and reads finished ones back). The table
gives each game's score per column, the mean, TALES's rows for comparison, the loops counted in the
logs (``agents.loops``: A,B,A,B stretches and a command repeated more than three times in a row)
and the median seconds and LLM calls of a live step (one not answered wholly by the cache).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from graphmem_agents.loops import loop_counts
from graphmem_agents.runner import RunLog, live_steps
from graphmem_agents.suite import eval_suite
from graphmem_environments.twx import GAMES
from graphmem.llm import make_llm

# TALES (2025), TextWorldExpress column, no admissible list, 100 steps, test seed.
TALES_TWX = {"Llama-3.2-1B": 19.0, "Llama-3.2-3B": 42.0, "Qwen2.5-7B": 45.6, "Llama-3.1-8B": 50.3,
             "gpt-4o-mini": 73.6, "gpt-4o": 80.6}


def parse_column(text: str) -> tuple[str, bool]:
    agent, _, flag = text.partition("+")
    if flag not in ("", "admissible"):
        raise SystemExit(f"bench_twx: column {text!r}: only '+admissible' may follow an agent")
    return agent, bool(flag)


def column_logs(folder: Path) -> dict[str, RunLog]:
    """Game name -> its run log, for the logs under ``folder``."""
    out = {}
    for path in sorted((folder / "logs").glob("*.jsonl")):
        out[path.name.split("__", 1)[0]] = RunLog.read(path)
    return out


def column_summary(folder: Path) -> dict | None:
    results = folder / "results.json"
    if not results.is_file():
        return None
    data = json.loads(results.read_text(encoding="utf-8"))
    logs = column_logs(folder)
    steps = [s for log in logs.values() for s in live_steps(log.steps)]
    loops = {name: loop_counts([s["action"] for s in log.steps]) for name, log in logs.items()}
    return {
        "games": {name: g["score"] for name, g in data["games"].items()},
        "mean": data["mean"],
        "loops": loops,
        "two_cycles": sum(v["two_cycles"] for v in loops.values()),
        "long_repeats": sum(v["long_repeats"] for v in loops.values()),
        "median_seconds": round(statistics.median(s["seconds"] for s in steps), 3) if steps else 0.0,
        "median_calls": statistics.median(s["llm_calls"] for s in steps) if steps else 0,
        "mean_calls": round(statistics.fmean(s["llm_calls"] for s in steps), 2) if steps else 0.0,
    }


def report(out: Path, columns: list[str]) -> str:
    summaries = {c: s for c in columns if (s := column_summary(out / c)) is not None}
    if not summaries:
        return "no finished column under " + str(out)
    names = list(summaries)
    lines = ["| game | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for g in GAMES:
        lines.append(f"| {g.name} | " + " | ".join(str(summaries[c]["games"].get(g.name, "-")) for c in names) + " |")
    lines.append("| **mean** | " + " | ".join(f"**{summaries[c]['mean']:.1f}**" for c in names) + " |")
    for label, key in (("two-cycles", "two_cycles"), ("long repeats", "long_repeats"),
                       ("median s/step (live)", "median_seconds"), ("median LLM calls/step", "median_calls"),
                       ("mean LLM calls/step", "mean_calls")):
        lines.append(f"| {label} | " + " | ".join(str(summaries[c][key]) for c in names) + " |")
    lines += ["", "TALES (TWX mean, no admissible list): " +
              ", ".join(f"{model} {score}" for model, score in TALES_TWX.items())]
    (out / "summary.json").write_text(json.dumps(summaries, indent=2) + "\n", encoding="utf-8")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--columns", default="ariadne,ariadne-nomem,ariadne+admissible",
                   help="agents to play, comma-separated; AGENT+admissible gives it the command list")
    p.add_argument("--split", default="test", choices=("train", "dev", "test"))
    p.add_argument("--seed-index", type=int, default=0)
    p.add_argument("--games", default="", help="a subset of the 16 (default all)")
    p.add_argument("--out", default="bench-twx")
    p.add_argument("--llm", default=None, help="the LLM (graphmem's --llm forms; default local)")
    p.add_argument("--report", action="store_true", help="only print the table of finished columns")
    args = p.parse_args(argv)
    out = Path(args.out)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    if not args.report:
        llm = make_llm(args.llm)
        games = [g.strip() for g in args.games.split(",") if g.strip()]
        for column in columns:
            agent, admissible = parse_column(column)
            result = eval_suite([agent], llm, out_dir=out / column, games=games, split=args.split,
                                seed_index=args.seed_index, admissible=admissible,
                                progress=lambda f: print(f"{column} {f['game']}: {f['score']} in {f['steps']} steps",
                                                         flush=True))
            print(f"{column}: mean {result['mean']}", flush=True)
    print(report(out, columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
