"""Core graph commands: extract, build, cypher, recall, view."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from .common import (NON_NEGATIVE, POSITIVE, UserError, add_graph_options, add_server_options,
                     check_output_file, open_graph_store, open_llm, open_store_arg, print_json)


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
    p.add_argument("--batch-size", type=POSITIVE, default=64, help="passages per extraction/embedding batch")
    p.add_argument("--limit", type=POSITIVE, help="only the first N passages")
    existing = p.add_mutually_exclusive_group()
    existing.add_argument("--append", action="store_true",
                          help="add the corpus to the graph already in --out / --store")
    existing.add_argument("--force", action="store_true",
                          help="replace the graph in --out (the old file stays until the new one is saved)")
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
    p.add_argument("--depth", type=NON_NEGATIVE, help="breadth-first expansion depth (default 2)")
    p.add_argument("--width", type=POSITIVE, help="triples kept per expanded entity (default 6)")
    p.add_argument("--top-k", type=POSITIVE, help="seed triples per query (default 6)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_recall)

    p = sub.add_parser("view", help="write a self-contained HTML view of a graph")
    add_graph_options(p)
    p.add_argument("--out", metavar="FILE.html", required=True)
    p.add_argument("--max-edges", type=POSITIVE, default=5000)
    p.set_defaults(handler=cmd_view)


def cmd_extract(args) -> None:
    text = _stdin_text() if args.text == "-" else args.text
    if args.extractor == "llm":
        return _extract_llm(args, text)
    from graphmem.extract.offline import OfflineExtractor

    # Both forms print the JSON list; --json is kept for symmetry with the LLM extractor's report.
    print_json([list(t) for t in OfflineExtractor().extract(text)])


def _stdin_text() -> str:
    """stdin as UTF-8; other bytes become U+FFFD with a warning (as .txt corpus files are read)."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        print(f"graphmem extract: warning: stdin is not UTF-8 (byte {data[exc.start]:#04x} at offset "
              f"{exc.start}); undecodable bytes were replaced", file=sys.stderr)
        return data.decode("utf-8", errors="replace")


def _extract_llm(args, text: str) -> None:
    from graphmem.extract.llm import LLMExtractor

    llm = open_llm(args)
    report = LLMExtractor(llm).extract_report(text)
    if args.json:
        print_json({"model": llm.name, **report.to_dict()})
    else:
        print_json([list(t) for t in report.triples])


def cmd_build(args) -> None:
    from tqdm import tqdm

    from graphmem.corpus import load_corpus
    from graphmem.memory import Memory
    from graphmem.normalize import ResolverConfig

    _check_build_target(args)
    passages = load_corpus(args.corpus)
    if args.limit:
        passages = passages[: args.limit]
    store = _open_build_target(args)
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


def _check_build_target(args) -> None:
    """Before any work: the graph to build must be writable and is never merged into silently (an
    existing graph needs --append or --force)."""
    if not args.out and not args.store:
        raise UserError("give --out FILE (or --store bolt://...) for the graph to build")
    if args.store and args.force:
        raise UserError("--force replaces a graph file; to add to a server's graph use --append")
    if not args.store:
        check_output_file(args.out, "--out")
        if Path(args.out).exists() and not (args.append or args.force):
            raise UserError(f"--out {args.out} already exists: --append to add the corpus to its graph, "
                            f"--force to replace it")


def _open_build_target(args):
    target = args.store or args.out
    store = open_store_arg(args, target, create=True, replace=args.force)
    counts = store.counts()  # checked again under the lock: another build may have finished meanwhile
    if not (args.append or args.force) and (counts["triples"] or counts["episodes"]):
        store.close()
        raise UserError(f"{target} already holds a graph ({counts['triples']} triples): --append to add "
                        f"the corpus to it{'' if args.store else ', --force to replace it'}")
    return store


def cmd_cypher(args) -> int:
    store = open_graph_store(args, readonly=not args.write)
    try:
        rows = store.cypher(args.query, write=args.write)
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
    memory = Memory(open_graph_store(args, readonly=True))
    sub = memory.recall(args.queries, **overrides)
    memory.close()
    if args.json:
        print_json(sub.to_dict())
    else:
        print(sub.to_prompt())


def cmd_view(args) -> None:
    from graphmem.view import render_html

    check_output_file(args.out, "--out")
    store = open_graph_store(args, readonly=True)
    title = f"graphmem: {args.graph or args.store}"
    try:
        page = render_html(store, title=title, max_edges=args.max_edges)
    finally:
        store.close()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(page, encoding="utf-8")
    print(f"wrote {args.out}")
