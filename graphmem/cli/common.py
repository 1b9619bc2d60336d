"""Helpers shared by command modules: errors users can act on, graph opening, JSON printing."""
from __future__ import annotations

import argparse
import json
import sys


class UserError(Exception):
    """Printed as 'graphmem CMD: error: ...' with exit code 2."""


def add_graph_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--graph", metavar="FILE", help="graph file of the embedded store")
    p.add_argument("--store", metavar="URI",
                   help="a graph server instead of a file: bolt://HOST:PORT or neo4j://HOST:PORT")
    p.set_defaults(graph_required=required)


def open_graph_store(args, create: bool = False):
    """The store named by --store or --graph; a clear error when neither or a bad one is given."""
    from graphmem.store import StoreError, open_store

    spec = getattr(args, "store", None) or getattr(args, "graph", None)
    if not spec:
        raise UserError("give --graph FILE (a graph built by 'graphmem build') or --store bolt://HOST:PORT")
    try:
        return open_store(spec, create=create)
    except StoreError as exc:
        raise UserError(str(exc)) from exc


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
