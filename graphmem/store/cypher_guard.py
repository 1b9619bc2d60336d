"""Refuse Cypher that writes unless the caller opted in.

Servers are asked for read-only transactions too, but not every Bolt server enforces that
(ArcadeDB runs CREATE in a READ transaction), so write clauses are caught here first. That covers
procedures too: a CALL is let through only for procedures known to read (``READ_PROCEDURES``), since
any other may write (apoc.cypher.runWrite, db.createLabel...); admin commands are writes as well.
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
    r"REVOKE|DENY|IN\s+TRANSACTIONS|START\s+DATABASE|STOP\s+DATABASE|TERMINATE|RENAME|ENABLE\s+SERVER|"
    r"DEALLOCATE|REALLOCATE|DRYRUN)\b", re.IGNORECASE)
# CALL of a procedure (not of a subquery: CALL { ... } or CALL (x) { ... }); names may be dotted.
_CALL = re.compile(r"(?<![\w.$])CALL\b\s*(?![\s{(])([\w.]*)", re.IGNORECASE)
READ_PROCEDURES = frozenset(name.lower() for name in (
    "db.labels", "db.relationshipTypes", "db.propertyKeys", "db.info", "db.ping", "db.indexes",
    "db.constraints", "db.schema.visualization", "db.schema.nodeTypeProperties",
    "db.schema.relTypeProperties", "dbms.components", "dbms.procedures", "dbms.functions"))


def write_clause(query: str) -> str | None:
    """The first write clause in ``query`` (upper-cased), or None for a read-only query."""
    text = _OPAQUE.sub(" ", query)
    match = _WRITE.search(text)
    if match is not None:
        return " ".join(match.group(1).upper().split())
    for call in _CALL.finditer(text):
        if call.group(1).lower() not in READ_PROCEDURES:  # a backquoted name was blanked: refused too
            return f"CALL {call.group(1).strip('.') or '(a quoted procedure name)'}"
    return None


def reject_writes(query: str) -> None:
    clause = write_clause(query)
    if clause is not None:
        raise CypherError(f"Refusing a query that writes ({clause}): Cypher is read-only unless "
                          f"write access is asked for (--write, or cypher(..., write=True)).")
