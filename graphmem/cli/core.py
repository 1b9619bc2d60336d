"""Core graph commands: extract, cypher, recall, view."""
from __future__ import annotations

import sys

from graphmem.util.unicode import valid_unicode
from graphmem.profiles import PROFILES

from .common import (NON_NEGATIVE, POSITIVE, add_cypher_limit_options, add_extractor_options, add_graph_options,
                     check_output_file, check_write_cypher, cypher_limits, open_extractor, open_graph_store,
                     print_json)

PROFILE_NAMES = tuple(PROFILES)


def register(sub) -> None:
    p = sub.add_parser("extract", help="print the triples extracted from a text",
                       description="Extract (subject, relation, object) triples from TEXT ('-' reads stdin).")
    p.add_argument("text", metavar="TEXT", type=valid_unicode)
    add_extractor_options(p)
    p.add_argument("--profile", choices=PROFILE_NAMES, default="text-game",
                   help="what the text is, for the llm extractor's prompt: a text-game observation "
                        "(default) or a passage of a document")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of [subject, relation, object]; with --extractor llm, an "
                        "object that also gives the tokens used and whether the reply was cached")
    p.set_defaults(handler=cmd_extract)

    p = sub.add_parser("cypher", help="run a read-only Cypher query over a graph",
                       description="Nodes have a 'name' property; relationships a 'relation' property plus "
                                   "'id', 'valid_from', 'valid_until' and 'sources'.")
    add_graph_options(p)
    p.add_argument("query", metavar="QUERY", type=valid_unicode)
    p.add_argument("--json", action="store_true", help="print a JSON list of row objects")
    p.add_argument("--write", action="store_true", help="allow write queries (graph servers only)")
    add_cypher_limit_options(p)
    p.set_defaults(handler=cmd_cypher)

    p = sub.add_parser("recall", help="retrieve the triples and episodes associated with queries")
    add_graph_options(p)
    p.add_argument("queries", metavar="QUERY", nargs="+", type=valid_unicode)
    p.add_argument("--depth", type=NON_NEGATIVE, help="breadth-first expansion depth (default 2)")
    p.add_argument("--width", type=POSITIVE, help="triples kept per expanded entity (default 6)")
    p.add_argument("--top-k", type=POSITIVE, help="seed triples per query (default 6)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_recall)

    p = sub.add_parser("view", help="write a self-contained HTML view of a graph",
                       description="One HTML file that opens offline: relation labels on edges, rooms "
                                   "holding their contents and a timeline over steps for game memories, "
                                   "a neighbourhood view grown from a search for large graphs, an "
                                   "entity's facts and the episodes that stated them on click.")
    add_graph_options(p)
    p.add_argument("--out", metavar="FILE.html", required=True)
    p.add_argument("--max-edges", type=POSITIVE, help="at most this many facts in the file (default: all; "
                                                       "the oldest retired ones are left out first)")
    p.set_defaults(handler=cmd_view)


def cmd_extract(args) -> None:
    from graphmem.profiles import profile_named

    text = _stdin_text() if args.text == "-" else args.text
    extractor = open_extractor(args, profile_named(args.profile))
    if args.extractor == "llm":
        report = extractor.extract_report(text)
        if args.json:
            return print_json({"model": extractor.llm.name, **report.to_dict()})
        return print_json([list(t) for t in report.triples])
    # Both forms print the JSON list; --json is kept for symmetry with the LLM extractor's report.
    print_json([list(t) for t in extractor.extract(text)])


def _stdin_text() -> str:
    """stdin as UTF-8; other bytes become U+FFFD with a warning (as .txt corpus files are read)."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        print(f"graphmem extract: warning: stdin is not UTF-8 (byte {data[exc.start]:#04x} at offset "
              f"{exc.start}); undecodable bytes were replaced", file=sys.stderr)
        return data.decode("utf-8", errors="replace")


def cmd_cypher(args) -> int:
    check_write_cypher(args)
    store = open_graph_store(args, readonly=not args.write)
    try:
        rows = store.cypher(args.query, write=args.write, limits=cypher_limits(args))
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
    from graphmem.view import render_html, write_page

    check_output_file(args.out, "--out")
    store = open_graph_store(args, readonly=True)
    title = f"graphmem: {args.graph or args.store}"
    try:
        page = render_html(store, title=title, max_edges=args.max_edges)
    finally:
        store.close()
    write_page(args.out, page)
    print(f"wrote {args.out}")
