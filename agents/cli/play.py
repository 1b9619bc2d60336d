"""Agent commands: play (one episode) and eval-agents (agents compared over games)."""
from __future__ import annotations

import argparse
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

from graphmem.cli.common import (NON_NEGATIVE, POSITIVE, UserError, number, add_extractor_options, check_output_dir,
                                 check_output_file, open_llm, print_json)
from graphmem.cli.progress import RunWatcher, add_quiet_option, progress_bar, write_line

from graphmem_environments.twx.suite import SPLITS, SUITE

from . import require_games

AGENT_HELP = "ariadne, ariadne-generic (no family module), ariadne-nomem (memory off), full-history, summary, rag or walkthrough"


def _add_game_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", metavar="FILE", help="task file naming games (e.g. ../shared/data/textworld/arigraph/tasks.json)")
    p.add_argument("--max-steps", type=POSITIVE, help="step budget (default: the task's, else 100)")
    p.add_argument("--seed", type=NON_NEGATIVE, default=0,
                   help="seed of generated games and of the chooser's sampling (default 0)")
    p.add_argument("--temperature", type=number(float, min=0, max=10), default=None,
                   help="sample the action chooser at this temperature (default 0: the best-scored "
                        "command; eval-agents samples later runs of a fixed game at 0.3)")
    add_extractor_options(p, "Ariadne's triple extractor: offline spaCy (no LLM call) or the LLM "
                             "(one call a step)")
    add_quiet_option(p)


def register(sub) -> None:
    p = sub.add_parser("play", help="play one episode of a TextWorld game with an agent",
                       description="Play GAME (a .z8 path, a task name from --tasks, or a generator spec "
                                   "such as tw-cooking:recipe=1,take=1,go=1,cut) and print the result as JSON.")
    p.add_argument("--game", required=True, metavar="G")
    p.add_argument("--agent", required=True, metavar="AGENT", help=AGENT_HELP)
    p.add_argument("--log", metavar="FILE.jsonl", help="write one JSON line per step (and a final line)")
    existing = p.add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true", help="continue the run logged in --log")
    existing.add_argument("--force", action="store_true", help="start the run in --log over (its old lines are lost)")
    p.add_argument("--print-steps", action="store_true",
                   help="print each step as it happens on stderr: step, score, tokens, seconds, action")
    p.add_argument("--view", metavar="FILE.html",
                   help="write the HTML view (as 'graphmem view') of the agent's memory at the end (ariadne)")
    _add_game_options(p)
    p.set_defaults(handler=cmd_play)

    p = sub.add_parser("eval-agents", help="compare agents over games (markdown and JSON table)",
                       description="Every agent plays every game --runs times; prints a markdown table of "
                                   "normalised scores (mean and best) with tokens and time, and writes "
                                   "results.md, results.json and per-run logs under --out (reruns resume). "
                                   "With --suite twx: the TALES TextWorldExpress games under TALES's "
                                   "protocol (high score 0-100 in 100 steps, a lost game restarts).")
    p.add_argument("--games", metavar="G1,G2", action="append",
                   help="games separated by commas (a comma inside a generator spec stays in it) or by "
                        "';'; the option may be repeated. With --suite: a subset of its games "
                        "(default all), e.g. TWXCoinCollector,TWXMapReader")
    suite = p.add_argument_group("benchmark suite")
    suite.add_argument("--suite", choices=[SUITE], help="play a benchmark suite instead of --games: twx, the "
                                                        "16 TextWorldExpress games of TALES")
    suite.add_argument("--split", choices=SPLITS, help="the suite's seed split (default test)")
    suite.add_argument("--seed-index", type=NON_NEGATIVE, help="which seed of the split (default 0, its first)")
    suite.add_argument("--admissible", action="store_true",
                       help="show the agent the game's valid actions (TALES's default: none)")
    p.add_argument("--agents", required=True, metavar="A1,A2", help=f"comma-separated: {AGENT_HELP}")
    p.add_argument("--runs", type=POSITIVE, default=1)
    p.add_argument("--out", metavar="DIR", default="eval-agents", help="output folder (default ./eval-agents)")
    p.add_argument("--json", action="store_true", help="print the JSON result instead of the table")
    _add_game_options(p)
    p.set_defaults(handler=cmd_eval_agents)


def _with_progress(args, total: int, line: Callable[[dict], str], play: Callable) -> dict:
    """``play(progress, on_record)`` under a bar of runs, a line per finished run and a step watcher."""
    runs = progress_bar(args, total=total, unit="run", desc="runs")
    steps = RunWatcher(args, leave=False)

    def progress(final: dict) -> None:
        runs.update(1)
        write_line(line(final))

    try:
        return play(progress, steps)
    finally:
        steps.close()
        runs.close()


def _llm_if_needed(args, agents) -> object:
    return open_llm(args) if any(a != "walkthrough" for a in agents) else None


def _check_agents(agents: list[str]) -> list[str]:
    from graphmem_agents.factory import AGENTS

    unknown = [a for a in agents if a not in AGENTS]
    if unknown or not agents:
        raise UserError(f"unknown agent {', '.join(map(repr, unknown)) or '(none)'}; agents: {', '.join(AGENTS)}")
    return agents


def cmd_play(args) -> None:
    require_games("play")
    from graphmem_agents.evaluate import play
    from graphmem.util.filelock import FileLock

    if args.resume and not args.log:
        raise UserError("--resume needs --log FILE.jsonl (the log of the run to continue)")
    if args.force and not args.log:
        raise UserError("--force starts the run in --log over: give --log FILE.jsonl")
    _check_agents([args.agent])
    if args.log:
        check_output_file(args.log, "--log")
    if args.view:
        if not args.agent.startswith("ariadne"):
            raise UserError(f"--view draws a graph memory: agent {args.agent!r} has none (use --agent ariadne)")
        check_output_file(args.view, "--view")
    llm = _llm_if_needed(args, [args.agent])
    watcher = RunWatcher(args, print_steps=args.print_steps)
    # Held here too (the runner takes it again) so that --force never deletes a log in use.
    with FileLock(args.log, "run log") if args.log else nullcontext():
        if args.force:
            Path(args.log).unlink(missing_ok=True)
        try:
            final = play(args.game, args.agent, llm, tasks=args.tasks, seed=args.seed, max_steps=args.max_steps,
                         log_path=args.log, resume=args.resume, extractor=args.extractor,
                         temperature=args.temperature or 0.0, on_record=watcher,
                         after=(lambda agent: _write_view(agent, args.view, args.game)) if args.view else None)
        finally:
            watcher.close()
    print_json(final)


def _write_view(agent, path: str, game: str) -> None:
    from graphmem.view import render_html, write_page

    memory = getattr(agent, "memory", None)
    if memory is None:  # a complete run found in --log is not played again: no memory to draw
        write_line(f"graphmem play: warning: the run in the log was already complete; no memory, so "
                   f"{path} was not written")
        return
    write_page(path, render_html(memory.store, title=f"graphmem: {agent.name} on {game}"))


def cmd_eval_agents(args) -> None:
    require_games("eval-agents")
    if args.suite:
        return _eval_suite(args)
    given = [flag for flag, value in (("--split", args.split), ("--seed-index", args.seed_index),
                                      ("--admissible", args.admissible)) if value not in (None, False)]
    if given:
        raise UserError(f"{', '.join(given)} choose(s) the games of a suite: add --suite {SUITE}")
    if not args.games:
        raise UserError("eval-agents needs --games (or --suite)")
    from graphmem_agents.evaluate import eval_agents, markdown_table
    from graphmem_environments.textworld import split_games

    games = [g for text in args.games for g in split_games(text, tasks=args.tasks)]
    if not games:
        raise UserError("--games names no game")
    agents = _check_agents([a.strip() for a in args.agents.split(",") if a.strip()])
    check_output_dir(args.out, "--out")
    llm = _llm_if_needed(args, agents)
    result = _with_progress(
        args, len(games) * len(agents) * args.runs,
        lambda f: f"{f['game']} {f['agent']} seed {f['seed']}: normalized {f['normalized']} "
                  f"in {f['steps']} steps, {f['seconds']} s",
        lambda progress, steps: eval_agents(games, agents, args.runs, llm, out_dir=args.out, tasks=args.tasks,
                                            max_steps=args.max_steps, seed=args.seed, extractor=args.extractor,
                                            temperature=args.temperature, progress=progress, on_record=steps))
    if args.json:
        print_json(result)
    else:
        print(markdown_table(result["rows"]))


def _eval_suite(args) -> None:
    from graphmem_agents.suite import eval_suite, markdown_table
    from graphmem_environments.episode import DEFAULT_MAX_STEPS
    from graphmem_environments.twx import GAMES, game

    if args.runs != 1 or args.tasks:
        raise UserError(f"--suite {args.suite} plays each of its games once: drop --runs and --tasks")
    names = [name.strip() for text in args.games or () for name in text.replace(";", ",").split(",")]
    games = [game(name).name for name in names if name]
    if args.games and not games:
        raise UserError("--games names no game")
    agents = _check_agents([a.strip() for a in args.agents.split(",") if a.strip()])
    check_output_dir(args.out, "--out")
    llm = _llm_if_needed(args, agents)
    result = _with_progress(
        args, (len(games) or len(GAMES)) * len(agents),
        lambda f: f"{f['game']} {f['agent']} {f['split']} seed {f['game_seed']}: score "
                  f"{f['score']:g}/{f['max_score']:g} in {f['steps']} steps, {f['seconds']} s",
        lambda progress, steps: eval_suite(agents, llm, out_dir=args.out, games=games, split=args.split or "test",
                                           seed_index=args.seed_index or 0, admissible=args.admissible,
                                           max_steps=args.max_steps or DEFAULT_MAX_STEPS, seed=args.seed,
                                           extractor=args.extractor, temperature=args.temperature or 0.0,
                                           progress=progress, on_record=steps))
    if args.json:
        print_json(result)
    else:
        print(markdown_table(result.get("agents") or {result["agent"]: result}))
