"""One FalkorDB server as the FalkorDB store talks to it: its address (``falkor://`` or ``redis://``
URIs), one query at a time on a named graph, retried on a broken connection (every store write
replaces by id, so a replay cannot duplicate anything), and every failure leaving as a StoreError
that names the server and what was being done."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .base import CypherError, StoreError
from .falkor_params import params_header

SCHEMES = ("falkor://", "redis://")
DEFAULT_PORT = 6379
DEFAULT_GRAPH = "graphmem"


@dataclass(frozen=True)
class FalkorAddress:
    """``falkor://[user:password@]host[:port][/graph]`` (or ``redis://``) taken apart."""

    host: str
    port: int
    graph: str
    user: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, uri: str) -> "FalkorAddress":
        parts = urlsplit(uri)
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError as e:
            raise StoreError(f"invalid FalkorDB URI {uri!r}: {e}; use falkor://HOST:PORT[/GRAPH]") from e
        if parts.scheme + "://" not in SCHEMES or not parts.hostname:
            raise StoreError(f"invalid FalkorDB URI {uri!r}: use falkor://HOST:PORT[/GRAPH] or redis://HOST:PORT")
        graph = parts.path.strip("/") or DEFAULT_GRAPH
        return cls(parts.hostname, port, graph, unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


class FalkorConnection:
    """A client of one server; the server is reached once on creation, so a wrong address fails
    there. ``attempts``: tries of a query whose connection broke."""

    def __init__(self, address: FalkorAddress, *, attempts: int = 3, connect_timeout_s: float = 5.0) -> None:
        from falkordb import FalkorDB

        self.address = address
        self._attempts = attempts
        self.queries = 0  # round trips to the server (retries not counted), for measuring
        # The client asks the server what it is (cluster, sentinel) as it is made: the first call.
        self.db = self._call(lambda: FalkorDB(host=address.host, port=address.port, username=address.user,
                                              password=address.password, socket_connect_timeout=connect_timeout_s),
                             "connecting")

    @property
    def where(self) -> str:
        return f"falkor://{self.address.host}:{self.address.port}"

    def graphs(self) -> list[str]:
        return self._call(self.db.list_graphs, "listing graphs")

    def query(self, graph: str, query: str, params: dict | None = None, *, write: bool, doing: str,
              timeout_s: float | None = None) -> list[dict]:
        """The rows of one query on ``graph`` (one atomic statement on the server), as dicts by
        column name; a read runs as GRAPH.RO_QUERY, which the server refuses to let write."""
        handle = self.db.select_graph(graph)
        run = handle.query if write else handle.ro_query
        timeout = max(1, int(timeout_s * 1000)) if timeout_s else None
        self.queries += 1
        text = params_header(params) + query
        result = self._call(lambda: run(text, timeout=timeout), doing)
        names = [column[1] for column in result.header]
        return [dict(zip(names, row)) for row in result.result_set]

    def bulk_nodes(self, graph: str, sections: list[bytes], nodes: int, doing: str) -> None:
        """Create ``nodes`` nodes on the existing ``graph`` from binary node sections in one
        ``GRAPH.BULK`` call (``falkor_bulk``): no Cypher is parsed."""
        self.queries += 1
        self._call(lambda: self.db.connection.execute_command("GRAPH.BULK", graph, nodes, 0, len(sections), 0,
                                                              *sections), doing)

    def _call(self, fn: Any, doing: str) -> Any:
        from redis.exceptions import AuthenticationError, BusyLoadingError
        from redis.exceptions import ConnectionError as Disconnected
        from redis.exceptions import ResponseError
        from redis.exceptions import TimeoutError as NoAnswer

        for attempt in range(1, self._attempts + 1):
            try:
                return fn()
            except ResponseError as e:
                raise _query_error(str(e), doing) from e
            except BusyLoadingError as e:  # a ConnectionError to redis-py, but the server is there
                raise StoreError(f"the FalkorDB server at {self.where} is still loading its data from disk "
                                 f"while {doing} (after a restart a large graph takes minutes): try again "
                                 f"once it has loaded (its log says 'DB loaded')") from e
            except AuthenticationError as e:
                raise StoreError(f"authentication failed at {self.where} while {doing}: check the user and "
                                 f"password in the URI (falkor://USER:PASSWORD@HOST:PORT)") from e
            except (Disconnected, NoAnswer) as e:
                if attempt == self._attempts:
                    raise StoreError(f"the FalkorDB server at {self.where} did not answer while {doing} "
                                     f"(gave up after {attempt} attempts): {e}. Check that the server is "
                                     f"running and that the URI's host and port are right (--store).") from e
                time.sleep(0.2 * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.db.close()


def _query_error(message: str, doing: str) -> StoreError:
    """What a server's refusal means to the user: an empty graph read is none, a timeout says what
    to change, anything else is the query's fault."""
    if "timed out" in message.lower() or "timeout" in message.lower():
        return CypherError(f"the server stopped the query at its time limit ({message}); narrow it "
                           f"(WHERE, LIMIT) or raise --timeout")
    if "empty key" in message:
        return MissingGraph(message)
    if "dimension mismatch" in message.lower():
        # The server scores vectors without skipping those of another size, and cannot tell sizes apart.
        return CypherError(f"the graph holds vectors of another dimension than the query's while {doing} "
                           f"({message}): they were written with another embedder; open the graph with "
                           f"the embedder it was built with (--embedder), or build it again")
    return CypherError(f"FalkorDB rejected a query while {doing}: {message}")


class MissingGraph(StoreError):
    """The graph asked about does not exist yet (FalkorDB makes one on its first write)."""
