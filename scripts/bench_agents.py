"""The agent table: Ariadne and the baselines on the shared AriGraph games and on generated cooking
games at four difficulties; local Qwen2.5-Coder-1.5B and the offline extractor unless told otherwise.

    .venv/bin/python scripts/bench_agents.py [--data ../shared/data] [--out runs/bench-agents]
        [--runs 3] [--seeds 5] [--baseline-runs 1] [--parts shared,generated,baselines]

Resumable: every run logs to OUT/*/logs and a rerun reads finished runs back. Prints each part's
markdown table (also written to OUT/PART/results.md); ``--parts report`` prints one table of every
finished run under OUT, with the median seconds of a step.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from graphmem_agents.evaluate import eval_agents, markdown_table, summarize
from graphmem_agents.runner import RunLog
from graphmem.llm import make_llm

SHARED = ["cook_1_1_cut", "cook_1_1_full", "cook_1_9", "cook_3_6_1", "cook", "hunt", "clean"]
# Like the four shared cooking levels: 1 ingredient/1 room with a cut; with a cut and cooking;
# 1 ingredient/9 rooms; 3 ingredients/6 rooms.
GENERATED = ["tw-cooking:recipe=1,take=1,go=1,cut", "tw-cooking:recipe=1,take=1,go=1,cut,cook",
             "tw-cooking:recipe=1,take=1,go=9", "tw-cooking:recipe=3,take=3,go=6,cut,cook,open"]
BASELINES = ["full-history", "summary", "rag"]


def report(out: Path) -> str:
    """One table over every finished run logged under ``out``, plus the median step time."""
    runs: dict[tuple[str, str], list[dict]] = defaultdict(list)
    step_seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    for path in sorted(out.glob("*/logs/*.jsonl")):
        log = RunLog.read(path)
        if log.final is None:
            continue
        key = (log.final["game"], log.final["agent"])
        runs[key].append(log.final)
        step_seconds[key] += [s["seconds"] for s in log.steps if s.get("llm_calls") or not s.get("cached")]
    rows = [summarize(game, agent, finals) for (game, agent), finals in sorted(runs.items())]
    lines = [markdown_table(rows), "", "| game | agent | median s/step |", "|---|---|---|"]
    lines += [f"| {g} | {a} | {statistics.median(step_seconds[(g, a)]):.2f} |" for g, a in sorted(runs)
              if step_seconds[(g, a)]]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default="runs/bench-agents")
    ap.add_argument("--llm", default="local")
    ap.add_argument("--runs", type=int, default=3, help="Ariadne runs per shared game")
    ap.add_argument("--seeds", type=int, default=5, help="generated games per difficulty")
    ap.add_argument("--baseline-runs", type=int, default=1)
    ap.add_argument("--games", default=",".join(SHARED), help="shared games to play")
    ap.add_argument("--baseline-games", default=",".join(SHARED))
    ap.add_argument("--baselines", default=",".join(BASELINES), help="baseline agents to play")
    ap.add_argument("--parts", default="shared,generated,baselines", help="any of shared, generated, "
                    "baselines, report (comma-separated)")
    args = ap.parse_args()
    tasks = str(Path(args.data) / "textworld" / "arigraph" / "tasks.json")
    out = Path(args.out)
    parts = args.parts.split(",")
    if parts == ["report"]:
        print(report(out))
        return
    llm = make_llm(args.llm)

    def progress(final: dict) -> None:
        print(f"  {final['game']} {final['agent']} seed {final['seed']}: {final['normalized']} "
              f"won={final['won']} in {final['steps']} steps, {final['seconds']} s", file=sys.stderr, flush=True)

    if "shared" in parts:
        result = eval_agents(args.games.split(","), ["ariadne"], args.runs, llm, out_dir=out / "shared-ariadne",
                             tasks=tasks, progress=progress)
        print(markdown_table(result["rows"]), flush=True)
    if "generated" in parts:
        for i, spec in enumerate(GENERATED, 1):
            result = eval_agents([spec], ["ariadne"], args.seeds, llm, out_dir=out / f"generated-{i}", progress=progress)
            print(markdown_table(result["rows"]), flush=True)
    if "baselines" in parts:
        result = eval_agents(args.baseline_games.split(","), args.baselines.split(","), args.baseline_runs, llm,
                             out_dir=out / "shared-baselines", tasks=tasks, progress=progress)
        print(markdown_table(result["rows"]), flush=True)
    if "report" in parts:
        print(report(out))


if __name__ == "__main__":
    main()
