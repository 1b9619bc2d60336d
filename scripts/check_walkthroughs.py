"""Replay the walkthrough of every shared TextWorld task and print its normalised score.

Usage: python scripts/check_walkthroughs.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphmem_agents.walkthrough import replay_walkthrough
from graphmem_environments.textworld import TextWorldEnv, load_tasks


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(root / ".." / "shared" / "data"))
    args = parser.parse_args(argv)
    tasks_file = Path(args.data) / "textworld" / "arigraph" / "tasks.json"
    print(f"{'task':<14} {'steps':>5} {'score':>6} {'max':>5} {'normalized':>10}  won")
    failures = 0
    for name, task in load_tasks(tasks_file).items():
        # Walkthroughs may be longer than the agents' step budget; the check is about the wrapper.
        with TextWorldEnv(task, max_steps=10_000) as env:
            trace = replay_walkthrough(env)
        final = trace[-1][1]
        failures += final.normalized < 1.0
        print(f"{name:<14} {len(trace) - 1:>5} {final.score:>6g} {final.max_score:>5g} "
              f"{final.normalized:>10.3f}  {final.won}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
