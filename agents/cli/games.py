"""Text-game commands: eval-memory (replay a walkthrough into a memory and score it)."""
from __future__ import annotations

from graphmem.cli.common import NON_NEGATIVE, add_extractor_options, open_llm, print_json

from . import require_games


def register(sub) -> None:
    p = sub.add_parser(
        "eval-memory", help="score a memory built from a game's walkthrough against the game's true state",
        description="Replay the walkthrough of G, feed every observation to a fresh memory and compare its "
                    "current triples with the ground truth restricted to what has been observed. "
                    "Precision counts only triples the ground truth can express (in, on, is "
                    "open/closed/locked, has exit, is <direction> of); other triples are reported as "
                    "unscored.")
    p.add_argument("--game", metavar="G", required=True,
                   help="a .z8 file, a task name from --tasks, or a generator spec such as "
                        "tw-cooking:recipe=1,take=1,go=1,cut")
    p.add_argument("--tasks", metavar="FILE", help="task file (JSON) naming games, goals and walkthroughs")
    p.add_argument("--seed", type=NON_NEGATIVE, default=0, help="seed for generated games (default 0)")
    add_extractor_options(p)
    p.add_argument("--json", action="store_true",
                   help="print a JSON object with precision, recall, f1, steps and per_step")
    p.set_defaults(handler=cmd_eval_memory)


def cmd_eval_memory(args) -> None:
    require_games("eval-memory")
    from graphmem_agents.eval_memory import evaluate_memory
    from graphmem_environments.textworld import resolve_game

    task = resolve_game(args.game, tasks=args.tasks, seed=args.seed)
    llm = open_llm(args) if args.extractor == "llm" else None
    result = evaluate_memory(task, extractor=args.extractor, llm=llm)
    if args.json:
        print_json(result.to_json())
        return
    print(f"game {result.game}   extractor {result.extractor}   steps {result.steps}")
    print(f"{'step':>4}  {'command':<34} {'P':>6} {'R':>6} {'F1':>6} {'truth':>6} {'memory':>6} {'unscored':>8}")
    for s in result.per_step:
        command = (s.command or "(start)")[:34]
        print(f"{s.step:>4}  {command:<34} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} "
              f"{s.truth:>6} {s.predicted:>6} {s.unscored:>8}")
    print(f"final: precision {result.precision:.3f}  recall {result.recall:.3f}  F1 {result.f1:.3f}"
          f"   (mean F1 over steps {result.mean_f1:.3f})")
    print("(precision over triples in the ground-truth vocabulary: in, on, is open/closed/locked, "
          "has exit, is <direction> of; 'unscored' = other memory triples)")
