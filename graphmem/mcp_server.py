"""graphmem's memory as a Model Context Protocol server (the official ``mcp`` SDK, ``pip install
'graphmem[mcp]'``): any MCP client (an assistant, an agent framework) observes, recalls and queries
one memory through tools, and reads the graph and its statistics as resources.

Two tool sets: graphmem's own (observe, recall, cypher, export...) and the reference memory server's
(create_entities, read_graph...; ``graphmem.knowledge_graph``), so that clients and prompts made for
that server work unchanged. Every tool has a title, annotations, an input schema and an output schema
(``graphmem.mcp_schemas``), and answers with structured content besides its JSON text.

Every tool takes an optional ``namespace`` (``graphmem.namespaced``): the call is served by that
namespace's graph, else by the server's default one. The tools are thin: ``graphmem.service.GraphService``
checks inputs, holds the one lock and saves after every write. Its errors reach the client as tool
errors (``isError``) with their message. A write runs on a worker thread and then tells clients
listening for changes that its namespace's graph changed (``graphmem://graph/NAMESPACE``, and
``graphmem://graph`` for the default namespace). Writes by another server process on the same file
are seen at the next call but not announced.
"""
from __future__ import annotations

import functools
import importlib.metadata
import inspect
import json
from typing import Annotated, Any, Callable, cast

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BeforeValidator, Field

from .errors import GraphmemError
from .knowledge_graph import KnowledgeGraphs
from .mcp_schemas import (Answered, Deletion, Done, Entities, Entity, Exported, Forgotten, Graph, History,
                          Imported, Namespaces, NewObservations, ObservationsAdded, Observed, Recalled, Relation,
                          Relations, Rows, Status)
from .namespaced import NamespacedService
from .pages import CHARS_PER_TOKEN, DEFAULT_MAX_TOKENS, MAX_TOKENS_CEILING, MIN_MAX_TOKENS
from .service import EXPORT_PAGE, MAX_EXPORT_PAGE
from .writer import MAX_STEP

TOOL_SETS = ("all", "graphmem", "reference")
GRAPH_URI = "graphmem://graph"  # the default namespace's graph; GRAPH_URI/NAMESPACE: any namespace's
NAMESPACES = ("Every tool takes an optional namespace: each namespace is a memory of its own, and nothing "
              "written in one is seen in another.")
INSTRUCTIONS = (
    "A knowledge-graph memory (graphmem). observe() each new observation or document passage; "
    "recall() the facts and past observations related to what you need; history() shows how facts "
    "about one entity changed over steps (retired facts have valid_until). ask() answers from a "
    "corpus graph's passages. cypher() runs Cypher: nodes have 'name', relationships 'relation', "
    "'valid_from', 'valid_until' (null while current) and 'sources'. The knowledge-graph tools "
    "(create_entities, create_relations, add_observations, read_graph, search_nodes, open_nodes, "
    "delete_*) read and write the same memory as entities, relations and observations. Reading "
    "tools answer in pages: pass next_cursor back as cursor for more. " + NAMESPACES)
REFERENCE_INSTRUCTIONS = (
    "A knowledge-graph memory: entities with a type and observations, and relations between them "
    "(create_entities, create_relations, add_observations, read_graph, search_nodes, open_nodes, "
    "delete_*). Reading tools answer in pages: pass next_cursor back as cursor for more. " + NAMESPACES)

READS = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
ADDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
DELETES = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)


def _whole_number(value):
    """A JSON integer, and nothing pydantic would make one of: true (1), "3" or 2.0 sent for a step
    or a count is a client's mistake to be told of, not a number to guess."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, not {json.dumps(value, default=repr)}")
    return value


def _number(value):
    """A JSON number (integer or not), and nothing pydantic would make one of (true, "0.5")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, not {json.dumps(value, default=repr)}")
    return value


WHOLE = BeforeValidator(_whole_number)  # on every integer argument
NUMBER = BeforeValidator(_number)  # on every other number argument
# An optional number's bounds go on the number inside ``| None``: on the whole union, pydantic checks
# them against an explicit null too and fails with a TypeError, which a client sees as a crash.
MaxTokens = Annotated[Annotated[int, WHOLE, Field(ge=MIN_MAX_TOKENS, le=MAX_TOKENS_CEILING)] | None, Field(
    description=f"the most this answer may hold, in tokens of ~{CHARS_PER_TOKEN} characters (default: the "
                f"server's, {DEFAULT_MAX_TOKENS} unless started with --max-tokens; at most {MAX_TOKENS_CEILING}); "
                f"a longer answer comes in pages")]
Cursor = Annotated[str | None, Field(description="next_cursor of the page before, to continue it (send the same "
                                                 "other arguments)")]
ReferenceTime = Annotated[str | None, Field(description="when it was told, ISO 8601 (2024-05-08T13:56:00Z); "
                                                       "recall(valid_at=TIME) reads the memory as it was then")]
Step = Annotated[Annotated[int, WHOLE, Field(ge=0, le=MAX_STEP)] | None,
                 Field(description="the time step (default: the next one)")]
Namespace = Annotated[str | None, Field(description="the namespace (memory of one project, user or agent) to "
                                                    "use; default: the server's")]


def make_server(services: NamespacedService, name: str = "graphmem", tools: str = "all") -> MCPServer:
    """An ``MCPServer`` whose tools and resources serve ``services``, one namespace per call;
    ``tools``: which set (TOOL_SETS)."""
    if tools not in TOOL_SETS:
        raise ValueError(f"tools must be one of {TOOL_SETS}, not {tools!r}")
    server = MCPServer(name, instructions=REFERENCE_INSTRUCTIONS if tools == "reference" else INSTRUCTIONS)
    graphs = KnowledgeGraphs(services)

    @_tool(server, "Memory Status", READS)
    def status(namespace: Namespace = None) -> Status:
        """Counts of facts, entities and episodes; the namespace, profile, store, extractor and
        versions; and the observe calls under way (observe answers once its facts are saved: there
        is no queue)."""
        return cast(Status, {**services.get(namespace).status(), "tools": tools,
                             "sdk": importlib.metadata.version("mcp")})

    if tools != "reference":
        _graphmem_tools(server, services)
    if tools != "graphmem":
        _reference_tools(server, services, graphs)
    if services.list_namespaces:
        @_tool(server, "List Namespaces", READS)
        def namespaces() -> Namespaces:
            """The namespaces this memory holds, and the one calls use when they name none."""
            return cast(Namespaces, services.namespaces())

    @server.resource("graphmem://stats", name="stats", title="Memory statistics", mime_type="application/json")
    def stats() -> str:
        """Counts of facts, entities and episodes; the graph's kind and profile; what is allowed
        (the server's default namespace)."""
        return json.dumps(services.get().stats())

    @server.resource(GRAPH_URI, name="graph", title="Knowledge graph", mime_type="application/json")
    def whole_graph() -> str:
        """The default namespace's graph: its first page (entities with their types and
        observations, relations, as read_graph answers) and a summary counting all of it; read_graph
        pages through the rest."""
        return json.dumps(graphs.get().read_graph(summary=True), ensure_ascii=False)

    @server.resource(GRAPH_URI + "/{namespace}", name="namespace_graph", title="Knowledge graph of a namespace",
                     mime_type="application/json")
    def namespace_graph(namespace: str) -> str:
        """One namespace's graph, as graphmem://graph gives the default one's."""
        return json.dumps(graphs.get(namespace).read_graph(summary=True), ensure_ascii=False)

    return server


def _tool(server: MCPServer, title: str, annotations: ToolAnnotations, name: str | None = None):
    """Register a tool with its title and annotations (and ``name``, when the function's cannot be
    it); a GraphmemError (bad input, unknown id, a store that failed) reaches the client as a tool
    error with its message."""
    def register(fn):
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def run_async(*args, **kwargs):
                try:
                    return await fn(*args, **kwargs)
                except GraphmemError as exc:  # the client's to fix
                    raise ToolError(str(exc)) from exc
            run: Callable = run_async
        else:
            @functools.wraps(fn)
            def run_sync(*args, **kwargs):
                try:
                    return fn(*args, **kwargs)
                except GraphmemError as exc:
                    raise ToolError(str(exc)) from exc
            run = run_sync
        server.tool(name=name, title=title, annotations=annotations)(run)
        return fn
    return register


async def _changed(ctx: Context, services: NamespacedService, namespace: str | None, write: Callable[[], dict]) -> Any:
    """Run ``write()`` on a worker thread (the event loop serves other clients meanwhile, and the
    namespace's graph may be read again first), then tell clients that listen for changes of that
    namespace's graph resource that it changed."""
    result = await anyio.to_thread.run_sync(write)
    name = services.name(namespace)
    await ctx.notify_resource_updated(f"{GRAPH_URI}/{name}")
    if name == services.namespace:
        await ctx.notify_resource_updated(GRAPH_URI)
    return result


def _graphmem_tools(server: MCPServer, services: NamespacedService) -> None:
    cypher_writes = services.get().write_cypher  # the same for every namespace: the server's options

    @_tool(server, "Observe", ADDS)
    async def observe(text: Annotated[str, Field(description="an observation of the world, or a document passage")],
                      ctx: Context,
                      step: Step = None,
                      title: Annotated[str, Field(description="the passage's title (corpus graphs)")] = "",
                      speaker: Annotated[str | None, Field(description="who said it (conversation memories)")] = None,
                      time: Annotated[str | None, Field(description="when the session took place, e.g. "
                                                       "2023-05-08T13:56 (conversation memories)")] = None,
                      session: Annotated[str | None, Field(description="the conversation session it belongs "
                                                          "to (conversation memories)")] = None,
                      reference_time: ReferenceTime = None,
                      trust: Annotated[Annotated[float, NUMBER, Field(ge=0, le=1)] | None, Field(
                          description="how far the passage's source is trusted, in [0, 1] (corpus graphs; "
                                      "default 1): retrieval weighs it by this")] = None,
                      namespace: Namespace = None) -> Observed:
        """Remember a text: its facts are extracted, names resolved onto known entities, and facts it
        makes outdated are retired (kept with valid_until). Returns the facts added and retired.
        In a conversation memory each call is one turn: give its speaker, session and time, and
        "I", "you" and "yesterday" are read as that speaker, the listener and that date."""
        return await _changed(ctx, services, namespace, lambda: services.get(namespace).observe(
            text, step, title, speaker, time, session, reference_time=reference_time, trust=trust))

    @_tool(server, "Add Triples", ADDS)
    async def add_triples(triples: Annotated[list[list[str]], Field(description="[[subject, relation, object], ...]")],
                          ctx: Context, step: Step = None, reference_time: ReferenceTime = None,
                          namespace: Namespace = None) -> Observed:
        """Insert facts directly, without extraction (game memories); outdated facts are retired."""
        return await _changed(ctx, services, namespace, lambda: services.get(namespace).add_triples(
            triples, step, reference_time=reference_time))

    @_tool(server, "Recall", READS)
    def recall(queries: Annotated[list[str], Field(description="questions or keywords")],
               depth: Annotated[Annotated[int, WHOLE, Field(ge=0)] | None,
                                Field(description="expansion depth (default 2)")] = None,
               width: Annotated[Annotated[int, WHOLE, Field(ge=1)] | None,
                                Field(description="facts kept per entity (default 6)")] = None,
               top_k: Annotated[Annotated[int, WHOLE, Field(ge=1)] | None,
                                Field(description="episodes to return (conversation memories: turns, default 5)")] = None,
               valid_at: Annotated[Annotated[int, WHOLE] | str | None, Field(
                   description="a past step, or an ISO 8601 time (the last step told by then): the facts valid "
                               "then, retired ones included, with valid_from and valid_until")] = None,
               max_tokens: MaxTokens = None, cursor: Cursor = None, namespace: Namespace = None) -> Recalled:
        """Facts associated with the queries (embedding search, then breadth-first expansion through
        the graph) and the past observations that hold most of them; 'prompt' is ready for a prompt.
        A conversation memory returns its best turns for the queries, with their speaker and time.
        With valid_at, the facts that held then instead of the current ones."""
        return cast(Recalled, services.get(namespace).recall(queries, depth, width, top_k, valid_at=valid_at,
                                                             max_tokens=max_tokens, cursor=cursor))

    @_tool(server, "Entity History", READS)
    def history(entity: str, max_tokens: MaxTokens = None, cursor: Cursor = None,
                namespace: Namespace = None) -> History:
        """Every fact ever known about an entity, oldest first; retired ones have valid_until."""
        return cast(History, services.get(namespace).history(entity, max_tokens=max_tokens, cursor=cursor))

    @_tool(server, "Forget Source", DELETES)
    async def forget(source_id: Annotated[str, Field(description="an episode or passage id")],
                     ctx: Context, namespace: Namespace = None) -> Forgotten:
        """Delete an episode or passage and exactly the facts that only it supported; 'restored'
        lists the ids of the facts it had retired, current again (unless a later one rules them out)."""
        return await _changed(ctx, services, namespace, lambda: services.get(namespace).forget(source_id))

    @_tool(server, "Cypher Query", DELETES if cypher_writes else READS)
    def cypher(query: str, max_tokens: MaxTokens = None, cursor: Cursor = None,
               namespace: Namespace = None) -> Rows:
        """Run a Cypher query (read-only unless the server was started with --write); 'rows' holds
        one object per row. Queries are bounded in time, rows and memory: one past a bound fails
        with a message naming it (add WHERE or LIMIT). Long answers come in pages: add ORDER BY
        so that pages hold together while the graph changes."""
        return cast(Rows, services.get(namespace).cypher_page(query, max_tokens=max_tokens, cursor=cursor))

    @_tool(server, "Ask Corpus", READS)
    def ask(question: str, k: Annotated[int, WHOLE, Field(description="passages to retrieve", ge=1)] = 5,
            namespace: Namespace = None) -> Answered:
        """Passages and facts a corpus graph retrieves for a question (Personalized PageRank), and
        an answer when the server was started with --answer."""
        return cast(Answered, services.get(namespace).ask(question, k))

    @_tool(server, "Export Namespace", READS)
    def export(cursor: Annotated[str | None, Field(description="next_cursor of the page before")] = None,
               limit: Annotated[int, WHOLE, Field(description="the most records in this page", ge=1,
                                                     le=MAX_EXPORT_PAGE)] = EXPORT_PAGE,
               max_tokens: MaxTokens = None, namespace: Namespace = None) -> Exported:
        """A page of the namespace's records, as 'graphmem export-ns' writes them one a line: a
        header (its metadata and counts), then every fact (retired ones too, with valid_from,
        valid_until and sources), then every episode; at most limit records and max_tokens (a record
        is never cut); pass next_cursor back for the next page (null after the last). The records
        of all pages, in order, import with 'import' or 'graphmem import-ns'."""
        return cast(Exported, services.get(namespace).export(cursor, limit, max_tokens=max_tokens))

    @_tool(server, "Import Records", ADDS, name="import")  # a Python keyword: named here
    async def import_(records: Annotated[list[dict], Field(description="records as 'export' gives them")],
                      ctx: Context,
                      merge: Annotated[bool, Field(description="let a header start an import into a namespace "
                                                               "that holds a graph written with the same "
                                                               "settings")] = False,
                      namespace: Namespace = None) -> Imported:
        """Write exported records into a namespace: a page that starts with the header starts an
        import into an empty namespace (or, with merge, one written with the same settings); the
        pages after it are added to it. Facts keep their validity and sources; they are embedded
        on arrival."""
        return await _changed(ctx, services, namespace,
                              lambda: services.get(namespace).import_records(records, merge))


def _reference_tools(server: MCPServer, services: NamespacedService, graphs: KnowledgeGraphs) -> None:
    """The reference memory server's nine tools, with its names, arguments and answers."""

    @_tool(server, "Create Entities", ADDS)
    async def create_entities(entities: list[Entity], ctx: Context, namespace: Namespace = None) -> Entities:
        """Create multiple new entities in the knowledge graph (an entity that exists is left as it
        is); returns the ones created."""
        return await _changed(ctx, services, namespace, lambda: graphs.get(namespace).create_entities(entities))

    @_tool(server, "Create Relations", ADDS)
    async def create_relations(relations: list[Relation], ctx: Context, namespace: Namespace = None) -> Relations:
        """Create multiple new relations between entities in the knowledge graph. Relations should be
        in active voice. Returns the ones created (a relation that exists is skipped)."""
        return await _changed(ctx, services, namespace, lambda: graphs.get(namespace).create_relations(relations))

    @_tool(server, "Add Observations", ADDS)
    async def add_observations(observations: list[NewObservations], ctx: Context,
                               namespace: Namespace = None) -> ObservationsAdded:
        """Add new observations to existing entities in the knowledge graph; returns the ones added
        per entity. An unknown entity fails the call."""
        return await _changed(ctx, services, namespace, lambda: graphs.get(namespace).add_observations(observations))

    @_tool(server, "Delete Entities", DELETES)
    async def delete_entities(entityNames: Annotated[list[str], Field(description="An array of entity names to "
                                                                                  "delete")],
                              ctx: Context, namespace: Namespace = None) -> Done:
        """Delete multiple entities and their associated relations from the knowledge graph (they
        stay in the memory's history, retired)."""
        return await _changed(ctx, services, namespace, lambda: graphs.get(namespace).delete_entities(entityNames))

    @_tool(server, "Delete Observations", DELETES)
    async def delete_observations(deletions: list[Deletion], ctx: Context, namespace: Namespace = None) -> Done:
        """Delete specific observations from entities in the knowledge graph."""
        return await _changed(ctx, services, namespace, lambda: graphs.get(namespace).delete_observations(deletions))

    @_tool(server, "Delete Relations", DELETES)
    async def delete_relations(relations: Annotated[list[Relation], Field(description="An array of relations "
                                                                                         "to delete")],
                               ctx: Context, namespace: Namespace = None) -> Done:
        """Delete multiple relations from the knowledge graph."""
        return await _changed(ctx, services, namespace, lambda: graphs.get(namespace).delete_relations(relations))

    @_tool(server, "Read Graph", READS)
    def read_graph(max_tokens: MaxTokens = None, cursor: Cursor = None, namespace: Namespace = None) -> Graph:
        """Read the knowledge graph: entities by name, then relations, a page at a time (a graph
        larger than one page also gets 'summary', counting all of it)."""
        return cast(Graph, graphs.get(namespace).read_graph(max_tokens, cursor))

    @_tool(server, "Search Nodes", READS)
    def search_nodes(query: Annotated[str, Field(description="The search query to match against entity names, "
                                                             "types, and observation content")],
                     max_tokens: MaxTokens = None, cursor: Cursor = None, namespace: Namespace = None) -> Graph:
        """Search for nodes in the knowledge graph based on a query: the entities whose name, type or
        an observation contains it (any case), and the relations that touch them."""
        return cast(Graph, graphs.get(namespace).search_nodes(query, max_tokens, cursor))

    @_tool(server, "Open Nodes", READS)
    def open_nodes(names: Annotated[list[str], Field(description="An array of entity names to retrieve")],
                   max_tokens: MaxTokens = None, cursor: Cursor = None, namespace: Namespace = None) -> Graph:
        """Open specific nodes in the knowledge graph by their names: those entities (unknown names
        are skipped) and the relations that touch them."""
        return cast(Graph, graphs.get(namespace).open_nodes(names, max_tokens, cursor))
