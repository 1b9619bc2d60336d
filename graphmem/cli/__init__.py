"""The `graphmem` command. Each command group lives in its own module with ``register(subparsers)``;
handlers only parse arguments, call library code (imported lazily) and print."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .common import UserError, add_llm_options

# Command groups, in the order they appear in --help.
COMMAND_MODULES = ["graphmem.cli.core", "graphmem.cli.store", "graphmem.cli.games", "graphmem.cli.qa",
                   "graphmem.cli.play"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphmem",
        description="Knowledge-graph memory for LLM agents and GraphRAG over document corpora.",
        epilog="Run 'graphmem COMMAND --help' for a command's options.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    add_llm_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # Imported after parsing so that --help stays fast. A store failing mid-command (a graph
    # server gone away) is the user's to act on, like a UserError: message, no traceback.
    from graphmem.store.base import StoreError

    try:
        return int(args.handler(args) or 0)
    except (UserError, StoreError) as exc:
        print(f"graphmem {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
