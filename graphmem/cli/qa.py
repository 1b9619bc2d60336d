"""``ask``: one question answered from a corpus graph. The graph-retrieval options live here too:
``eval-qa`` (a plugin command) takes the same ones."""
from __future__ import annotations

import argparse

from graphmem.corpus import valid_unicode

from .common import (NON_NEGATIVE, POSITIVE, UserError, add_graph_options, add_llm_options, number,
                     open_graph_store, open_llm)


# The retrieval settings given flags, with the values each takes (the help is the setting's own).
_GRAPH_FLAGS = {
    "damping": number(float, min=0, max=1, open_min=True, open_max=True),
    "synonym_threshold": number(float, min=-1, max=1),
    "passage_weight": number(float, min=0),
    "fact_top_k": NON_NEGATIVE,
    "lexical_weight": number(float, min=0),
    "bridge_weight": number(float, min=0),
    "name_bridge_weight": number(float, min=0),
}


def add_graph_retrieval_options(p: argparse.ArgumentParser) -> None:
    from graphmem.rag.config import PRESETS, GraphRAGConfig

    g = p.add_argument_group("graph retrieval")
    g.add_argument("--preset", choices=list(PRESETS),
                   help="named settings, which the flags below change one by one: "
                        + "; ".join(f"{name}: {what}" for name, (what, _) in PRESETS.items()))
    defaults = GraphRAGConfig()
    for name, kind in _GRAPH_FLAGS.items():
        default = getattr(defaults, name)
        g.add_argument(f"--{name.replace('_', '-')}", type=kind, help=GraphRAGConfig.help(name)
                       + ("" if default is None else f" (default {default})"))


def graph_config(args):
    """The --preset's config with the flags that were given, else None (the defaults)."""
    from dataclasses import replace

    from graphmem.rag.config import GraphRAGConfig

    given = {k: getattr(args, k) for k in _GRAPH_FLAGS if getattr(args, k) is not None}
    if args.preset is None and not given:
        return None
    return replace(GraphRAGConfig.preset(args.preset or "default"), **given)


def _ask(args) -> int:
    from graphmem.rag.graph import CorpusGraph

    # Any graph file or server works: one built by eval-qa or 'graphmem build', or a conversation's.
    store = open_graph_store(args, readonly=True)
    graph = CorpusGraph(store, config=graph_config(args))
    if not len(graph):
        raise UserError("the graph has no passages: build it with 'graphmem eval-qa' or 'graphmem build'")
    if args.no_answer:
        found = graph.query(args.question, args.k)
        print("answer: (not asked: --no-answer)")
    else:
        from graphmem.rag.answer import Answerer
        from graphmem.rag.iterative import iter_retgen

        answerer = Answerer(open_llm(args), top_k=args.k)
        last: list = []

        def retrieve(query: str) -> list[str]:
            last[:] = [graph.query(query, args.k)]
            return [pid for pid, _ in last[0].passages]

        rounds = iter_retgen(args.question, retrieve, lambda q, ranked: answerer.answer(
            q, [graph.passage(pid) for pid in ranked]), args.iterations)
        found = last[0]
        for n, r in enumerate(rounds[:-1], 1):
            print(f"draft {n}: {r.answer or '(none)'}")
        print(f"answer: {rounds[-1].answer or '(none)'}")
    print("passages:")
    for pid, score in found.passages:
        if (p := graph.passage(pid)) is not None:  # None: deleted from a shared server store meanwhile
            print(f"  [{score:.4f}] {p.title} ({pid}): {p.text[:160].strip()}")
    if found.facts:
        print("linked facts:")
        for t, score in found.facts:
            print(f"  [{score:.3f}] {t.text}")
    return 0


def register(subparsers) -> None:
    a = subparsers.add_parser("ask", help="answer a question from a corpus graph, with its passages")
    a.add_argument("question", type=valid_unicode)
    add_graph_options(a)
    a.add_argument("--k", type=POSITIVE, default=5, help="passages retrieved (default 5)")
    a.add_argument("--no-answer", action="store_true", help="only show the retrieved passages")
    a.add_argument("--iterations", type=POSITIVE, default=1,
                   help="Iter-RetGen: retrieve again with the question plus the draft answer, N rounds "
                        "in all (default 1)")
    add_llm_options(a, suppress=True)
    add_graph_retrieval_options(a)
    a.set_defaults(handler=_ask)
