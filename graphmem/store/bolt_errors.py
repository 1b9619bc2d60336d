"""What the Bolt driver's errors mean to the user: which ones are worth retrying, and one message
for each kind that says what to check."""
from __future__ import annotations

from neo4j.exceptions import (
    AuthError,
    ClientError,
    CypherSyntaxError,
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from .base import CypherError, StoreError


def retryable(exc: BaseException) -> bool:
    return isinstance(exc, (DriverError, Neo4jError)) and exc.is_retryable()


def translate(e: Exception, where: str, attempts: int, doing: str) -> StoreError:
    """The StoreError for ``e``, raised at the server ``where`` (URI, user, database) while
    ``doing`` something, after ``attempts`` tries."""
    if isinstance(e, StoreError):
        return e
    if isinstance(e, AuthError):
        return StoreError(f"Authentication failed at {where} while {doing}: check the "
                          f"user and password (--user/--password or NEO4J_USER/NEO4J_PASSWORD).")
    if isinstance(e, CypherSyntaxError):
        return CypherError(f"Cypher syntax error: {e.message}")
    if isinstance(e, Neo4jError) and "TimedOut" in (e.code or ""):
        return CypherError(f"the server stopped the query at its time limit ({e.message}); narrow it "
                           f"(WHERE, LIMIT) or raise --timeout")
    if isinstance(e, IncompleteCommit):
        return StoreError(f"The connection to {where} broke during the commit while "
                          f"{doing}, so the server may or may not have saved it: check that "
                          f"the server is running, then run the same operation again (graph "
                          f"writes replace by id, so repeating them is safe).")
    if isinstance(e, (ServiceUnavailable, SessionExpired)) or retryable(e):
        return StoreError(f"The graph server at {where} did not answer while {doing} "
                          f"(gave up after {attempts} attempts): {e}. Check that the "
                          f"server is running and that the URI host and port are right "
                          f"(--store or NEO4J_URI). Nothing from this operation was saved.")
    if isinstance(e, ClientError) and "Database" in (e.code or "") and "NotFound" in (e.code or ""):
        return StoreError(f"Database not found at {where}: create it on the server or "
                          f"pass another --database / NEO4J_DATABASE.")
    if isinstance(e, Neo4jError):
        return CypherError(f"The server rejected a query while {doing}: {e.message} "
                           f"[{e.code}]")
    return StoreError(f"Bolt error at {where} while {doing}: {e}")
