"""One FalkorDB server as the FalkorDB store talks to it: its address (``falkor://`` or ``redis://``
URIs), one query at a time on a named graph, retried on a broken connection (every store write
replaces by id, so a replay cannot duplicate anything), and every failure leaving as a StoreError
that names the server and what was being done. A bulk load may also send writes without waiting
for their replies (``send``), so that the client prepares its next batch while the server writes
the last; those replies are read, in order, before any other call (``settle``)."""
from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence
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
        self._sent: collections.deque[_Sent] = collections.deque()  # writes whose replies are unread
        self._pipe: Any = None  # the connection they went on
        self._pipe_lock = threading.RLock()  # namespaces share a connection, maybe across threads
        # The client asks the server what it is (cluster, sentinel) as it is made: the first call.
        self.db = self._call(lambda: FalkorDB(host=address.host, port=address.port, username=address.user,
                                              password=address.password, socket_connect_timeout=connect_timeout_s),
                             "connecting")

    @property
    def where(self) -> str:
        return f"falkor://{self.address.host}:{self.address.port}"

    def graphs(self) -> list[str]:
        self.settle()
        return self._call(self.db.list_graphs, "listing graphs")

    def query(self, graph: str, query: str, params: dict | None = None, *, write: bool, doing: str,
              timeout_s: float | None = None) -> list[dict]:
        """The rows of one query on ``graph`` (one atomic statement on the server), as dicts by
        column name; a read runs as GRAPH.RO_QUERY, which the server refuses to let write."""
        self.settle()
        handle = self.db.select_graph(graph)
        run = handle.query if write else handle.ro_query
        timeout = max(1, int(timeout_s * 1000)) if timeout_s else None
        self.queries += 1
        text = params_header(params) + query
        return _rows(self._call(lambda: run(text, timeout=timeout), doing))

    def bulk(self, graph: str, doing: str, nodes: Sequence[bytes] = (), node_count: int = 0,
             relationships: Sequence[bytes] = (), relationship_count: int = 0) -> None:
        """Create ``node_count`` nodes and ``relationship_count`` relationships on the existing
        ``graph`` from binary sections in one ``GRAPH.BULK`` call (``falkor_bulk``): no Cypher is
        parsed."""
        self.settle()
        self.queries += 1
        self._call(lambda: self.db.connection.execute_command(*_bulk_command(
            graph, nodes, node_count, relationships, relationship_count)), doing)

    def send_bulk(self, graph: str, doing: str, nodes: Sequence[bytes] = (), node_count: int = 0,
                  relationships: Sequence[bytes] = (), relationship_count: int = 0,
                  on_error: Callable[[], None] | None = None) -> None:
        """``bulk``, sent without waiting for its reply (``send``)."""
        self.send(_bulk_command(graph, nodes, node_count, relationships, relationship_count), doing,
                  on_error=on_error)

    def send_write(self, graph: str, query: str, params: dict | None, doing: str,
                   on_rows: Callable[[list[dict]], None] | None = None,
                   on_error: Callable[[], None] | None = None) -> None:
        """A write query on ``graph``, sent without waiting for its reply (``send``); ``on_rows``
        takes its rows."""
        self.send(("GRAPH.QUERY", graph, params_header(params) + query, "--compact"), doing,
                  on_reply=None if on_rows is None else lambda reply: on_rows(_rows(
                      _query_result(self.db.select_graph(graph), reply))), on_error=on_error)

    def send(self, command: Sequence[Any], doing: str, on_reply: Callable[[Any], None] | None = None,
             on_error: Callable[[], None] | None = None) -> None:
        """Sends ``command`` without waiting for its reply, which ``settle`` reads before this
        connection's next call: ``on_reply`` then takes it (and may send more), or, where it or one
        sent before it failed, ``on_error`` runs once every reply is read. Not retried: a write
        whose connection broke may have been applied."""
        from redis.exceptions import ConnectionError as Disconnected
        from redis.exceptions import TimeoutError as NoAnswer

        with self._pipe_lock:
            if self._pipe is None:
                self._pipe = self._call(self.db.connection.connection_pool.get_connection, doing)
            self.queries += 1
            self._sent.append(_Sent(doing, on_reply, on_error))
            try:
                self._pipe.send_command(*command)
                return
            except (Disconnected, NoAnswer) as e:
                unanswered = list(self._sent)
                self._sent.clear()
                self._drop_pipe()
                gone = e
        for sent in unanswered:  # outside the lock: they may write
            if sent.on_error is not None:
                sent.on_error()
        raise StoreError(f"the FalkorDB server at {self.where} went away while {doing}: {gone}. Check "
                         f"that it is running; the writes sent before it may not have been made.") from gone

    def settle(self, leave: int = 0) -> None:
        """Reads the replies of the writes ``send`` sent, in order, until at most ``leave`` are
        unread; raises the first failure as a StoreError once they are read (the writes after a
        failed one are read but not acted on)."""
        from redis.exceptions import ConnectionError as Disconnected
        from redis.exceptions import ResponseError
        from redis.exceptions import TimeoutError as NoAnswer

        failure: StoreError | None = None
        failed: list[_Sent] = []
        with self._pipe_lock:
            while len(self._sent) > (0 if failure else leave):
                sent = self._sent.popleft()
                try:
                    reply = self._pipe.read_response()
                    if failure is None and sent.on_reply is not None:
                        sent.on_reply(reply)
                        continue
                except ResponseError as e:
                    failure = failure or _query_error(str(e), sent.doing)
                except (Disconnected, NoAnswer) as e:
                    failure = failure or StoreError(f"the FalkorDB server at {self.where} went away while "
                                                    f"{sent.doing}: {e}. Check that it is running; that write "
                                                    f"may not have been made.")
                    failed += [sent] + list(self._sent)
                    self._sent.clear()
                    self._drop_pipe()
                    break
                if failure is not None:
                    failed.append(sent)
            if self._pipe is not None and not self._sent:
                self.db.connection.connection_pool.release(self._pipe)
                self._pipe = None
        for sent in failed:  # outside the lock: they may write
            if sent.on_error is not None:
                sent.on_error()
        if failure is not None:
            raise failure

    def _drop_pipe(self) -> None:
        if self._pipe is not None:
            self._pipe.disconnect()
            self.db.connection.connection_pool.release(self._pipe)
            self._pipe = None

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
        try:
            self.settle()
        finally:
            self.db.close()


@dataclass
class _Sent:
    """A write sent whose reply is unread (``FalkorConnection.send``)."""

    doing: str
    on_reply: Callable[[Any], None] | None
    on_error: Callable[[], None] | None


def _bulk_command(graph: str, nodes: Sequence[bytes], node_count: int, relationships: Sequence[bytes],
                  relationship_count: int) -> tuple:
    return ("GRAPH.BULK", graph, node_count, relationship_count, len(nodes), len(relationships), *nodes,
            *relationships)


def _query_result(handle: Any, reply: Any) -> Any:
    from falkordb.query_result import QueryResult

    return QueryResult(handle, reply)


def _rows(result: Any) -> list[dict]:
    """A query result's rows, as dicts by column name."""
    names = [column[1] for column in result.header]
    return [dict(zip(names, row)) for row in result.result_set]


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
