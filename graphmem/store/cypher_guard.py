"""Refuse Cypher that writes unless the caller opted in.

Servers are asked for read-only transactions too, but not every Bolt server enforces that
(ArcadeDB runs CREATE in a READ transaction), so write clauses are caught here first.
"""
from __future__ import annotations

import re

from .base import CypherError

# Literals, quoted names and comments can contain any word; blank them before looking for clauses.
_OPAQUE = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.DOTALL)
# A clause keyword, not a property or parameter that happens to be named like one (n.set, $delete).
_WRITE = re.compile(
    r"(?<![\w.$])(CREATE|MERGE|DELETE|DETACH|SET|REMOVE|DROP|FOREACH|LOAD\s+CSV|ALTER|GRANT|"
    r"REVOKE|DENY|IN\s+TRANSACTIONS)\b", re.IGNORECASE)


def write_clause(query: str) -> str | None:
    """The first write clause in ``query`` (upper-cased), or None for a read-only query."""
    match = _WRITE.search(_OPAQUE.sub(" ", query))
    return None if match is None else " ".join(match.group(1).upper().split())


def reject_writes(query: str) -> None:
    clause = write_clause(query)
    if clause is not None:
        raise CypherError(f"Refusing a query that writes ({clause}): Cypher is read-only unless "
                          f"write access is asked for (--write, or cypher(..., write=True)).")
