"""serve-mcp: one memory served to MCP clients over stdio (default) or streamable HTTP (loopback, or
beyond it with a bearer token), one namespace per call. Several servers may serve one graph file:
each write takes the file's lock for that write only (``graphmem.service``)."""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys

from graphmem.mcp_http import TOKEN_ENV, is_loopback
from graphmem.pages import DEFAULT_MAX_TOKENS, MAX_TOKENS_CEILING, MIN_MAX_TOKENS
from graphmem.profiles import PROFILES

from .common import (UserError, add_cypher_limit_options, add_extractor_options, add_graph_options, check_write_cypher,
                     cypher_limits, graph_spec, number, open_extractor, open_llm, open_store_arg)


LLM_SECONDS = 25.0  # each model call's limit under serve-mcp, unless --llm-timeout says otherwise


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT such as 127.0.0.1:8765, got {text!r}")
    return host, int(port)


def register(sub) -> None:
    p = sub.add_parser("serve-mcp", help="serve a graph to MCP clients (observe, recall, cypher... as tools)",
                       description="Serve one graph (a game memory or a corpus graph) to Model Context "
                                   "Protocol clients: tools observe, add_triples, recall, history, forget, "
                                   "cypher, ask, export, import, status, and the reference memory server's "
                                   "create_entities, create_relations, add_observations, delete_entities, "
                                   "delete_observations, delete_relations, read_graph, search_nodes, "
                                   "open_nodes; resources graphmem://graph and graphmem://stats. Every tool "
                                   "takes a namespace (default: --namespace). Every write is saved at "
                                   "once (atomically); servers on one graph file write one at a time and "
                                   "each sees the others' writes. Needs the 'mcp' extra.")
    add_graph_options(p)
    p.add_argument("--http", metavar="HOST:PORT", type=_host_port,
                   help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio; an address beyond "
                        "loopback (0.0.0.0, a LAN address) needs a token")
    p.add_argument("--token", metavar="TOKEN",
                   help=f"with --http: every request must send 'Authorization: Bearer TOKEN' (else 401); "
                        f"default: the environment variable {TOKEN_ENV}, which other users cannot read "
                        f"from the process list")
    p.add_argument("--allow-host", metavar="NAME", action="append", default=[],
                   help="with --http: a name clients reach the server by, besides loopback names and "
                        "the bound address (a request naming another Host gets 421); repeatable")
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
    p.add_argument("--tools", choices=("all", "graphmem", "reference"), default="all",
                   help="the tools served: graphmem's (observe, recall, cypher...), the reference memory "
                        "server's (create_entities, read_graph, search_nodes...) or all (default)")
    p.add_argument("--max-tokens", metavar="N", type=number(int, min=MIN_MAX_TOKENS, max=MAX_TOKENS_CEILING),
                   default=DEFAULT_MAX_TOKENS,
                   help=f"the size of a reading tool's answer when the call gives no max_tokens, in tokens of "
                        f"~4 characters (default {DEFAULT_MAX_TOKENS}, at most {MAX_TOKENS_CEILING}); a longer "
                        f"answer comes in pages with a next_cursor")
    add_extractor_options(p)
    add_cypher_limit_options(p)
    p.set_defaults(handler=cmd_serve_mcp)


def cmd_serve_mcp(args) -> None:
    try:
        from graphmem.mcp_http import serve_http
        from graphmem.mcp_server import make_server
        import mcp  # noqa: F401 - checked here, so a missing extra is a clear error and not a crash
    except ImportError:
        raise UserError("serve-mcp needs the MCP SDK: pip install 'graphmem[mcp]'") from None
    if args.write and args.read_only:
        raise UserError("--write lets cypher write, --read-only refuses writes: choose one")
    check_write_cypher(args)
    token = _http_token(args)
    if args.http:
        _check_port_free(*args.http)
    # On stdio, stdout carries the protocol: whatever loading prints goes to stderr instead.
    with contextlib.redirect_stdout(sys.stderr):
        services = _open_services(args)
    try:
        server = make_server(services, tools=args.tools)
        if args.http:
            host, port = args.http
            serve_http(server, host, port, token=token, allow_hosts=args.allow_host)
        else:
            server.run()
    finally:
        services.close()


def _http_token(args) -> str | None:
    """The token HTTP requests must carry (--token, else the environment), checked against where
    the server listens: beyond loopback a server without one would serve anyone on the network."""
    if not args.http:
        if args.token is not None or args.allow_host:
            raise UserError("--token and --allow-host are for the HTTP transport: add --http HOST:PORT")
        return None
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    if token is not None and not token.strip():
        raise UserError("--token is empty: give a secret such as the output of "
                        "python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    host = args.http[0]
    if token is None and not is_loopback(host):
        raise UserError(f"{host!r} is not a loopback address: a server others can reach needs a token "
                        f"(set {TOKEN_ENV} or give --token), or listen on 127.0.0.1")
    return token


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

    if args.llm_timeout is None and not os.environ.get("GRAPHMEM_LLM_TIMEOUT", "").strip():
        # observe and ask answer in the same call: bounded so that they answer before an MCP
        # client's default 60 s request timeout (an extraction makes at most two model calls)
        args.llm_timeout = LLM_SECONDS
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
                            lock_wait=args.lock_wait, max_tokens=args.max_tokens)
    return make


def _answerer(llm):
    from graphmem.rag.answer import Answerer

    return Answerer(llm).answer
