"""graphmem's memory as a Model Context Protocol server (the official ``mcp`` SDK, ``pip install
'graphmem[mcp]'``): any MCP client (an assistant, an agent framework) observes, recalls and queries
one graph through tools, and reads its statistics as a resource.

The tools are thin: ``graphmem.service.GraphService`` checks inputs, holds the one lock and saves
after every write. Its errors reach the client as tool errors (``isError``) with their message.
Every tool takes an optional ``namespace`` (``graphmem.namespaced``): the call is served by that
namespace's graph, else by the server's default one.
"""
from __future__ import annotations

import functools
import json
from typing import Annotated

from pydantic import BeforeValidator, Field

from .errors import GraphmemError
from .namespaced import NamespacedService
from .service import EXPORT_PAGE, MAX_EXPORT_PAGE
from .writer import MAX_STEP

INSTRUCTIONS = (
    "A knowledge-graph memory (graphmem). observe() each new observation or document passage; "
    "recall() the facts and past observations related to what you need; history() shows how facts "
    "about one entity changed over steps (retired facts have valid_until). ask() answers from a "
    "corpus graph's passages. cypher() runs Cypher: nodes have 'name', relationships 'relation', "
    "'valid_from', 'valid_until' (null while current) and 'sources'. Every tool takes an optional "
    "namespace: each namespace is a memory of its own, and nothing written in one is seen in another.")


def _not_bool(value):
    """JSON's true is no number: pydantic would take it as 1."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, not {str(value).lower()}")
    return value


NOT_BOOL = BeforeValidator(_not_bool)  # on every integer argument
Namespace = Annotated[str | None, Field(description="the namespace (memory of one project, user or agent) to "
                                                    "use; default: the server's")]


def make_server(services: NamespacedService, name: str = "graphmem"):
    """An ``MCPServer`` whose tools and resources serve ``services``, one namespace per call."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer(name, instructions=INSTRUCTIONS)

    def tool(fn, tool_name: str | None = None):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except GraphmemError as exc:  # bad input, unknown id, a store that failed: the client's to fix
                raise ToolError(str(exc)) from exc
        return server.tool(name=tool_name)(run)

    @tool
    def observe(text: Annotated[str, Field(description="an observation of the world, or a document passage")],
                step: Annotated[int | None, NOT_BOOL, Field(description="the time step (default: the next one)",
                                                         ge=0, le=MAX_STEP)] = None,
                title: Annotated[str, Field(description="the passage's title (corpus graphs)")] = "",
                speaker: Annotated[str | None, Field(description="who said it (conversation memories)")] = None,
                time: Annotated[str | None, Field(description="when the session took place, e.g. "
                                                 "2023-05-08T13:56 (conversation memories)")] = None,
                session: Annotated[str | None, Field(description="the conversation session it belongs "
                                                    "to (conversation memories)")] = None,
                trust: Annotated[float | None, NOT_BOOL, Field(
                    description="how far the passage's source is trusted, in [0, 1] (corpus graphs; "
                                "default 1): retrieval weighs it by this", ge=0, le=1)] = None,
                namespace: Namespace = None) -> dict:
        """Remember a text: its facts are extracted, names resolved onto known entities, and facts it
        makes outdated are retired (kept with valid_until). Returns the facts added and retired.
        In a conversation memory each call is one turn: give its speaker, session and time, and
        "I", "you" and "yesterday" are read as that speaker, the listener and that date."""
        return services.get(namespace).observe(text, step, title, speaker, time, session, trust)

    @tool
    def add_triples(triples: Annotated[list[list[str]], Field(description="[[subject, relation, object], ...]")],
                    step: Annotated[int | None, NOT_BOOL, Field(ge=0, le=MAX_STEP)] = None,
                    namespace: Namespace = None) -> dict:
        """Insert facts directly, without extraction (game memories); outdated facts are retired."""
        return services.get(namespace).add_triples(triples, step)

    @tool
    def recall(queries: Annotated[list[str], Field(description="questions or keywords")],
               depth: Annotated[int | None, NOT_BOOL, Field(description="expansion depth (default 2)", ge=0)] = None,
               width: Annotated[int | None, NOT_BOOL, Field(description="facts kept per entity (default 6)",
                                                         ge=1)] = None,
               top_k: Annotated[int | None, NOT_BOOL, Field(description="episodes to return (conversation "
                                                         "memories: turns, default 5)", ge=1)] = None,
               namespace: Namespace = None) -> dict:
        """Facts associated with the queries (embedding search, then breadth-first expansion through
        the graph) and the past observations that hold most of them; 'prompt' is ready for a prompt.
        A conversation memory returns its best turns for the queries, with their speaker and time."""
        return services.get(namespace).recall(queries, depth, width, top_k)

    @tool
    def history(entity: str, namespace: Namespace = None) -> dict:
        """Every fact ever known about an entity, oldest first; retired ones have valid_until."""
        return services.get(namespace).history(entity)

    @tool
    def forget(source_id: Annotated[str, Field(description="an episode or passage id")],
               namespace: Namespace = None) -> dict:
        """Delete an episode or passage and exactly the facts that only it supported; 'restored'
        lists the ids of the facts it had retired, current again (unless a later one rules them out)."""
        return services.get(namespace).forget(source_id)

    @tool
    def cypher(query: str, namespace: Namespace = None) -> dict:
        """Run a Cypher query (read-only unless the server was started with --write); 'rows' holds
        one object per row. Queries are bounded in time, rows and memory: one past a bound fails
        with a message naming it (add WHERE or LIMIT)."""
        return {"rows": services.get(namespace).cypher(query)}

    @tool
    def ask(question: str, k: Annotated[int, NOT_BOOL, Field(description="passages to retrieve", ge=1)] = 5,
            namespace: Namespace = None) -> dict:
        """Passages and facts a corpus graph retrieves for a question (Personalized PageRank), and
        an answer when the server was started with --answer."""
        return services.get(namespace).ask(question, k)

    @tool
    def export(cursor: Annotated[str | None, Field(description="next_cursor of the page before")] = None,
               limit: Annotated[int, NOT_BOOL, Field(description="records in this page", ge=1,
                                                     le=MAX_EXPORT_PAGE)] = EXPORT_PAGE,
               namespace: Namespace = None) -> dict:
        """A page of the namespace's records, as 'graphmem export-ns' writes them one a line: a
        header (its metadata and counts), then every fact (retired ones too, with valid_from,
        valid_until and sources), then every episode; pass next_cursor back for the next page
        (null after the last). The records of all pages, in order, import with 'import' or
        'graphmem import-ns'."""
        return services.get(namespace).export(cursor, limit)

    def import_(records: Annotated[list[dict], Field(description="records as 'export' gives them")],
                merge: Annotated[bool, Field(description="let a header start an import into a namespace "
                                                         "that holds a graph written with the same settings")] = False,
                namespace: Namespace = None) -> dict:
        """Write exported records into a namespace: a page that starts with the header starts an
        import into an empty namespace (or, with merge, one written with the same settings); the
        pages after it are added to it. Facts keep their validity and sources; they are embedded
        on arrival."""
        return services.get(namespace).import_records(records, merge)

    tool(import_, "import")  # a Python keyword, so named here

    if services.list_namespaces:
        @tool
        def namespaces() -> dict:
            """The namespaces this memory holds, and the one calls use when they name none."""
            return services.namespaces()

    @server.resource("graphmem://stats", name="stats", mime_type="application/json")
    def stats() -> str:
        """Counts of facts, entities and episodes; the graph's kind and profile; what is allowed
        (the server's default namespace)."""
        return json.dumps(services.get().stats())

    return server
