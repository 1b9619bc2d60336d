"""graphmem's memory as a Model Context Protocol server (the official ``mcp`` SDK, ``pip install
'graphmem[mcp]'``): any MCP client (an assistant, an agent framework) observes, recalls and queries
one graph through tools, and reads the graph and its statistics as resources.

Two tool sets: graphmem's own (observe, recall, cypher...) and the reference memory server's
(create_entities, read_graph...; ``graphmem.knowledge_graph``), so that clients and prompts made for
that server work unchanged. Every tool has a title, annotations, an input schema and an output schema
(``graphmem.mcp_schemas``), and answers with structured content besides its JSON text.

The tools are thin: ``graphmem.service.GraphService`` checks inputs, holds the one lock and saves
after every write. Its errors reach the client as tool errors (``isError``) with their message. A
write runs on a worker thread and then tells clients listening for changes that the graph changed.
"""
from __future__ import annotations

import functools
import importlib.metadata
import inspect
import json
from typing import Annotated, Callable, cast

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BeforeValidator, Field

from .errors import GraphmemError
from .knowledge_graph import KnowledgeGraph
from .mcp_schemas import (Answered, Deletion, Done, Entities, Entity, Forgotten, Graph, History, NewObservations,
                          ObservationsAdded, Observed, Recalled, Relation, Relations, Rows, Status)
from .pages import CHARS_PER_TOKEN, DEFAULT_MAX_TOKENS, MAX_TOKENS_CEILING, MIN_MAX_TOKENS
from .service import GraphService
from .writer import MAX_STEP

TOOL_SETS = ("all", "graphmem", "reference")
GRAPH_URI = "graphmem://graph"
INSTRUCTIONS = (
    "A knowledge-graph memory (graphmem). observe() each new observation or document passage; "
    "recall() the facts and past observations related to what you need; history() shows how facts "
    "about one entity changed over steps (retired facts have valid_until). ask() answers from a "
    "corpus graph's passages. cypher() runs Cypher: nodes have 'name', relationships 'relation', "
    "'valid_from', 'valid_until' (null while current) and 'sources'. The knowledge-graph tools "
    "(create_entities, create_relations, add_observations, read_graph, search_nodes, open_nodes, "
    "delete_*) read and write the same memory as entities, relations and observations. Reading "
    "tools answer in pages: pass next_cursor back as cursor for more.")
REFERENCE_INSTRUCTIONS = (
    "A knowledge-graph memory: entities with a type and observations, and relations between them "
    "(create_entities, create_relations, add_observations, read_graph, search_nodes, open_nodes, "
    "delete_*). Reading tools answer in pages: pass next_cursor back as cursor for more.")

READS = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
ADDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
DELETES = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)


def _not_bool(value):
    """JSON's true is no number: pydantic would take it as 1."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, not {str(value).lower()}")
    return value


NOT_BOOL = BeforeValidator(_not_bool)  # on every integer argument
MaxTokens = Annotated[int | None, NOT_BOOL, Field(
    description=f"the most this answer may hold, in tokens of ~{CHARS_PER_TOKEN} characters (default: the "
                f"server's, {DEFAULT_MAX_TOKENS} unless started with --max-tokens; at most {MAX_TOKENS_CEILING}); "
                f"a longer answer comes in pages", ge=MIN_MAX_TOKENS, le=MAX_TOKENS_CEILING)]
Cursor = Annotated[str | None, Field(description="next_cursor of the page before, to continue it (send the same "
                                                 "other arguments)")]
ReferenceTime = Annotated[str | None, Field(description="when it was told, ISO 8601 (2024-05-08T13:56:00Z); "
                                                       "recall(valid_at=TIME) reads the memory as it was then")]
Step = Annotated[int | None, NOT_BOOL, Field(description="the time step (default: the next one)", ge=0, le=MAX_STEP)]


def make_server(service: GraphService, name: str = "graphmem", tools: str = "all") -> MCPServer:
    """An ``MCPServer`` whose tools and resources serve ``service``; ``tools``: which set (TOOL_SETS)."""
    if tools not in TOOL_SETS:
        raise ValueError(f"tools must be one of {TOOL_SETS}, not {tools!r}")
    server = MCPServer(name, instructions=REFERENCE_INSTRUCTIONS if tools == "reference" else INSTRUCTIONS)
    graph = KnowledgeGraph(service)

    @_tool(server, "Memory Status", READS)
    def status() -> Status:
        """Counts of facts, entities and episodes; the profile, store, extractor and versions; and
        the observe calls under way (observe answers once its facts are saved: there is no queue)."""
        return cast(Status, {**service.status(), "tools": tools, "sdk": importlib.metadata.version("mcp")})

    if tools != "reference":
        _graphmem_tools(server, service)
    if tools != "graphmem":
        _reference_tools(server, graph)

    @server.resource("graphmem://stats", name="stats", title="Memory statistics", mime_type="application/json")
    def stats() -> str:
        """Counts of facts, entities and episodes; the graph's kind and profile; what is allowed."""
        return json.dumps(service.stats())

    @server.resource(GRAPH_URI, name="graph", title="Knowledge graph", mime_type="application/json")
    def whole_graph() -> str:
        """The graph's first page (entities with their types and observations, relations, as
        read_graph answers) and a summary counting all of it; read_graph pages through the rest."""
        return json.dumps(graph.read_graph(summary=True), ensure_ascii=False)

    return server


def _tool(server: MCPServer, title: str, annotations: ToolAnnotations):
    """Register a tool with its title and annotations; a GraphmemError (bad input, unknown id, a
    store that failed) reaches the client as a tool error with its message."""
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
        server.tool(title=title, annotations=annotations)(run)
        return fn
    return register


async def _changed(ctx: Context, write: Callable, *args, **kwargs):
    """Run a write on a worker thread (the event loop serves other clients meanwhile), then tell
    clients that listen for changes of the graph resource that it changed."""
    result = await anyio.to_thread.run_sync(functools.partial(write, *args, **kwargs))
    await ctx.notify_resource_updated(GRAPH_URI)
    return result


def _graphmem_tools(server: MCPServer, service: GraphService) -> None:
    cypher_writes = service.write_cypher

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
                      reference_time: ReferenceTime = None) -> Observed:
        """Remember a text: its facts are extracted, names resolved onto known entities, and facts it
        makes outdated are retired (kept with valid_until). Returns the facts added and retired.
        In a conversation memory each call is one turn: give its speaker, session and time, and
        "I", "you" and "yesterday" are read as that speaker, the listener and that date."""
        return await _changed(ctx, service.observe, text, step, title, speaker, time, session,
                              reference_time=reference_time)

    @_tool(server, "Add Triples", ADDS)
    async def add_triples(triples: Annotated[list[list[str]], Field(description="[[subject, relation, object], ...]")],
                          ctx: Context, step: Step = None, reference_time: ReferenceTime = None) -> Observed:
        """Insert facts directly, without extraction (game memories); outdated facts are retired."""
        return await _changed(ctx, service.add_triples, triples, step, reference_time=reference_time)

    @_tool(server, "Recall", READS)
    def recall(queries: Annotated[list[str], Field(description="questions or keywords")],
               depth: Annotated[int | None, NOT_BOOL, Field(description="expansion depth (default 2)", ge=0)] = None,
               width: Annotated[int | None, NOT_BOOL, Field(description="facts kept per entity (default 6)",
                                                         ge=1)] = None,
               top_k: Annotated[int | None, NOT_BOOL, Field(description="episodes to return (conversation "
                                                         "memories: turns, default 5)", ge=1)] = None,
               valid_at: Annotated[int | str | None, NOT_BOOL, Field(
                   description="a past step, or an ISO 8601 time (the last step told by then): the facts valid "
                               "then, retired ones included, with valid_from and valid_until")] = None,
               max_tokens: MaxTokens = None, cursor: Cursor = None) -> Recalled:
        """Facts associated with the queries (embedding search, then breadth-first expansion through
        the graph) and the past observations that hold most of them; 'prompt' is ready for a prompt.
        A conversation memory returns its best turns for the queries, with their speaker and time.
        With valid_at, the facts that held then instead of the current ones."""
        return cast(Recalled, service.recall(queries, depth, width, top_k, valid_at=valid_at, max_tokens=max_tokens,
                                             cursor=cursor))

    @_tool(server, "Entity History", READS)
    def history(entity: str, max_tokens: MaxTokens = None, cursor: Cursor = None) -> History:
        """Every fact ever known about an entity, oldest first; retired ones have valid_until."""
        return cast(History, service.history(entity, max_tokens=max_tokens, cursor=cursor))

    @_tool(server, "Forget Source", DELETES)
    async def forget(source_id: Annotated[str, Field(description="an episode or passage id")],
                     ctx: Context) -> Forgotten:
        """Delete an episode or passage and exactly the facts that only it supported; 'restored'
        lists the ids of the facts it had retired, current again (unless a later one rules them out)."""
        return await _changed(ctx, service.forget, source_id)

    @_tool(server, "Cypher Query", DELETES if cypher_writes else READS)
    def cypher(query: str, max_tokens: MaxTokens = None, cursor: Cursor = None) -> Rows:
        """Run a Cypher query (read-only unless the server was started with --write); 'rows' holds
        one object per row. Queries are bounded in time, rows and memory: one past a bound fails
        with a message naming it (add WHERE or LIMIT). Long answers come in pages: add ORDER BY
        so that pages hold together while the graph changes."""
        return cast(Rows, service.cypher_page(query, max_tokens=max_tokens, cursor=cursor))

    @_tool(server, "Ask Corpus", READS)
    def ask(question: str, k: Annotated[int, NOT_BOOL, Field(description="passages to retrieve", ge=1)] = 5) -> Answered:
        """Passages and facts a corpus graph retrieves for a question (Personalized PageRank), and
        an answer when the server was started with --answer."""
        return cast(Answered, service.ask(question, k))


def _reference_tools(server: MCPServer, graph: KnowledgeGraph) -> None:
    """The reference memory server's nine tools, with its names, arguments and answers."""

    @_tool(server, "Create Entities", ADDS)
    async def create_entities(entities: list[Entity], ctx: Context) -> Entities:
        """Create multiple new entities in the knowledge graph (an entity that exists is left as it
        is); returns the ones created."""
        return await _changed(ctx, graph.create_entities, entities)

    @_tool(server, "Create Relations", ADDS)
    async def create_relations(relations: list[Relation], ctx: Context) -> Relations:
        """Create multiple new relations between entities in the knowledge graph. Relations should be
        in active voice. Returns the ones created (a relation that exists is skipped)."""
        return await _changed(ctx, graph.create_relations, relations)

    @_tool(server, "Add Observations", ADDS)
    async def add_observations(observations: list[NewObservations], ctx: Context) -> ObservationsAdded:
        """Add new observations to existing entities in the knowledge graph; returns the ones added
        per entity. An unknown entity fails the call."""
        return await _changed(ctx, graph.add_observations, observations)

    @_tool(server, "Delete Entities", DELETES)
    async def delete_entities(entityNames: Annotated[list[str], Field(description="An array of entity names to "
                                                                                  "delete")],
                              ctx: Context) -> Done:
        """Delete multiple entities and their associated relations from the knowledge graph (they
        stay in the memory's history, retired)."""
        return await _changed(ctx, graph.delete_entities, entityNames)

    @_tool(server, "Delete Observations", DELETES)
    async def delete_observations(deletions: list[Deletion], ctx: Context) -> Done:
        """Delete specific observations from entities in the knowledge graph."""
        return await _changed(ctx, graph.delete_observations, deletions)

    @_tool(server, "Delete Relations", DELETES)
    async def delete_relations(relations: Annotated[list[Relation], Field(description="An array of relations "
                                                                                         "to delete")],
                               ctx: Context) -> Done:
        """Delete multiple relations from the knowledge graph."""
        return await _changed(ctx, graph.delete_relations, relations)

    @_tool(server, "Read Graph", READS)
    def read_graph(max_tokens: MaxTokens = None, cursor: Cursor = None) -> Graph:
        """Read the knowledge graph: entities by name, then relations, a page at a time (a graph
        larger than one page also gets 'summary', counting all of it)."""
        return cast(Graph, graph.read_graph(max_tokens, cursor))

    @_tool(server, "Search Nodes", READS)
    def search_nodes(query: Annotated[str, Field(description="The search query to match against entity names, "
                                                             "types, and observation content")],
                     max_tokens: MaxTokens = None, cursor: Cursor = None) -> Graph:
        """Search for nodes in the knowledge graph based on a query: the entities whose name, type or
        an observation contains it (any case), and the relations that touch them."""
        return cast(Graph, graph.search_nodes(query, max_tokens, cursor))

    @_tool(server, "Open Nodes", READS)
    def open_nodes(names: Annotated[list[str], Field(description="An array of entity names to retrieve")],
                   max_tokens: MaxTokens = None, cursor: Cursor = None) -> Graph:
        """Open specific nodes in the knowledge graph by their names: those entities (unknown names
        are skipped) and the relations that touch them."""
        return cast(Graph, graph.open_nodes(names, max_tokens, cursor))
