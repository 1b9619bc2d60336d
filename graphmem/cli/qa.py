"""``ask``: one question answered from a corpus graph. The graph-retrieval options live here too:
``eval-qa`` (a plugin command) takes the same ones."""
from __future__ import annotations

import argparse

from graphmem.util.unicode import valid_unicode

from .common import (NON_NEGATIVE, POSITIVE, UserError, add_graph_options, add_llm_options, number,
                     open_graph_store, open_llm, print_json)


# The retrieval settings given flags, with the values each takes (the help is the setting's own).
_GRAPH_FLAGS = {
    "damping": number(float, min=0, max=1, open_min=True, open_max=True),
    "synonym_threshold": number(float, min=-1, max=1),
    "passage_weight": number(float, min=0),
    "fact_top_k": NON_NEGATIVE,
    "lexical_weight": number(float, min=0),
    "coverage_weight": number(float, min=0),
    "sentence_weight": number(float, min=0),
    "bridge_weight": number(float, min=0),
    "name_bridge_weight": number(float, min=0),
    "corroboration": number(float, min=0),
    "section_weight": number(float, min=0),
    "speaker_weight": number(float, min=0),
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
    cited, drafts = None, []
    if args.no_answer:
        found = graph.query(args.question, args.k)
    else:
        found, cited, drafts = _answer(args, graph)
    # One store call; a passage deleted from a shared server store meanwhile is left out.
    read = {p.id: p for p in graph.passages([pid for pid, _ in found.passages])}
    shown = [(read[pid], score) for pid, score in found.passages if pid in read]
    if args.json:
        print_json(_ask_report(args.question, cited, drafts, shown, found.facts))
        return 0
    for n, draft in enumerate(drafts, 1):
        print(f"draft {n}: {draft}")
    print(f"answer: {_answer_line(cited, {p.id: p for p, _ in shown})}")
    print("passages:")
    for p, score in shown:
        print(f"  [{score:.4f}] {p.title} ({p.id}): {p.text[:160].strip()}")
    if found.facts:
        print("linked facts:")
        for t, score in found.facts:
            print(f"  [{score:.3f}] {t.text}")
    return 0


def _answer(args, graph):
    """The last round's retrieval and cited answer, and the earlier rounds' drafts (Iter-RetGen)."""
    from dataclasses import replace

    from graphmem.rag.answer import Answerer
    from graphmem.rag.iterative import iter_retgen

    answerer = Answerer(open_llm(args), top_k=args.k)
    last: dict = {}

    def retrieve(query: str) -> list[str]:
        found = graph.query(query, graph.answer_depth(args.k))
        last["found"] = replace(found, passages=found.passages[: args.k])
        last["next"] = [pid for pid, _ in found.passages[args.k:]]  # read by the speaker check only
        return [pid for pid, _ in last["found"].passages]

    def answer(question: str, ranked) -> str:
        read = {p.id: p for p in graph.passages([*ranked, *last["next"]])}  # one store call
        passages = [read[pid] for pid in ranked if pid in read]
        context = [read[pid] for pid in last["next"] if pid in read]
        last["cited"] = answerer.cite(question, passages, [t for t, _ in last["found"].facts], context)
        return last["cited"].answer

    rounds = iter_retgen(args.question, retrieve, answer, args.iterations)
    return last["found"], last["cited"], [r.answer for r in rounds[:-1]]


def _answer_line(cited, passages: dict) -> str:
    """The answer and the passages it cites, or why there is none."""
    if cited is None:
        return "(not asked: --no-answer)"
    if cited.failed:
        return "(none: the model gave no usable reply)"
    if cited.unattributed:
        return "(not in the graph's passages: the answer found there is said by or of someone else)"
    if not cited.known:
        return "(not in the graph's passages)"
    if not cited.sources:
        return f"{cited.answer} [cites no passage]"
    return f"{cited.answer} [{', '.join(_citation(passages.get(pid), pid) for pid in cited.sources)}]"


def _citation(passage, pid: str) -> str:
    title = passage.title if passage is not None else ""
    return f"{title} ({pid})" if title and title != pid else pid


def _ask_report(question: str, cited, drafts: list[str], shown, facts) -> dict:
    """``ask --json``: the keys are stable (docs/qa.md). ``answer`` and ``known`` are None with
    --no-answer; ``answer`` is "" when the passages do not say (``known`` false)."""
    by_id = {p.id: p for p, _ in shown}

    def source(pid: str) -> dict:
        p = by_id.get(pid)
        return {"id": pid, "title": p.title if p else "", "meta": dict(p.meta) if p else {}}

    return {
        "question": question,
        "answer": cited.answer if cited else None,
        "known": cited.known if cited else None,
        "unattributed": cited.unattributed if cited else None,
        "sources": [source(pid) for pid in cited.sources] if cited else [],
        "drafts": drafts,
        "passages": [{"id": p.id, "title": p.title, "score": round(score, 6), "text": p.text,
                      "meta": dict(p.meta)} for p, score in shown],
        "facts": [{"text": t.text, "score": round(score, 6), "sources": list(t.sources)}
                  for t, score in facts],
    }


def register(subparsers) -> None:
    a = subparsers.add_parser("ask", help="answer a question from a corpus graph, with its passages")
    a.add_argument("question", type=valid_unicode)
    add_graph_options(a)
    a.add_argument("--k", type=POSITIVE, default=5, help="passages retrieved (default 5)")
    a.add_argument("--no-answer", action="store_true", help="only show the retrieved passages")
    a.add_argument("--json", action="store_true",
                   help="print JSON: question, answer, known, sources, drafts, passages, facts")
    a.add_argument("--iterations", type=POSITIVE, default=1,
                   help="Iter-RetGen: retrieve again with the question plus the draft answer, N rounds "
                        "in all (default 1)")
    add_llm_options(a, suppress=True)
    add_graph_retrieval_options(a)
    a.set_defaults(handler=_ask)
