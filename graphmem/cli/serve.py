"""serve-mcp: one memory served to MCP clients over stdio (default) or streamable HTTP on loopback,
one namespace per call. Several servers may serve one graph file: each write takes the file's lock
for that write only (``graphmem.service``)."""
from __future__ import annotations

import argparse
import contextlib
import ipaddress
import socket
import sys

from graphmem.profiles import PROFILES

from .common import (UserError, add_cypher_limit_options, add_extractor_options, add_graph_options, check_write_cypher,
                     cypher_limits, graph_spec, number, open_extractor, open_llm, open_store_arg)


def _loopback(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT such as 127.0.0.1:8765, got {text!r}")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise argparse.ArgumentTypeError(f"{host!r} is not a loopback address: the server has no "
                                         f"authentication, so it listens on 127.0.0.1, ::1 or localhost only")
    return host, int(port)


def register(sub) -> None:
    p = sub.add_parser("serve-mcp", help="serve a graph to MCP clients (observe, recall, cypher... as tools)",
                       description="Serve one graph (a game memory or a corpus graph) to Model Context "
                                   "Protocol clients: tools observe, add_triples, recall, history, forget, "
                                   "cypher, ask, export, import; resource graphmem://stats. Every tool "
                                   "takes a namespace (default: --namespace). Every write is saved at "
                                   "once (atomically); servers on one graph file write one at a time and "
                                   "each sees the others' writes. Needs the 'mcp' extra.")
    add_graph_options(p)
    p.add_argument("--http", metavar="HOST:PORT", type=_loopback,
                   help="serve streamable HTTP at http://HOST:PORT/mcp (loopback only) instead of stdio")
    p.add_argument("--write", action="store_true", help="let the cypher tool run write queries")
    p.add_argument("--read-only", action="store_true",
                   help="refuse every write (no lock is taken on a graph file)")
    p.add_argument("--list-namespaces", action="store_true",
                   help="add the tool 'namespaces', which lists the memory's namespaces (default: no tool "
                        "tells a client which other namespaces exist)")
    p.add_argument("--lock-wait", metavar="SECONDS", type=number(float, min=0), default=10.0,
                   help="how long a write waits while another process writes the graph file (another "
                        "server's write, a build) before it fails (default 10)")
    p.add_argument("--answer", action="store_true",
                   help="ask() also answers with the LLM chosen by --llm (default: it only retrieves)")
    p.add_argument("--profile", choices=tuple(PROFILES),
                   help="the profile of a new graph: text-game (a game memory, the default), documents "
                        "(a corpus graph that answers ask) or dialogue (a conversation memory: observe "
                        "takes speaker, time and session); an existing graph keeps its own")
    add_extractor_options(p)
    add_cypher_limit_options(p)
    p.set_defaults(handler=cmd_serve_mcp)


def cmd_serve_mcp(args) -> None:
    try:
        from graphmem.mcp_server import make_server
        import mcp  # noqa: F401 - checked here, so a missing extra is a clear error and not a crash
    except ImportError:
        raise UserError("serve-mcp needs the MCP SDK: pip install 'graphmem[mcp]'") from None
    if args.write and args.read_only:
        raise UserError("--write lets cypher write, --read-only refuses writes: choose one")
    check_write_cypher(args)
    if args.http:
        _check_port_free(*args.http)
    # On stdio, stdout carries the protocol: whatever loading prints goes to stderr instead.
    with contextlib.redirect_stdout(sys.stderr):
        service = _open_services(args)
    try:
        server = make_server(service)
        if args.http:
            host, port = args.http
            server.run("streamable-http", host=host, port=port)
        else:
            server.run()
    finally:
        service.close()


def _check_port_free(host: str, port: int) -> None:
    """Bind the port once before the graph is opened: a busy port is one clear line, not the HTTP
    server's log after a model has loaded. (Another process may still take it in between.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the HTTP server binds it
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}): is another server using "
                            f"it? Choose another port with --http HOST:PORT") from None


def _open_services(args):
    """The memory's namespaces, the one --namespace names opened now (so that a bad graph is an
    error before the server starts), the others on their first call."""
    from graphmem.namespaced import NamespacedService

    # A graph file is shared: other servers may write it between this one's writes.
    store = open_store_arg(args, graph_spec(args), create=not args.read_only, readonly=args.read_only,
                           shared=not args.read_only)
    return NamespacedService(store, _service_maker(args), list_namespaces=args.list_namespaces)


def _service_maker(args):
    """``make(store)``: the service of one namespace's store, with the options of ``args``; the
    LLM (--answer, --extractor llm) is opened once, for every namespace."""
    from graphmem.profiles import profile_named
    from graphmem.service import GraphService

    opened = {}

    def llm():
        if "llm" not in opened:
            opened["llm"] = open_llm(args)
        return opened["llm"]

    def make(store):
        profile = profile_named(args.profile or store.meta().get("profile") or "text-game")
        answer = _answerer(llm()) if args.answer else None
        extractor = open_extractor(args, profile, llm() if args.extractor == "llm" else None)
        return GraphService(store, read_only=args.read_only, write_cypher=args.write, answer=answer,
                            profile=args.profile, extractor=extractor, cypher_limits=cypher_limits(args),
                            lock_wait=args.lock_wait)
    return make


def _answerer(llm):
    from graphmem.rag.answer import Answerer

    return Answerer(llm).answer
