"""`graphmem export` and `graphmem import`: copy a whole graph between a file and a graph server,
or between graph files (``import --from old.json --out new.gmem`` migrates to the binary archive).
`graphmem export-ns` and `import-ns`: one namespace of a memory as JSON lines (``store.records``).
`graphmem reindex`: rebuild a server's vector indexes (``GraphStore.reindex_vectors``)."""
from __future__ import annotations

from .common import (UserError, add_graph_options, add_namespace_option, add_server_options, check_output_file,
                     open_graph_store, open_store_arg, print_json)


def register(sub) -> None:
    p = sub.add_parser("export", help="copy a graph file into a graph server (Bolt or FalkorDB)",
                       description="Copy every triple (retired ones too, with validity, sources and "
                                   "embeddings), episode and metadata of FILE into an empty database.")
    p.add_argument("--graph", metavar="FILE", required=True, help="graph file to read")
    p.add_argument("--to", metavar="URI", help="bolt://HOST:PORT, neo4j://HOST:PORT or falkor://HOST:PORT[/GRAPH] "
                                               "(default: NEO4J_URI)")
    p.add_argument("--merge", action="store_true",
                   help="add to a database that already holds a graph (default: refuse)")
    add_namespace_option(p, both_sides=True)
    add_server_options(p)
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("import", help="copy a graph from a graph server (Bolt or FalkorDB) or a graph file into a file",
                       description="Write everything in the server database (or graph file) to a new "
                                   "graph file: *.json as JSON, any other name as the binary archive.")
    p.add_argument("--from", dest="source", metavar="URI|FILE",
                   help="bolt://HOST:PORT, neo4j://HOST:PORT, falkor://HOST:PORT[/GRAPH] or a graph file "
                        "(default: NEO4J_URI)")
    p.add_argument("--out", "--graph", dest="out", metavar="FILE", required=True,
                   help="graph file to write")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    add_namespace_option(p, both_sides=True)
    add_server_options(p)
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("export-ns", help="write one namespace of a memory as JSON lines",
                       description="Write the namespace's records, one JSON object a line: a header (its "
                                   "metadata and counts), every fact (retired ones too, with validity, "
                                   "sources and the source that retired it), every episode (text, step, "
                                   "title, facts, meta).")
    add_graph_options(p)
    p.add_argument("--out", metavar="FILE.jsonl", required=True, help="the file to write (replaced atomically)")
    p.add_argument("--vectors", action="store_true",
                   help="also write each record's embedding (base64 float32), so an import embeds nothing")
    p.set_defaults(handler=cmd_export_ns)

    p = sub.add_parser("import-ns", help="read a namespace's JSON lines into a memory's namespace",
                       description="Write the records of FILE.jsonl (as export-ns writes them) into the "
                                   "namespace --namespace of the memory, which must be empty (or, with "
                                   "--merge, written with the same settings); facts keep their validity "
                                   "and sources, and are embedded if the file has no vectors.")
    p.add_argument("records", metavar="FILE.jsonl")
    add_graph_options(p)
    p.add_argument("--merge", action="store_true",
                   help="add to a namespace that holds a graph already (records replace those with their ids)")
    p.set_defaults(handler=cmd_import_ns)

    p = sub.add_parser("reindex", help="rebuild a graph server's vector indexes (FalkorDB: drops forgotten facts' entries)",
                       description="Drop and create the vector indexes of the namespace's graph, so that no "
                                   "entry of a deleted vector is left (FalkorDB keeps one per forgotten fact "
                                   "until its index is rebuilt; the store rebuilds by itself past a tenth of the "
                                   "live vectors). Prints the dead entries dropped per kind as JSON. Other "
                                   "stores have nothing to rebuild.")
    add_graph_options(p)
    p.set_defaults(handler=cmd_reindex)


def _server(args, uri):
    import os

    from graphmem.store import is_server_uri

    uri = uri or os.environ.get("NEO4J_URI")
    if not is_server_uri(uri):
        raise UserError(f"need a graph server URI (bolt://HOST:PORT, neo4j://HOST:PORT or falkor://HOST:PORT), "
                        f"got {uri!r}")
    return uri, open_store_arg(args, uri)


def _is_file(spec: str | None) -> bool:
    return bool(spec and "://" not in spec)


def _file(path: str, namespace: str):
    from graphmem.store import open_store

    return path, open_store(path, create=False, readonly=True, namespace=namespace)


def _describe(counts: dict) -> str:
    return (f"{counts['triples']} triples ({counts['current_triples']} current), "
            f"{counts['entities']} entities, {counts['episodes']} episodes")


def cmd_export(args) -> None:
    from graphmem.store.transfer import export_graph

    uri, target = _server(args, args.to)
    counts = export_graph(args.graph, target, merge=args.merge, namespace=args.namespace)
    print(f"exported {_describe(counts)} from {args.graph} to {uri}")


def cmd_import(args) -> None:
    from graphmem.store.transfer import import_graph

    from graphmem.store.namespaces import namespace_file

    check_output_file(args.out, "--out")
    uri, source = _file(args.source, args.namespace) if _is_file(args.source) else _server(args, args.source)
    counts = import_graph(source, namespace_file(args.out, args.namespace), force=args.force)
    print(f"imported {_describe(counts)} from {uri} into {args.out}")


def cmd_export_ns(args) -> None:
    from graphmem.store.records import write_jsonl

    check_output_file(args.out, "--out")
    store = open_graph_store(args, readonly=True)
    try:
        counts = write_jsonl(store, args.out, vectors=args.vectors)
    finally:
        store.close()
    print(f"exported namespace {args.namespace!r}: {_describe(counts)} to {args.out}")


def cmd_import_ns(args) -> None:
    from graphmem.service import GraphService
    from graphmem.store.records import read_jsonl

    items = read_jsonl(args.records)
    if not items:
        raise UserError(f"{args.records} holds no records")
    with GraphService(open_graph_store(args, create=True)) as service:
        print_json({**service.import_records(items, merge=args.merge), "graph": args.graph or args.store})


def cmd_reindex(args) -> None:
    store = open_graph_store(args)
    try:
        print_json({"graph": args.graph or args.store, "namespace": args.namespace,
                    "dead_entries_dropped": store.reindex_vectors()})
    finally:
        store.close()
