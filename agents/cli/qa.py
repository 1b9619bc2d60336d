"""``eval-qa``: Recall@k (and EM/F1) of retrievers on a multi-hop QA dataset, a plugin command of
``graphmem``."""
from __future__ import annotations

import argparse
import functools
import os

from graphmem.cli.common import (POSITIVE, UserError, add_extractor_options, add_server_options,
                                 open_extractor, open_llm, open_store_arg, print_json)
from graphmem.cli.progress import add_quiet_option, showing
from graphmem.cli.qa import add_graph_retrieval_options, graph_config

DEFAULT_CACHE = os.path.join(".graphmem-cache", "qa")


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(k) for k in text.split(",") if k.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k takes a comma list of integers, not {text!r}") from None
    if not ks or ks[0] < 1:
        raise argparse.ArgumentTypeError("--k values must be positive integers")
    return ks


def retriever_names(known: tuple[str, ...]):
    """An argparse type: a comma list of retriever names, each one of ``known``."""
    def names(text: str) -> list[str]:
        found = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
        unknown = [n for n in found if n not in known]
        if unknown or not found:
            raise argparse.ArgumentTypeError(
                f"unknown retriever(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(known)}")
        return found
    return names


def _eval_qa(args) -> int:
    from graphmem_agents.qa.harness import build_retrievers, evaluate, format_report, graph_path
    from graphmem_environments.qa import load_dataset
    from graphmem_environments.qa.split import select_split
    from graphmem.embedders import embedder_named
    from graphmem.profiles import DOCUMENTS
    from graphmem.rag.answer import Answerer

    if args.iterations > 1 and not args.answer:
        raise UserError("--iterations needs --answer: later rounds search with the drafted answer")
    dataset = select_split(load_dataset(args.data, limit=args.limit, corpus=args.corpus), args.split)
    if args.gold == "evidence" and dataset.questions and not any(q.evidence for q in dataset.questions):
        raise UserError(f"--gold evidence: no question in {args.data}/questions.json has 'evidence' "
                        f"statements; score against the gold passages (--gold passages)")
    graph_store = _given_graph(args)
    embedder = embedder_named(args.embedder) if args.embedder else None
    built = build_retrievers(args.retriever, dataset, args.cache_dir, args.extractor,
                             open_extractor(args, DOCUMENTS), graph_config(args), progress=showing(args),
                             workers=args.workers, graph_store=graph_store, embedder=embedder)
    answerer = Answerer(open_llm(args), top_k=args.answer_k) if args.answer else None
    report = evaluate(dataset, built, args.k, answerer, progress=args.answer and showing(args),
                      iterations=args.iterations, split=args.split, gold=args.gold)
    if args.json:
        if not args.per_question:
            for r in report["retrievers"].values():
                r.pop("per_question")
        print_json(report)
        return 0
    print(format_report(report, args.k))
    if graph_store is None and ("graph" in built.retrievers or "bfs" in built.retrievers):
        print(f"graph file: {graph_path(args.cache_dir, dataset, args.extractor, embedder.name if embedder else None)} "
              f"(use with: graphmem ask --graph FILE \"question\")")
    if answerer is not None and answerer.failures:
        print(f"answering failed {answerer.failures} times (counted as empty answers)")
    return 0


def _given_graph(args):
    """The store of --graph / --store, or None; refused if it holds this corpus under former ids
    (the dataset's passages would be added to it a second time)."""
    from graphmem.corpus import refuse_former_ids

    if not (args.store or args.graph):
        return None
    store = open_store_arg(args, args.store or args.graph, create=True)
    try:
        refuse_former_ids(os.path.join(args.data, "corpus.json"), store, args.graph)
    except BaseException:
        store.close()
        raise
    return store


def _sample(questions: list, limit: int | None, per_category: int | None) -> list:
    """The first ``per_category`` questions of each category (in file order), then the first
    ``limit`` of those: answering with a local model is slow, and a sample should cover every kind."""
    if per_category:
        counts: dict[int, int] = {}
        kept = []
        for q in questions:
            counts[q.category] = counts.get(q.category, 0) + 1
            if counts[q.category] <= per_category:
                kept.append(q)
        questions = kept
    return questions[:limit] if limit else questions


def _eval_conv(args) -> int:
    from graphmem_agents.qa.conv_answer import FullContextAnswerer, TurnAnswerer
    from graphmem_agents.qa.conversation import evaluate, format_report
    from graphmem_environments.conversation import load_locomo
    from graphmem.profiles import DIALOGUE

    if not os.path.exists(args.data):
        raise UserError(f"{args.data} not found: give LoCoMo's JSON file (locomo10.json's shape) with --data")
    wanted = [c.strip() for c in args.conversations.split(",") if c.strip()] if args.conversations else None
    conversations = load_locomo(args.data, wanted)
    for conv in conversations:
        conv.questions = _sample(conv.questions, args.limit, args.per_category)
    answer = full = evidence = None
    if args.evidence_reader and not args.answer:
        raise UserError("--evidence-reader compares readers: give it with --answer")
    if args.answer:
        llm = open_llm(args)
        check = not args.no_speaker_check
        # The memory's reader and the evidence reader are one reader (own counts each): only the turns differ.
        turn_reader = functools.partial(TurnAnswerer, llm, budget_tokens=args.answer_budget,
                                        protocol=args.question_protocol, attribute=check)
        answer = turn_reader()
        full = None if args.no_full_context else FullContextAnswerer(llm, protocol=args.question_protocol,
                                                                     attribute=check)
        evidence = turn_reader() if args.evidence_reader else None
    report = evaluate(conversations, args.retriever, args.k, args.cache_dir,
                      extractor=open_extractor(args, DIALOGUE), config=graph_config(args),
                      extractor_name=args.extractor,
                      answer=answer.answer if answer else None, answer_k=args.answer_k,
                      answer_with=args.retriever[0],
                      full_context=full.answer if full else None,
                      evidence=evidence.answer if evidence else None, progress=showing(args),
                      per_question=args.per_question)
    if answer is not None:
        report["answer_settings"] = {"answer_k": args.answer_k, "budget_tokens": args.answer_budget,
                                     "question_protocol": args.question_protocol,
                                     "speaker_check": answer.attribute}
    for kind, reader in (("memory", answer), ("full-context", full), ("evidence", evidence)):
        if reader is not None and kind in report.get("answers", {}):
            tokens = reader.prompt_tokens
            report["answers"][kind]["prompt_tokens_mean"] = round(sum(tokens) / len(tokens), 1) if tokens else 0.0
            report["answers"][kind]["failures"] = reader.failures
            report["answers"][kind]["unattributed"] = reader.unattributed
    if args.json:
        print_json(report)
        return 0
    print(format_report(report, args.k))
    return 0


def register(subparsers) -> None:
    from graphmem_agents.qa.conv_answer import ANSWER_BUDGET, PROTOCOLS
    from graphmem_agents.qa.conversation import RETRIEVERS as CONVERSATION_RETRIEVERS
    from graphmem_agents.qa.harness import GOLDS, RETRIEVERS
    from graphmem_environments.qa.split import SPLITS
    from graphmem.embedders import EMBEDDERS

    p = subparsers.add_parser(
        "eval-qa", help="passage Recall@k (and EM/F1 with --answer) of retrievers on a QA dataset",
        description="DIR holds questions.json and corpus.json (MuSiQue, HotpotQA or 2Wiki style). "
                    "Indices are built once and cached under --cache-dir.")
    p.add_argument("--data", required=True, metavar="DIR")
    p.add_argument("--corpus", metavar="PATH",
                   help="rank this corpus instead of DIR/corpus.json (any form 'graphmem build' reads, "
                        "e.g. a folder of documents, chunked by its structure); score it with --gold evidence")
    p.add_argument("--retriever", type=retriever_names(RETRIEVERS), default=["graph"],
                   help="graph, dense, bm25, hybrid or bfs; a comma list compares them in one run")
    p.add_argument("--k", type=_ks, default=[2, 5], help="comma list of cut-offs (default 2,5)")
    p.add_argument("--gold", choices=GOLDS, default="passages",
                   help="score against the gold passages (default) or the questions' evidence statements: "
                        "the share of statements that some top-k passage covers (70%% of its IDF-weighted "
                        "words), fair to any chunking")
    add_extractor_options(p)
    g = p.add_argument_group("graph to evaluate (default: one built and cached under --cache-dir)")
    g.add_argument("--graph", metavar="FILE", help="a graph file (e.g. from 'graphmem build'); passages "
                                                 "of the dataset it lacks are added to it")
    g.add_argument("--store", metavar="URI", help="a graph on a server (bolt://HOST:PORT) instead")
    add_server_options(p)
    p.add_argument("--workers", type=POSITIVE, default=4,
                   help="extraction requests in flight at once with --extractor llm (default 4)")
    p.add_argument("--limit", type=POSITIVE, help="first N questions only (the corpus stays whole)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_quiet_option(p)
    p.add_argument("--per-question", action="store_true", help="with --json: rankings per question")
    p.add_argument("--answer", action="store_true", help="also answer with the LLM: EM and F1")
    p.add_argument("--answer-k", type=POSITIVE, default=5, help="passages shown to the LLM (default 5)")
    p.add_argument("--iterations", type=POSITIVE, default=1,
                   help="with --answer: Iter-RetGen rounds; round n>1 retrieves with the question plus "
                        "round n-1's answer (default 1); prints every round's scores")
    p.add_argument("--split", choices=SPLITS, default="all",
                   help="questions to evaluate: dev (tune here), test (report here) or all (default); "
                        "fixed by a hash of the question id, 50/50")
    p.add_argument("--embedder", choices=list(EMBEDDERS),
                   help="embedder of the graph and the dense passages (default all-MiniLM-L6-v2)")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE, help=f"default {DEFAULT_CACHE}")
    add_graph_retrieval_options(p)
    p.set_defaults(handler=_eval_qa)

    c = subparsers.add_parser(
        "eval-conv", help="evidence recall@k (and LoCoMo F1 with --answer) of conversation memory",
        description="Each conversation of a LoCoMo file becomes a dialogue memory, built turn by turn "
                    "and cached under --cache-dir; its questions are asked of it. Recall of the "
                    "evidence turns per category (pooled over 1-4) beside dense, BM25 and hybrid "
                    "over the same turns; with --answer, LoCoMo's token F1 per category beside a "
                    "full-context baseline.")
    c.add_argument("--data", required=True, metavar="FILE", help="LoCoMo JSON (locomo10.json's shape)")
    c.add_argument("--conversations", metavar="IDS",
                   help="comma list of sample ids to evaluate, e.g. conv-26,conv-30 (default: all)")
    c.add_argument("--retriever", type=retriever_names(CONVERSATION_RETRIEVERS), default=list(CONVERSATION_RETRIEVERS),
                   help="graph, dense, bm25, hybrid: a comma list (default all; --answer reads the first)")
    c.add_argument("--k", type=_ks, default=[1, 5, 10], help="comma list of cut-offs (default 1,5,10)")
    add_extractor_options(c)
    c.add_argument("--limit", type=POSITIVE, help="first N questions of each conversation only")
    c.add_argument("--per-category", type=POSITIVE, metavar="N",
                   help="first N questions of each category of each conversation only (a sample for --answer)")
    c.add_argument("--answer", action="store_true",
                   help="also answer with the LLM from the first retriever's turns: LoCoMo F1 per category")
    c.add_argument("--answer-k", type=POSITIVE, default=10,
                   help="turns the LLM may be shown, best first (default 10)")
    c.add_argument("--answer-budget", type=POSITIVE, default=ANSWER_BUDGET, metavar="TOKENS",
                   help=f"at most this many prompt tokens of turns: the best-ranked first, a long turn cut "
                        f"to its sentences sharing a word with the question (default {ANSWER_BUDGET}: "
                        "about 8 s a question on 2 CPU cores with the local model)")
    c.add_argument("--question-protocol", choices=PROTOCOLS, default="locomo",
                   help="locomo (default): ask as LoCoMo's own evaluation does (a date hint on temporal "
                        "questions, adversarial ones as a choice with 'Not mentioned in the "
                        "conversation'); plain: every question as written")
    c.add_argument("--no-speaker-check", action="store_true",
                   help="keep an answer about one person even where the best turns give it to the "
                        "other speaker (by default it becomes 'Not mentioned in the conversation'; "
                        "both readers)")
    c.add_argument("--no-full-context", action="store_true",
                   help="with --answer: skip the full-context baseline (long prompts: slow on a CPU)")
    c.add_argument("--evidence-reader", action="store_true",
                   help="with --answer: also answer each question from its evidence turns alone "
                        "(the reader's ceiling with perfect retrieval: answers.evidence)")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.add_argument("--per-question", action="store_true", help="with --json: rankings and answers per question")
    add_quiet_option(c)
    c.add_argument("--cache-dir", default=os.path.join(".graphmem-cache", "conv"),
                   help="default .graphmem-cache/conv")
    add_graph_retrieval_options(c)
    c.set_defaults(handler=_eval_conv)
