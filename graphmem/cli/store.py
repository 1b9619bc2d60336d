"""`graphmem export` and `graphmem import`: copy a whole graph between a file and a graph server,
or between graph files (``import --from old.json --out new.gmem`` migrates to the binary archive)."""
from __future__ import annotations

from .common import UserError, add_server_options, check_output_file, open_store_arg


def register(sub) -> None:
    p = sub.add_parser("export", help="copy a graph file into a graph server (Bolt)",
                       description="Copy every triple (retired ones too, with validity, sources and "
                                   "embeddings), episode and metadata of FILE into an empty database.")
    p.add_argument("--graph", metavar="FILE", required=True, help="graph file to read")
    p.add_argument("--to", metavar="URI", help="bolt://HOST:PORT or neo4j://HOST:PORT "
                                               "(default: NEO4J_URI)")
    p.add_argument("--merge", action="store_true",
                   help="add to a database that already holds a graph (default: refuse)")
    add_server_options(p)
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("import", help="copy a graph from a graph server (Bolt) or a graph file into a file",
                       description="Write everything in the server database (or graph file) to a new "
                                   "graph file: *.json as JSON, any other name as the binary archive.")
    p.add_argument("--from", dest="source", metavar="URI|FILE",
                   help="bolt://HOST:PORT, neo4j://HOST:PORT or a graph file (default: NEO4J_URI)")
    p.add_argument("--out", "--graph", dest="out", metavar="FILE", required=True,
                   help="graph file to write")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    add_server_options(p)
    p.set_defaults(handler=cmd_import)


def _server(args, uri):
    import os

    from graphmem.store import is_bolt_uri

    uri = uri or os.environ.get("NEO4J_URI")
    if not is_bolt_uri(uri):
        raise UserError(f"need a graph server URI (bolt://HOST:PORT or neo4j://HOST:PORT), got {uri!r}")
    return uri, open_store_arg(args, uri)


def _is_file(spec: str | None) -> bool:
    return bool(spec and "://" not in spec)


def _file(path: str):
    from graphmem.store import open_store

    return path, open_store(path, create=False, readonly=True)


def _describe(counts: dict) -> str:
    return (f"{counts['triples']} triples ({counts['current_triples']} current), "
            f"{counts['entities']} entities, {counts['episodes']} episodes")


def cmd_export(args) -> None:
    from graphmem.store.transfer import export_graph

    uri, target = _server(args, args.to)
    counts = export_graph(args.graph, target, merge=args.merge)
    print(f"exported {_describe(counts)} from {args.graph} to {uri}")


def cmd_import(args) -> None:
    from graphmem.store.transfer import import_graph

    check_output_file(args.out, "--out")
    uri, source = _file(args.source) if _is_file(args.source) else _server(args, args.source)
    counts = import_graph(source, args.out, force=args.force)
    print(f"imported {_describe(counts)} from {uri} into {args.out}")
