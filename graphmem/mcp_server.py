"""graphmem's memory as a Model Context Protocol server (the official ``mcp`` SDK, ``pip install
'graphmem[mcp]'``): any MCP client (an assistant, an agent framework) observes, recalls and queries
one graph through tools, and reads its statistics as a resource.

The tools are thin: ``graphmem.service.GraphService`` checks inputs, holds the one lock and saves
after every write. Its errors reach the client as tool errors (``isError``) with their message.
"""
from __future__ import annotations

import functools
import json
from typing import Annotated

from pydantic import BeforeValidator, Field

from .errors import GraphmemError
from .pages import CHARS_PER_TOKEN, DEFAULT_MAX_TOKENS, MAX_TOKENS_CEILING, MIN_MAX_TOKENS
from .service import GraphService
from .writer import MAX_STEP

INSTRUCTIONS = (
    "A knowledge-graph memory (graphmem). observe() each new observation or document passage; "
    "recall() the facts and past observations related to what you need; history() shows how facts "
    "about one entity changed over steps (retired facts have valid_until). ask() answers from a "
    "corpus graph's passages. cypher() runs Cypher: nodes have 'name', relationships 'relation', "
    "'valid_from', 'valid_until' (null while current) and 'sources'.")


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


def make_server(service: GraphService, name: str = "graphmem"):
    """An ``MCPServer`` whose tools and resources serve ``service``."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer(name, instructions=INSTRUCTIONS)

    def tool(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except GraphmemError as exc:  # bad input, unknown id, a store that failed: the client's to fix
                raise ToolError(str(exc)) from exc
        return server.tool()(run)

    @tool
    def observe(text: Annotated[str, Field(description="an observation of the world, or a document passage")],
                step: Annotated[int | None, NOT_BOOL, Field(description="the time step (default: the next one)",
                                                         ge=0, le=MAX_STEP)] = None,
                title: Annotated[str, Field(description="the passage's title (corpus graphs)")] = "",
                speaker: Annotated[str | None, Field(description="who said it (conversation memories)")] = None,
                time: Annotated[str | None, Field(description="when the session took place, e.g. "
                                                 "2023-05-08T13:56 (conversation memories)")] = None,
                session: Annotated[str | None, Field(description="the conversation session it belongs "
                                                    "to (conversation memories)")] = None) -> dict:
        """Remember a text: its facts are extracted, names resolved onto known entities, and facts it
        makes outdated are retired (kept with valid_until). Returns the facts added and retired.
        In a conversation memory each call is one turn: give its speaker, session and time, and
        "I", "you" and "yesterday" are read as that speaker, the listener and that date."""
        return service.observe(text, step, title, speaker, time, session)

    @tool
    def add_triples(triples: Annotated[list[list[str]], Field(description="[[subject, relation, object], ...]")],
                    step: Annotated[int | None, NOT_BOOL, Field(ge=0, le=MAX_STEP)] = None) -> dict:
        """Insert facts directly, without extraction (game memories); outdated facts are retired."""
        return service.add_triples(triples, step)

    @tool
    def recall(queries: Annotated[list[str], Field(description="questions or keywords")],
               depth: Annotated[int | None, NOT_BOOL, Field(description="expansion depth (default 2)", ge=0)] = None,
               width: Annotated[int | None, NOT_BOOL, Field(description="facts kept per entity (default 6)",
                                                         ge=1)] = None,
               top_k: Annotated[int | None, NOT_BOOL, Field(description="episodes to return (conversation "
                                                         "memories: turns, default 5)", ge=1)] = None,
               max_tokens: MaxTokens = None, cursor: Cursor = None) -> dict:
        """Facts associated with the queries (embedding search, then breadth-first expansion through
        the graph) and the past observations that hold most of them; 'prompt' is ready for a prompt.
        A conversation memory returns its best turns for the queries, with their speaker and time."""
        return service.recall(queries, depth, width, top_k, max_tokens=max_tokens, cursor=cursor)

    @tool
    def history(entity: str, max_tokens: MaxTokens = None, cursor: Cursor = None) -> dict:
        """Every fact ever known about an entity, oldest first; retired ones have valid_until."""
        return service.history(entity, max_tokens=max_tokens, cursor=cursor)

    @tool
    def forget(source_id: Annotated[str, Field(description="an episode or passage id")]) -> dict:
        """Delete an episode or passage and exactly the facts that only it supported; 'restored'
        lists the ids of the facts it had retired, current again (unless a later one rules them out)."""
        return service.forget(source_id)

    @tool
    def cypher(query: str, max_tokens: MaxTokens = None, cursor: Cursor = None) -> dict:
        """Run a Cypher query (read-only unless the server was started with --write); 'rows' holds
        one object per row. Queries are bounded in time, rows and memory: one past a bound fails
        with a message naming it (add WHERE or LIMIT)."""
        return service.cypher_page(query, max_tokens=max_tokens, cursor=cursor)

    @tool
    def ask(question: str, k: Annotated[int, NOT_BOOL, Field(description="passages to retrieve", ge=1)] = 5) -> dict:
        """Passages and facts a corpus graph retrieves for a question (Personalized PageRank), and
        an answer when the server was started with --answer."""
        return service.ask(question, k)

    @server.resource("graphmem://stats", name="stats", mime_type="application/json")
    def stats() -> str:
        """Counts of facts, entities and episodes; the graph's kind and profile; what is allowed."""
        return json.dumps(service.stats())

    return server
