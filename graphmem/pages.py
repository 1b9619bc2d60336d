"""Answers cut into pages that fit a size budget, with a cursor for the next page.

An assistant's client refuses (or silently cuts) a tool answer past its limit: Claude Code's is
25,000 tokens, and a whole graph is far more. So every reading tool answers at most ``max_tokens``
approximate tokens: the answer's JSON as the MCP server sends it (indented) over four characters a
token. An answer that holds more gets ``next_cursor``; sent back as ``cursor`` with the same
arguments, it continues after the last item of the page before, in the same stable order (by rank
for ranked answers, by name or step for listings). A listing's cursor names its last item, so a page
taken after a change neither repeats nor skips an item that was there before.

A single item larger than the whole budget (a long passage) is sent with its strings shortened to
fit, and the page says ``clipped``: a page never exceeds the budget. (An export's records are never
shortened, since an import needs them whole: ``GraphService.export`` refuses one past the budget.)
"""
from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_right
from typing import Any, Callable, Mapping, Sequence, TypeVar

from .errors import GraphmemError
from .model import stable_id

CHARS_PER_TOKEN = 4
DEFAULT_MAX_TOKENS = 4000
MAX_TOKENS_CEILING = 25000  # what Claude Code accepts from one tool call
MIN_MAX_TOKENS = 100  # room for an answer's frame (its keys, a prompt's heading, a cursor)
ELLIPSIS = "…"

T = TypeVar("T")
Key = tuple  # an item's place in its answer's order: (rank,) or (kind, name, ...)


class PageError(GraphmemError):
    """A budget or cursor the server cannot use."""


def size(answer: Mapping[str, Any]) -> int:
    """An answer's length in characters as the MCP server sends it (indented JSON)."""
    return len(json.dumps(answer, indent=2, ensure_ascii=False, default=str))


def checked_budget(max_tokens, default: int, ceiling: int = MAX_TOKENS_CEILING) -> int:
    """``max_tokens`` (None: ``default``) as a budget in characters; PageError outside
    [MIN_MAX_TOKENS, ceiling]."""
    tokens = default if max_tokens is None else max_tokens
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not MIN_MAX_TOKENS <= tokens <= ceiling:
        raise PageError(f"max_tokens must be a whole number from {MIN_MAX_TOKENS} to {ceiling}, not {tokens!r}")
    return tokens * CHARS_PER_TOKEN


def page(items: Sequence[T], render: Callable[[Sequence[T]], dict], *, query: Mapping[str, Any], budget: int,
         cursor: str | None = None, key: Callable[[T], Key] | None = None) -> dict:
    """The page of ``items`` that ``cursor`` points at (None: the first), as ``render(page_items)``,
    with ``next_cursor`` when items remain, at most ``budget`` characters in all.

    ``query``: the tool and its arguments (less the cursor and budget); a cursor only continues the
    query it came from. ``key``: the items' sort key, ascending (None: their position, for ranked
    answers computed again for each page)."""
    fingerprint = stable_id(json.dumps(query, sort_keys=True, default=str))
    after = _after(cursor, fingerprint)
    if after is None:
        start = 0
    elif key is not None:
        start = bisect_right(items, after, key=key)  # O(log n) keys: a listing may hold 100k items
    else:
        start = after[0] + 1

    def build(n: int) -> dict:
        end = start + n
        out = render(items[start:end])
        if end < len(items):
            out["next_cursor"] = _cursor(fingerprint, key(items[end - 1]) if key is not None else (end - 1,))
        return out

    n = most_that_fit(build, len(items) - start, budget)
    if n > 0 or start >= len(items):
        return build(n)
    return _clipped(build, budget)  # the next item alone is larger than the budget


def most_that_fit(build: Callable[[int], dict], available: int, budget: int) -> int:
    """The most items from the start whose page fits (0 when not even one does): doubling, then
    halving between the last fit and the first miss, so a page is rendered O(log n) times."""
    if size(build(0)) > budget:
        raise PageError(f"max_tokens {budget // CHARS_PER_TOKEN} is too small for this answer's frame; ask "
                        f"for more")
    fit, miss = 0, available + 1  # build(fit) fits; build(miss) does not (available + 1: none tried)
    while fit < available:
        probe = min(max(2 * fit, 1), available)
        if size(build(probe)) > budget:
            miss = probe
            break
        fit = probe
    return _largest_fitting(lambda n: size(build(n)) <= budget, fit, miss)


def _largest_fitting(fits: Callable[[int], bool], lo: int, hi: int) -> int:
    """The largest n in [lo, hi) with ``fits(n)``, given that ``fits(lo)`` holds, ``fits(hi)``
    does not, and fitting is monotone (bisection)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _clipped(build: Callable[[int], dict], budget: int) -> dict:
    """The page of the next item alone, its strings shortened to the longest length that fits."""
    whole = build(1)

    def shortened(limit: int) -> dict:
        return {**_shorten(whole, limit), "clipped": True}

    out = shortened(_largest_fitting(lambda n: size(shortened(n)) <= budget, 0, max(_longest(whole), 1)))
    if size(out) > budget:
        raise PageError(f"max_tokens {budget // CHARS_PER_TOKEN} is too small for one item of this answer")
    return out


def _longest(value) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((_longest(v) for v in value.values()), default=0)
    if isinstance(value, (list, tuple)):
        return max((_longest(v) for v in value), default=0)
    return 0


def _shorten(value, limit: int):
    """``value`` with every string longer than ``limit`` cut to it (ids are short: they survive)."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + ELLIPSIS
    if isinstance(value, dict):
        return {k: v if k == "next_cursor" else _shorten(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shorten(v, limit) for v in value]
    return value


def _cursor(fingerprint: str, last: Key) -> str:
    raw = json.dumps({"q": fingerprint, "after": list(last)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str | None, fingerprint: str) -> Key | None:
    """The key a cursor continues after; PageError for one that is not this query's."""
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, made_for = data["after"], data["q"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise PageError("cursor is not one this server gave: send the next_cursor of the last page as it "
                        "came") from None
    if made_for != fingerprint or not isinstance(after, list) or not after:
        raise PageError("this cursor continues another query: send it with the same arguments as the page it "
                        "came with")
    return tuple(after)
