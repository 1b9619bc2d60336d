"""The `graphmem` command. Each command group lives in its own module with ``register(subparsers)``;
handlers only parse arguments, call library code (imported lazily) and print.

The engine's own commands are listed here. Other packages add theirs through the entry-point group
``graphmem.commands`` (each entry a ``register(subparsers)`` function): the game and evaluation
commands come that way, so the library never imports the agents or environments built on it."""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from importlib.metadata import entry_points

from graphmem.embedders.precision import PRECISIONS
from graphmem.errors import GraphmemError

from .common import add_llm_options
from .crash import report_crash

# The engine's command groups, in the order they appear in --help; plugin commands follow them.
COMMAND_MODULES = ["graphmem.cli.core", "graphmem.cli.corpus", "graphmem.cli.store", "graphmem.cli.qa",
                   "graphmem.cli.serve"]
PLUGIN_GROUP = "graphmem.commands"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphmem",
        description="Knowledge-graph memory for LLM agents and GraphRAG over document corpora.",
        epilog="Exit codes: 0 done, 2 an error you can act on (one line says what to do), 1 a bug "
               "(the full trace is written to a file; -v prints it). "
               "Run 'graphmem COMMAND --help' for a command's options.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log progress details to stderr, and print the trace of an internal error")
    parser.add_argument("--embed-precision", choices=PRECISIONS,
                        help="number format the embedder computes in (default: GRAPHMEM_EMBED_PRECISION, "
                             "else f32); bf16 only on CPUs with native bfloat16 (avx512_bf16, amx_bf16): "
                             "~1.9x faster encoding, vectors within 1e-4 cosine of f32's")
    add_llm_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    _register_plugins(sub)
    return parser


def _register_plugins(sub) -> None:
    """Add the commands of every installed plugin, sorted by entry name so --help never depends on
    install order. A plugin that fails to load is skipped with a warning: the engine's commands must
    keep working when an optional package is broken."""
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        try:
            register = entry.load()
        except Exception as exc:  # noqa: BLE001 - any failure of someone else's package
            print(f"graphmem: warning: commands of plugin {entry.name!r} ({entry.value}) could not be "
                  f"loaded and are left out: {exc}", file=sys.stderr)
            continue
        register(sub)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.embed_precision:
        # Read wherever an embedder is made: in this process, and in the workers it starts.
        os.environ["GRAPHMEM_EMBED_PRECISION"] = args.embed_precision
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # The one error boundary: what the user can act on is one line and exit 2; anything else is a
    # bug, reported with where its trace went, never as a bare traceback.
    try:
        return int(args.handler(args) or 0)
    except GraphmemError as exc:
        _error(args, " ".join(str(exc).split()))
        return 2
    except BrokenPipeError:  # the reader of our output went away (| head): nothing left to tell it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        if exc.filename is None:  # not about a path the user named: treat it as the bug it may be
            return report_crash(args.command, exc, verbose=args.verbose)
        _error(args, f"{exc.strerror or exc}: {exc.filename}")
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the boundary exists to catch what nobody expected
        return report_crash(args.command, exc, verbose=args.verbose)


def _error(args, message: str) -> None:
    print(f"graphmem {args.command}: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
