"""Progress of long commands on a terminal: tqdm bars on stderr (count, rate, ETA), shown only when
stderr is a terminal (or with -v) and never with --quiet; stdout keeps the command's result alone."""
from __future__ import annotations

import sys


def add_quiet_option(p) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def showing(args) -> bool:
    return not getattr(args, "quiet", False) and (sys.stderr.isatty() or getattr(args, "verbose", False))


def progress_bar(args, **options):
    """A tqdm bar on stderr, disabled unless ``showing(args)``."""
    from tqdm import tqdm

    return tqdm(file=sys.stderr, disable=not showing(args), dynamic_ncols=True, **options)


def write_line(text: str) -> None:
    """A line on stderr that does not tear a bar being drawn."""
    from tqdm import tqdm

    tqdm.write(text, file=sys.stderr)


class RunWatcher:
    """Watches a game run through its records (``on_record`` of ``agents.evaluate.play``): a bar over
    the step budget with the score, and with ``print_steps`` one line per step as it happens."""

    def __init__(self, args, print_steps: bool = False, leave: bool = True):
        self.args, self.print_steps, self.leave = args, print_steps, leave
        self.bar = None

    def __call__(self, rec: dict) -> None:
        kind = rec.get("type")
        if kind == "start":
            self.close()
            self.bar = progress_bar(self.args, total=rec.get("max_steps"), unit="step", leave=self.leave,
                                    initial=rec.get("resumed_steps", 0),
                                    desc=f"{rec.get('task') or rec.get('game')} {rec.get('agent', '')}".strip())
        elif kind == "step":
            if self.bar is not None:
                self.bar.update(rec["step"] - self.bar.n)
                self.bar.set_postfix(score=f"{rec['score']:g}/{rec['max_score']:g}")
            if self.print_steps:
                write_line(step_line(rec))
        elif kind == "final":
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def step_line(rec: dict) -> str:
    """One step of a run for a person: step, score, tokens, seconds, then the action."""
    return (f"step {rec['step']:>3}  score {rec['score']:g}/{rec['max_score']:g}  "
            f"tokens {rec['prompt_tokens']}+{rec['completion_tokens']}  {rec['seconds']:6.2f} s  "
            f"> {rec['action']}")
