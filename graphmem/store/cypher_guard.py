"""Refuse Cypher that writes unless the caller opted in.

Servers are asked for read-only transactions too, but not every Bolt server enforces that
(ArcadeDB runs CREATE in a READ transaction), so writes are caught here first: write clauses, a CALL
of any procedure not known to read (``READ_PROCEDURES``: apoc.cypher.runWrite, db.createLabel...
may write), a call of a namespaced function outside ``READ_FUNCTION_NAMESPACES``
(apoc.cypher.runFirstColumnSingle, apoc.create.* may write) and admin commands.

The guard fails closed: it must see every piece of text that some server's lexer reads as code,
so where lexers differ it either takes the reading that shows more code or refuses the query. A
``//`` comment ends at any line terminator (servers disagree on which end one); a query that
leaves a string, quoted name or ``/*`` comment open, nests ``/*``, or puts a quote after a
terminator where another server would still be inside the comment is refused as unreadable. The
query is also read with ``\\uXXXX`` escapes decoded first, as Java lexers generated with Unicode
escape preprocessing do, and refused if either reading may write.
"""
from __future__ import annotations

import re
import unicodedata

from .base import CypherError

# Every character some lexer may take as the end of a // comment (str.splitlines' set).
LINE_ENDS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_TOKEN = re.compile(
    r"(?P<string>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<name>`[^`]*`)"
    rf"|(?P<line>//[^{LINE_ENDS}]*)"
    r"|(?P<block>/\*.*?\*/)"
    r"|(?P<raw>@['\"])"  # GQL's no-escape strings: a backslash ends nothing there, unlike here
    r"|(?P<open>['\"`]|/\*)"
    r"|(?P<code>[^'\"`/@]+|[/@])", re.DOTALL)
_OPENERS = {"'": "string", '"': "string", "`": "`quoted name`", "/*": "/* comment"}
_UNICODE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u+([0-9a-fA-F]{4})")

_WORD_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
# Found anywhere (a lookahead, so overlapping candidates are all seen); which of them stand alone
# as a token is decided by _stands_alone. Re.IGNORECASE also takes 'ſ' for 's' and 'K' (Kelvin)
# for 'k', as Java's case mapping does.
_KEYWORD = re.compile(
    r"(?=(CALL|CREATE|INSERT|MERGE|DELETE|DETACH|SET|REMOVE|DROP|FOREACH|LOAD\s+CSV|ALTER|GRANT|"
    r"REVOKE|DENY|IN\s+TRANSACTIONS|(?:START|STOP)\s+(?:DATABASE|STREAMS?|ALL)|TERMINATE|RENAME|"
    r"ENABLE\s+SERVER|DEALLOCATE|REALLOCATE|DRYRUN)(?![0-9A-Za-z_]))", re.IGNORECASE)
# A possibly dotted name; a quoted part was blanked to ``.
_NAME = r"(?:\w+|``)(?:\s*\.\s*(?:\w+|``))*"
_PROCEDURE = re.compile(rf"\s*(?:(?P<subquery>[{{(])|(?P<name>{_NAME}))")
# Matched on the reversed code from just after a "(", so each call's name is read once, backwards
# (the pattern reads the same both ways); searching forwards would rescan long words from every start.
_NAME_BACKWARDS = re.compile(rf"\s*({_NAME})")

READ_PROCEDURES = frozenset(name.lower() for name in (
    "db.labels", "db.relationshipTypes", "db.propertyKeys", "db.info", "db.ping", "db.indexes",
    "db.constraints", "db.schema.visualization", "db.schema.nodeTypeProperties",
    "db.schema.relTypeProperties", "dbms.components", "dbms.procedures", "dbms.functions"))
# Namespaces (and everything under them) whose functions only compute; a function in any other
# namespace may run Cypher or change the graph. Plain names (count, toLower, coalesce) are built in.
READ_FUNCTION_NAMESPACES = frozenset((
    "date", "datetime", "localdatetime", "localtime", "time", "duration", "point", "vector.similarity",
    "apoc.coll", "apoc.text", "apoc.map", "apoc.convert", "apoc.math", "apoc.number", "apoc.date",
    "apoc.temporal", "apoc.agg", "apoc.meta"))


class _Unreadable(Exception):
    """The query cannot be split into code and opaque text the way every server would split it."""


def _code(query: str) -> str:
    """``query`` as code only: strings blanked to '', quoted names to ``, comments to a space, and
    every invisible or whitespace character to a space.

    A // comment ended by a terminator other than \\n is code from there on for the servers that
    end it there and comment up to the next \\n for the others. That stretch is read as code, which
    only works while it opens no string, quoted name or /* comment that could run on past the \\n."""
    parts, split_line = [], None  # split_line: the terminator that ended a comment early on this line
    for token in _TOKEN.finditer(query):
        kind, text = token.lastgroup, token.group()
        assert kind is not None  # every alternative of _TOKEN is a named group
        if split_line and kind in ("string", "name", "block", "raw", "open"):
            raise _Unreadable(f"a quote or /* after a // comment's U+{ord(split_line):04X}, where "
                              f"servers disagree on whether the comment ended")
        if kind == "open":
            raise _Unreadable(f"an unclosed {_OPENERS[text]}")
        if kind == "raw":
            raise _Unreadable("an @-quoted string, whose end servers read differently")
        if kind == "name" and "\\" in text:
            raise _Unreadable("a backslash in a `quoted name`, whose end servers read differently")
        if kind == "block" and "/*" in text[2:]:
            raise _Unreadable("a /* inside a /* comment, which some servers nest")
        if kind == "line" and query[token.end():token.end() + 1] not in ("", "\n"):
            split_line = query[token.end()]
        elif kind == "code" and "\n" in text:
            split_line = None
        parts.append({"string": "''", "name": "``", "code": text}.get(kind, " "))
    return re.sub(r"[^\x20-\x7e]", _gap, "".join(parts))


def _gap(char: re.Match) -> str:
    c = char.group()
    return " " if c.isspace() or unicodedata.category(c)[0] in "CZ" else c


def _stands_alone(code: str, start: int) -> bool:
    """Whether a keyword found at ``start`` is a token of its own, not part of a longer word, a
    parameter ($set) or a property key (n.set). A word that starts with a digit may lex as a number
    then a keyword (1DELETE, 0xaSET), and 1.set may lex as the float 1. then SET: both count."""
    first = start
    while first > 0 and code[first - 1] in _WORD_CHARS:
        first -= 1
    if first < start:
        return code[first].isdigit()
    before = code[start - 1] if start else ""
    return before != "$" and not (before == "." and _owns_property(code, start - 1))


def _owns_property(code: str, dot: int) -> bool:
    """Whether the text before ``dot`` is something with properties: a name (not a number), a
    quoted name or a closing bracket."""
    before = code[dot - 1] if dot else ""
    if before in (")", "]", "}", "`"):
        return True
    first = dot
    while first > 0 and code[first - 1] in _WORD_CHARS:
        first -= 1
    return first < dot and not code[first].isdigit()


def _first_write(query: str) -> str | None:
    try:
        code = _code(query)
    except _Unreadable as unreadable:
        return str(unreadable)
    read_calls = set()  # where an allowed procedure's name starts: not a function call
    for keyword in _KEYWORD.finditer(code):
        start, word = keyword.start(1), keyword.group(1)
        if not _stands_alone(code, start):
            continue
        if word.upper() != "CALL":
            return " ".join(word.upper().split())
        procedure = _PROCEDURE.match(code, keyword.end(1))
        if procedure is None:
            return "CALL (an unreadable procedure name)"
        if procedure.group("subquery"):
            continue
        name = re.sub(r"\s", "", procedure.group("name"))
        if "`" in name:
            return "CALL (a quoted procedure name)"
        if name.lower() not in READ_PROCEDURES:
            return f"CALL {_shown(name)}"
        read_calls.add(procedure.start("name"))
    backwards = code[::-1]
    for paren in re.finditer(r"\(", code):
        function = _NAME_BACKWARDS.match(backwards, len(code) - paren.start())
        if function is None:
            continue
        name = re.sub(r"\s", "", function.group(1))[::-1]
        if "." in name and len(code) - function.end(1) not in read_calls and not _reads(name):
            return f"{_shown(name)}()" if "`" not in name else "a function with a quoted name"
    return None


def _shown(name: str, limit: int = 80) -> str:
    return name if len(name) <= limit else name[:limit] + "..."


def _reads(function: str) -> bool:
    namespace = function.rsplit(".", 1)[0].lower()
    return "`" not in function and any(
        namespace == known or namespace.startswith(known + ".") for known in READ_FUNCTION_NAMESPACES)


def write_clause(query: str) -> str | None:
    """What in ``query`` may write (a clause upper-cased, a call, or why the query cannot be read
    safely), or None for a read-only query."""
    found = _first_write(query)
    if found is None:
        decoded = _UNICODE_ESCAPE.sub(lambda m: m.group(1) + chr(int(m.group(2), 16)), query)
        if decoded != query:
            found = _first_write(decoded)
    return found


def code_of(query: str) -> str:
    """``query`` with strings, quoted names and comments blanked, for other checks of its code; for a
    query ``write_clause`` accepted (one that every server splits the same way)."""
    return _code(query)


def reject_writes(query: str) -> None:
    clause = write_clause(query)
    if clause is not None:
        raise CypherError(f"Refusing a query that may write ({clause}): Cypher is read-only unless "
                          f"write access is asked for (--write, or cypher(..., write=True)).")
