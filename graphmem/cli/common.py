"""Helpers shared by command modules: errors users can act on, graph opening, JSON printing."""
from __future__ import annotations

import argparse
import json
import os
import sys


class UserError(Exception):
    """Printed as 'graphmem CMD: error: ...' with exit code 2."""


def add_graph_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--graph", metavar="FILE", help="graph file of the embedded store")
    p.add_argument("--store", metavar="URI",
                   help="a graph server instead of a file: bolt://HOST:PORT or neo4j://HOST:PORT")
    add_server_options(p)
    p.set_defaults(graph_required=required)


def add_server_options(p: argparse.ArgumentParser) -> None:
    """Credentials for a graph server; each defaults to its NEO4J_* environment variable."""
    g = p.add_argument_group("graph server (bolt:// or neo4j:// URIs)")
    g.add_argument("--user", help="default: NEO4J_USER, else neo4j")
    g.add_argument("--password", help="default: NEO4J_PASSWORD")
    g.add_argument("--database", help="default: NEO4J_DATABASE, else the server's default database")


def open_store_arg(args, spec, create: bool = False):
    """open_store(spec) with the server options from ``args``; StoreError becomes a UserError."""
    from graphmem.store import StoreError, open_store

    try:
        return open_store(spec, create=create, user=getattr(args, "user", None),
                          password=getattr(args, "password", None),
                          database=getattr(args, "database", None))
    except StoreError as exc:
        raise UserError(str(exc)) from exc


def open_graph_store(args, create: bool = False):
    """The store named by --store, --graph or NEO4J_URI; a clear error when none or a bad one is given."""
    spec = getattr(args, "store", None) or getattr(args, "graph", None) or os.environ.get("NEO4J_URI")
    if not spec:
        raise UserError("give --graph FILE (a graph built by 'graphmem build') or --store bolt://HOST:PORT")
    return open_store_arg(args, spec, create=create)


def add_llm_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("LLM (for commands that use one)")
    g.add_argument("--llm", metavar="SPEC",
                   help="local (the default when no endpoint is configured), local:PATH.gguf, or "
                        "openai:MODEL (server from OPENAI_BASE_URL, key from OPENAI_API_KEY)")
    cache = g.add_mutually_exclusive_group()
    cache.add_argument("--no-cache", dest="llm_cache", action="store_const", const="off", default="on",
                       help="neither read nor write the LLM response cache")
    cache.add_argument("--replay", dest="llm_cache", action="store_const", const="replay",
                       help="answer LLM requests only from the response cache; a miss is an error")


def open_llm(args):
    """The chat model named by --llm (and the cache mode); a clear error when it cannot be set up."""
    from graphmem.llm import LLMError, make_llm

    try:
        return make_llm(args.llm, cache_mode=args.llm_cache)
    except (LLMError, ValueError) as exc:
        raise UserError(str(exc)) from exc


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
