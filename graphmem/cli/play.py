"""Agent commands: play (one episode) and eval-agents (agents compared over games)."""
from __future__ import annotations

import argparse
import sys

from .common import UserError, open_llm, print_json

AGENT_HELP = "ariadne, full-history, summary, rag or walkthrough"


def _add_llm_here(p: argparse.ArgumentParser) -> None:
    """--llm/--no-cache/--replay after the command too; SUPPRESS keeps the global value when absent."""
    p.add_argument("--llm", metavar="SPEC", default=argparse.SUPPRESS,
                   help="local, local:PATH.gguf or openai:MODEL (as the global --llm)")
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--no-cache", dest="llm_cache", action="store_const", const="off", default=argparse.SUPPRESS)
    cache.add_argument("--replay", dest="llm_cache", action="store_const", const="replay", default=argparse.SUPPRESS)


def _add_game_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", metavar="FILE", help="task file naming games (e.g. ../shared/data/textworld/arigraph/tasks.json)")
    p.add_argument("--max-steps", type=int, help="step budget (default: the task's, else 100)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of generated games and of the chooser's sampling (default 0)")
    p.add_argument("--temperature", type=float, default=None,
                   help="sample the action chooser at this temperature (default 0: the best-scored "
                        "command; eval-agents samples later runs of a fixed game at 0.3)")
    p.add_argument("--extractor", choices=("offline", "llm"), default="offline",
                   help="Ariadne's triple extractor: offline spaCy (no LLM call) or the LLM (one call a step)")
    _add_llm_here(p)


def register(sub) -> None:
    p = sub.add_parser("play", help="play one episode of a TextWorld game with an agent",
                       description="Play GAME (a .z8 path, a task name from --tasks, or a generator spec "
                                   "such as tw-cooking:recipe=1,take=1,go=1,cut) and print the result as JSON.")
    p.add_argument("--game", required=True, metavar="G")
    p.add_argument("--agent", required=True, metavar="AGENT", help=AGENT_HELP)
    p.add_argument("--log", metavar="FILE.jsonl", help="write one JSON line per step (and a final line)")
    p.add_argument("--resume", action="store_true", help="continue the run logged in --log")
    _add_game_options(p)
    p.set_defaults(handler=cmd_play)

    p = sub.add_parser("eval-agents", help="compare agents over games (markdown and JSON table)",
                       description="Every agent plays every game --runs times; prints a markdown table of "
                                   "normalised scores (mean and best) with tokens and time, and writes "
                                   "results.md, results.json and per-run logs under --out (reruns resume).")
    p.add_argument("--games", required=True, metavar="G1,G2")
    p.add_argument("--agents", required=True, metavar="A1,A2", help=f"comma-separated: {AGENT_HELP}")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--out", metavar="DIR", default="eval-agents", help="output folder (default ./eval-agents)")
    p.add_argument("--json", action="store_true", help="print the JSON result instead of the table")
    _add_game_options(p)
    p.set_defaults(handler=cmd_eval_agents)


def _llm_if_needed(args, agents) -> object:
    return open_llm(args) if any(a != "walkthrough" for a in agents) else None


def cmd_play(args) -> None:
    from agents.evaluate import play
    from agents.runner import RunLogError
    from environments.textworld import GameError

    if args.resume and not args.log:
        raise UserError("--resume needs --log FILE.jsonl (the log of the run to continue)")
    llm = _llm_if_needed(args, [args.agent])
    try:
        final = play(args.game, args.agent, llm, tasks=args.tasks, seed=args.seed, max_steps=args.max_steps,
                     log_path=args.log, resume=args.resume, extractor=args.extractor,
                     temperature=args.temperature or 0.0)
    except (GameError, RunLogError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc
    except ValueError as exc:  # e.g. a game without a walkthrough for the walkthrough agent
        raise UserError(str(exc)) from exc
    print_json(final)


def cmd_eval_agents(args) -> None:
    from agents.evaluate import eval_agents, markdown_table
    from agents.runner import RunLogError
    from environments.textworld import GameError

    games = [g for g in args.games.split(",") if g]
    agents = [a for a in args.agents.split(",") if a]
    if args.runs < 1:
        raise UserError("--runs must be at least 1")
    llm = _llm_if_needed(args, agents)

    def progress(final: dict) -> None:
        print(f"{final['game']} {final['agent']} seed {final['seed']}: normalized {final['normalized']} "
              f"in {final['steps']} steps, {final['seconds']} s", file=sys.stderr)

    try:
        result = eval_agents(games, agents, args.runs, llm, out_dir=args.out, tasks=args.tasks,
                             max_steps=args.max_steps, seed=args.seed, extractor=args.extractor,
                             temperature=args.temperature, progress=progress)
    except (GameError, RunLogError, FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    if args.json:
        print_json(result)
    else:
        print(markdown_table(result["rows"]))
