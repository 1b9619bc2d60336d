"""Core graph commands: extract, build, cypher, recall, view."""
from __future__ import annotations

import sys
import time

from .common import UserError, add_graph_options, add_server_options, open_graph_store, open_llm, print_json


def register(sub) -> None:
    p = sub.add_parser("extract", help="print the triples extracted from a text",
                       description="Extract (subject, relation, object) triples from TEXT ('-' reads stdin).")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--extractor", choices=["offline", "llm"], default="offline",
                   help="offline: spaCy rules (default); llm: the model chosen by --llm")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of [subject, relation, object]; with --extractor llm, an "
                        "object that also gives the tokens used and whether the reply was cached")
    p.set_defaults(handler=cmd_extract)

    p = sub.add_parser("build", help="build a graph from a document corpus",
                       description="Build a graph from CORPUS: a JSON list of {title, text}, a JSON dict "
                                   "title -> sentences, a JSON list of strings, or a folder of .txt files.")
    p.add_argument("corpus", metavar="CORPUS")
    p.add_argument("--out", metavar="FILE", help="graph file to write (embedded store)")
    p.add_argument("--store", metavar="URI", help="write to a graph server (bolt://...) instead of --out")
    add_server_options(p)
    p.add_argument("--batch-size", type=int, default=64, help="passages per extraction/embedding batch")
    p.add_argument("--limit", type=int, help="only the first N passages")
    p.add_argument("--no-passage-embeddings", action="store_true",
                   help="skip embedding whole passages (faster; disables passage similarity)")
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("cypher", help="run a read-only Cypher query over a graph",
                       description="Nodes have a 'name' property; relationships a 'relation' property plus "
                                   "'id', 'valid_from', 'valid_until' and 'sources'.")
    add_graph_options(p)
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--json", action="store_true", help="print a JSON list of row objects")
    p.add_argument("--write", action="store_true", help="allow write queries (graph servers only)")
    p.set_defaults(handler=cmd_cypher)

    p = sub.add_parser("recall", help="retrieve the triples and episodes associated with queries")
    add_graph_options(p)
    p.add_argument("queries", metavar="QUERY", nargs="+")
    p.add_argument("--depth", type=int, help="breadth-first expansion depth (default 2)")
    p.add_argument("--width", type=int, help="triples kept per expanded entity (default 6)")
    p.add_argument("--top-k", type=int, help="seed triples per query (default 6)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_recall)

    p = sub.add_parser("view", help="write a self-contained HTML view of a graph")
    add_graph_options(p)
    p.add_argument("--out", metavar="FILE.html", required=True)
    p.add_argument("--max-edges", type=int, default=5000)
    p.set_defaults(handler=cmd_view)


def cmd_extract(args) -> None:
    text = sys.stdin.read() if args.text == "-" else args.text
    if args.extractor == "llm":
        return _extract_llm(args, text)
    from graphmem.extract.offline import OfflineExtractor

    # Both forms print the JSON list; --json is kept for symmetry with the LLM extractor's report.
    print_json([list(t) for t in OfflineExtractor().extract(text)])


def _extract_llm(args, text: str) -> None:
    from graphmem.extract.llm import LLMExtractor
    from graphmem.llm import LLMError

    llm = open_llm(args)
    try:
        report = LLMExtractor(llm).extract_report(text)
    except LLMError as exc:
        raise UserError(str(exc)) from exc
    if args.json:
        print_json({"model": llm.name, **report.to_dict()})
    else:
        print_json([list(t) for t in report.triples])


def cmd_build(args) -> None:
    from tqdm import tqdm

    from graphmem.corpus import CorpusError, load_corpus
    from graphmem.memory import Memory
    from graphmem.normalize import ResolverConfig

    if not args.out and not args.store:
        raise UserError("give --out FILE (or --store bolt://...) for the graph to build")
    try:
        passages = load_corpus(args.corpus)
    except CorpusError as exc:
        raise UserError(str(exc)) from exc
    if args.limit:
        passages = passages[: args.limit]
    args.graph = args.out
    store = open_graph_store(args, create=True)
    # Corpora have thousands of names: resolve by exact and singular form only (fuzzy/embedding
    # resolution is per name and would dominate the build); synonyms are linked at query time.
    memory = Memory(store, resolver=ResolverConfig(use_fuzzy=False, use_embeddings=False),
                    embed_episodes=not args.no_passage_embeddings)
    start = time.perf_counter()
    with tqdm(total=len(passages), unit="passage", desc="building", file=sys.stderr,
              disable=not sys.stderr.isatty() and not args.verbose) as bar:
        for i in range(0, len(passages), args.batch_size):
            batch = passages[i:i + args.batch_size]
            memory.observe_many(batch)
            bar.update(len(batch))
    memory.save()
    seconds = time.perf_counter() - start
    counts = memory.stats()
    memory.close()
    print_json({"passages": len(passages), "triples": counts["triples"], "entities": counts["entities"],
                "episodes": counts["episodes"], "seconds": round(seconds, 3),
                "passages_per_second": round(len(passages) / seconds, 2) if seconds else None,
                "graph": args.out or args.store})


def cmd_cypher(args) -> int:
    from graphmem.store.base import CypherError

    store = open_graph_store(args)
    try:
        rows = store.cypher(args.query, write=args.write)
    except CypherError as exc:
        raise UserError(str(exc)) from exc
    finally:
        store.close()
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("(no rows)")
        return 0
    cols = list(rows[0])
    print("\t".join(cols))
    for row in rows:
        print("\t".join(str(row.get(c)) for c in cols))
    return 0


def cmd_recall(args) -> None:
    from graphmem.memory import Memory

    overrides = {k: v for k, v in (("depth", args.depth), ("width", args.width), ("top_k", args.top_k))
                 if v is not None}
    memory = Memory(open_graph_store(args))
    sub = memory.recall(args.queries, **overrides)
    memory.close()
    if args.json:
        print_json(sub.to_dict())
    else:
        print(sub.to_prompt())


def cmd_view(args) -> None:
    from pathlib import Path

    from graphmem.view import render_html

    store = open_graph_store(args)
    title = f"graphmem: {args.graph or args.store}"
    Path(args.out).write_text(render_html(store, title=title, max_edges=args.max_edges), encoding="utf-8")
    store.close()
    print(f"wrote {args.out}")
