"""Read-only Cypher for the embedded store: grand-cypher run over a networkx copy of the graph.

Entities are ``Entity`` nodes with a ``name``; each triple is a ``REL`` edge carrying ``id``,
``relation``, ``valid_from``, ``valid_until``, ``sources`` and, when set, ``retired_by``, as on a Bolt
server, so a query reads the same on both. Queries are adjusted to grand-cypher's dialect first and answers made plain.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable

import networkx as nx
import numpy as np

from ..model import Triple
from .base import CypherError
from .cypher_guard import code_of, write_clause
from .cypher_limits import DEFAULT_LIMITS, CypherLimits, run_bounded


def networkx_graph(entities: Iterable[str], triples: Iterable[Triple]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for name in entities:
        g.add_node(name, name=name, __labels__={"Entity"})
    for t in triples:
        g.add_edge(t.subject, t.object, key=t.id, relation=t.relation, id=t.id,
                   valid_from=t.valid_from, valid_until=t.valid_until, sources=list(t.sources),
                   __labels__={"REL"})
        if t.retired_by is not None:  # as on a server, where a null property is no property
            g.edges[t.subject, t.object, t.id]["retired_by"] = t.retired_by
    return g


def run_cypher(query: str, params: dict | None, write: bool, graph: Callable[[], nx.MultiDiGraph],
               limits: CypherLimits | None = None) -> list[dict]:
    """The rows ``query`` answers over ``graph()`` (asked for only once the query is accepted: it
    is built on demand, outside the bounds, which are the query's own); CypherError for a write,
    parameters, what grand-cypher cannot run, or a query past ``limits`` (None: the defaults)."""
    # ``write`` allows writes, it does not make a read one: reads are served either way.
    if write_clause(query):
        raise CypherError(
            "the embedded store answers read-only Cypher (MATCH ... WHERE ... RETURN); "
            "to change the graph use the Python API or a Bolt store with --write")
    bad = _BAD_BOUND.search(code_of(query))
    if bad:
        raise CypherError(f"{bad.group(1).upper()} takes a non-negative integer, not {bad.group(2).strip()}")
    if params:
        raise CypherError("the embedded store does not take query parameters; inline the values")
    # Imported here, not in the worker: an import that a time limit broke off would stay broken.
    from grandcypher import GrandCypher

    limits = limits or DEFAULT_LIMITS
    text = _upper_aggregates(_double_quoted(query))
    g = graph()
    return run_bounded(lambda: _rows(GrandCypher, g, text, limits), limits)


def _rows(engine: type, graph: nx.MultiDiGraph, query: str, limits: CypherLimits) -> list[dict]:
    try:
        result = engine(graph).run(query)
    except Exception as exc:  # grand-cypher raises lark and plain errors alike
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CypherError(f"cannot run this Cypher on the embedded store: {first}") from exc
    columns = [str(c) for c in result]
    values = list(result.values())
    rows = len(values[0]) if values else 0
    limits.check_rows(rows)
    return [{c: _plain(v[i]) for c, v in zip(columns, values)} for i in range(rows)]


# LIMIT -1 would slice rows from the end in Python, and LIMIT 1.5 slice as if it said 1, instead of
# failing as Cypher does.
_BAD_BOUND = re.compile(r"\b(LIMIT|SKIP)\s+(-\s*[\w.]*|\d*\.\d*(?:e[+-]?\d+)?)", re.IGNORECASE)
_SINGLE_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|(\"(?:[^\"\\]|\\.)*\")")


def _double_quoted(query: str) -> str:
    """grand-cypher only parses "double-quoted" strings; Cypher users write 'single' ones too."""
    def swap(m: re.Match) -> str:
        if m.group(2) is not None:
            return m.group(2)
        return '"' + m.group(1).replace("\\'", "'").replace('"', '\\"') + '"'

    return _SINGLE_QUOTED.sub(swap, query)


# Quoted text first (kept as it is), else an aggregate call in any case.
_AGGREGATE = re.compile(r"(\"(?:[^\"\\]|\\.)*\"|`[^`]*`)|\b(count|sum|avg|min|max)(\s*\()", re.IGNORECASE)


def _upper_aggregates(query: str) -> str:
    """grand-cypher knows COUNT(...) but not count(...); Cypher function names ignore case."""
    return _AGGREGATE.sub(lambda m: m.group(1) or m.group(2).upper() + m.group(3), query)


def _plain(value):
    """grand-cypher returns dicts/sets/tokens; make them JSON-friendly and deterministic."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if str(k) != "__labels__"}
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
