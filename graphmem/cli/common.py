"""Helpers shared by command modules: errors users can act on, checked numbers and output paths,
graph and LLM opening, JSON printing."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from graphmem.errors import GraphmemError


class UserError(GraphmemError):
    """Printed as 'graphmem CMD: error: ...' with exit code 2."""


def number(kind: type = int, *, min: float | None = None, max: float | None = None,
           open_min: bool = False, open_max: bool = False):
    """An argparse ``type`` that parses ``kind`` and refuses values outside the given range."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if value != value or (min is not None and (value < min or open_min and value == min)) or \
                (max is not None and (value > max or open_max and value == max)):
            raise argparse.ArgumentTypeError(f"{text} is out of range: expected {_range(min, max, open_min, open_max)}")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _range(lo, hi, open_lo, open_hi) -> str:
    if hi is None:
        return f"a value {'>' if open_lo else '>='} {lo:g}"
    if lo is None:
        return f"a value {'<' if open_hi else '<='} {hi:g}"
    return f"{'(' if open_lo else '['}{lo:g}, {hi:g}{')' if open_hi else ']'}"


POSITIVE = number(int, min=1)
NON_NEGATIVE = number(int, min=0)


def check_output_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """Fail now, before any work, if ``path`` cannot be written as a file (missing folders are made
    later by the writer, so only an existing ancestor that is no folder or not writable counts)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{what} {path} is a folder: give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"{what} {path} is not writable")
    _check_parent(path.parent, what, path)
    return path


def check_output_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Fail now if ``path`` cannot be a folder we write into."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{what} {path} is a file: give a folder")
    if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"{what} {path} is not writable")
    _check_parent(path.parent, what, path)
    return path


def _check_parent(parent: Path, what: str, path: Path) -> None:
    ancestor = parent.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"cannot write {what} {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {what} {path}: folder {ancestor} is not writable")


def add_graph_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--graph", metavar="FILE", help="graph file of the embedded store")
    p.add_argument("--store", metavar="URI",
                   help="a graph server instead of a file: bolt://HOST:PORT, neo4j://HOST:PORT or "
                        "falkor://HOST:PORT[/GRAPH]")
    add_namespace_option(p)
    add_server_options(p)
    p.set_defaults(graph_required=required)


def add_namespace_option(p: argparse.ArgumentParser, both_sides: bool = False) -> None:
    """--namespace; ``both_sides``: for a copy, which reads and writes the same namespace."""
    p.add_argument("--namespace", metavar="NAME", type=namespace_name, default="default",
                   help="the namespace of the memory to use: each is a graph of its own (default: default)"
                        + ("; the copy reads and writes that namespace" if both_sides else ""))


def namespace_name(text: str) -> str:
    """An argparse ``type``: a valid namespace name."""
    from graphmem.store.namespaces import NamespaceError, checked_namespace

    try:
        return checked_namespace(text)
    except NamespaceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def check_write_cypher(args) -> None:
    """Cypher writes need a graph server: refuse ``--write`` on a graph file before anything opens,
    rather than accept it and then refuse every query."""
    if getattr(args, "write", False) and not args.store:
        raise UserError("--write needs a graph server (--store bolt://HOST:PORT): a graph file answers "
                        "read-only Cypher; change it with build, add or forget, or leave out --write")


def add_cypher_limit_options(p: argparse.ArgumentParser) -> None:
    """--timeout, --max-rows and --max-memory: the bounds on each Cypher query. Left out, an option
    is None and ``CypherLimits`` keeps its default; 0 turns that bound off."""
    g = p.add_argument_group("bounds on each Cypher query (0 turns one off)")
    g.add_argument("--timeout", metavar="SECONDS", type=number(float, min=0),
                   help="stop a query that runs longer (default 30)")
    g.add_argument("--max-rows", metavar="N", type=NON_NEGATIVE,
                   help="refuse a query that answers more rows, rather than cut them off (default 10000)")
    g.add_argument("--max-memory", metavar="MB", type=NON_NEGATIVE,
                   help="stop a query on a graph file that grows this process's memory by more "
                        "(default 1024)")


def cypher_limits(args):
    """The CypherLimits asked for by the options of ``add_cypher_limit_options``."""
    from graphmem.store.cypher_limits import CypherLimits

    given = {"timeout": args.timeout, "max_rows": args.max_rows, "max_memory": args.max_memory}
    return CypherLimits(**{name: value for name, value in given.items() if value is not None})


def add_server_options(p: argparse.ArgumentParser) -> None:
    """Credentials for a graph server; each defaults to its NEO4J_* environment variable."""
    g = p.add_argument_group("graph server (bolt:// or neo4j:// URIs; a falkor:// URI carries its own)")
    g.add_argument("--user", help="default: NEO4J_USER, else neo4j")
    g.add_argument("--password", help="default: NEO4J_PASSWORD")
    g.add_argument("--database", help="default: NEO4J_DATABASE, else the server's default database")


def open_store_arg(args, spec, **options):
    """open_store(spec, **options) with the server options and the namespace from ``args``."""
    from graphmem.store import open_store

    options.setdefault("namespace", getattr(args, "namespace", "default"))
    return open_store(spec, **options, user=getattr(args, "user", None),
                      password=getattr(args, "password", None), database=getattr(args, "database", None))


def graph_spec(args) -> str:
    """The store named by --store, --graph or NEO4J_URI; a clear error when none is given."""
    spec = getattr(args, "store", None) or getattr(args, "graph", None) or os.environ.get("NEO4J_URI")
    if not spec:
        raise UserError("give --graph FILE (a graph built by 'graphmem build') or --store bolt://HOST:PORT")
    return spec


def open_graph_store(args, create: bool = False, readonly: bool = False):
    """The store named by --store, --graph or NEO4J_URI. ``readonly``: a file store that takes no
    lock and never saves (reading commands), so it never waits for a writer."""
    return open_store_arg(args, graph_spec(args), create=create, readonly=readonly)


def add_llm_options(parser: argparse.ArgumentParser, suppress: bool = False) -> None:
    """--llm, --llm-timeout and --no-cache/--replay; ``suppress``: for a copy of the options after a
    command, where an absent option keeps the global value."""
    keep: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    g = parser.add_argument_group("LLM (for commands that use one)")
    g.add_argument("--llm", metavar="SPEC", **keep,
                   help="local (the default when no endpoint is configured), local:PATH.gguf, or "
                        "openai:MODEL (server from OPENAI_BASE_URL, key from OPENAI_API_KEY)")
    g.add_argument("--llm-timeout", metavar="SECONDS", type=number(float, min=0, open_min=True), **keep,
                   help="most seconds one LLM call may take, retries included (default: "
                        "GRAPHMEM_LLM_TIMEOUT, else 120 for servers, no limit for the local model)")
    cache = g.add_mutually_exclusive_group()
    cache.add_argument("--no-cache", dest="llm_cache", action="store_const", const="off",
                       default=argparse.SUPPRESS if suppress else "on",
                       help="neither read nor write the LLM response cache")
    cache.add_argument("--replay", dest="llm_cache", action="store_const", const="replay", **keep,
                       help="answer LLM requests only from the response cache; a miss is an error")


def add_extractor_options(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """--extractor (the registry's names) and the LLM options after the command."""
    from graphmem.extract import EXTRACTORS

    parser.add_argument("--extractor", choices=EXTRACTORS, default="offline",
                        help=help or "offline: spaCy rules (default); llm: the model chosen by --llm")
    add_llm_options(parser, suppress=True)


def open_extractor(args, profile, llm=None):
    """The extractor named by --extractor, worded for the domain ``profile``; ``llm``: the model
    to extract with when it is open already (else --llm's is opened, if the extractor needs one)."""
    from graphmem.extract import make_extractor

    if args.extractor != "llm":
        llm = None
    elif llm is None:
        llm = open_llm(args)
    return make_extractor(args.extractor, llm, profile)


def open_llm(args):
    """The chat model named by --llm (with the cache mode and timeout)."""
    from graphmem.llm import make_llm

    return make_llm(args.llm, cache_mode=args.llm_cache, timeout=args.llm_timeout)


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
