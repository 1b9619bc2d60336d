"""Bounded answers: pages never exceed their budget, and following next_cursor visits every item
exactly once, in order, through the pager and through the service's reading methods on a real graph."""
from __future__ import annotations

import pytest

from graphmem.pages import CHARS_PER_TOKEN, PageError, checked_budget, page, size


def _render(part) -> dict:
    return {"items": list(part)}


def _all_pages(items, budget, key=None, query=None):
    """Every page from the first, following next_cursor; (pages, items seen in order)."""
    query = query or {"tool": "test"}
    pages, seen, cursor = [], [], None
    while True:
        out = page(items, _render, query=query, budget=budget, cursor=cursor, key=key)
        pages.append(out)
        seen += out["items"]
        cursor = out.get("next_cursor")
        if cursor is None:
            return pages, seen


@pytest.mark.parametrize("key", [None, lambda x: (x["n"],)])
def test_pages_visit_every_item_once_within_the_budget(key):
    items = [{"n": n, "text": "word " * (n % 17)} for n in range(500)]
    budget = checked_budget(200, 4000)
    pages, seen = _all_pages(items, budget, key)
    assert seen == items  # every item, once, in order
    assert len(pages) > 5 and all(size(p) <= budget for p in pages)
    assert all(p["items"] for p in pages)  # no empty page on the way


def test_a_listing_cursor_holds_across_an_insertion():
    """A keyed cursor names its last item: an item inserted before it is not seen again later."""
    items = [{"n": n, "text": "x" * 40} for n in range(0, 200, 2)]
    key = lambda x: (x["n"],)  # noqa: E731
    first = page(items, _render, query={"tool": "t"}, budget=1200, key=key)
    last_seen = first["items"][-1]["n"]
    grown = sorted(items + [{"n": 1, "text": "new"}, {"n": last_seen + 1, "text": "new"}], key=key)
    second = page(grown, _render, query={"tool": "t"}, budget=1200, cursor=first["next_cursor"], key=key)
    assert second["items"][0]["n"] == last_seen + 1


def test_an_item_larger_than_the_budget_is_clipped_to_fit():
    items = [{"text": "a" * 10_000}, {"text": "b"}]
    budget = checked_budget(100, 4000)
    first = page(items, _render, query={"tool": "t"}, budget=budget)
    assert first["clipped"] and size(first) <= budget
    assert first["items"][0]["text"].startswith("aaa") and first["items"][0]["text"].endswith("…")
    second = page(items, _render, query={"tool": "t"}, budget=budget, cursor=first["next_cursor"])
    assert second["items"] == [{"text": "b"}] and "next_cursor" not in second


def test_cursors_and_budgets_are_checked():
    items = [{"n": n} for n in range(100)]
    out = page(items, _render, query={"tool": "t", "q": "a"}, budget=400)
    with pytest.raises(PageError, match="another query"):
        page(items, _render, query={"tool": "t", "q": "b"}, budget=400, cursor=out["next_cursor"])
    with pytest.raises(PageError, match="not one this server gave"):
        page(items, _render, query={"tool": "t", "q": "a"}, budget=400, cursor="garbage!")
    for bad in (0, 99, 25_001, True, "100"):
        with pytest.raises(PageError, match="max_tokens"):
            checked_budget(bad, 4000)
    assert checked_budget(None, 4000) == 4000 * CHARS_PER_TOKEN


@pytest.mark.slow  # the real embedder
def test_the_services_reading_methods_page_a_big_graph(tmp_path):
    from graphmem.service import GraphService
    from graphmem.store import open_store

    facts = [[f"crate {n}", "in", "warehouse"] for n in range(300)] + \
        [["warehouse", f"holds shelf {n}", f"aisle {n % 7}"] for n in range(100)]
    with GraphService(open_store(tmp_path / "m.json"), max_tokens=500) as service:
        service.add_triples(facts)
        total = service.stats()["triples"]
        assert total == 400

        def every(call, key):
            seen, cursor, pages = [], None, 0
            while True:
                out = call(cursor)
                assert size(out) <= 500 * CHARS_PER_TOKEN
                seen += out[key]
                pages += 1
                cursor = out.get("next_cursor")
                if cursor is None:
                    return seen, pages

        history, pages = every(lambda c: service.history("warehouse", cursor=c), "facts")
        assert pages > 3 and len(history) == len({t["id"] for t in history}) == 400
        rows, pages = every(lambda c: service.cypher_page(
            "MATCH (a)-[r]->(b) RETURN a.name AS a, r.relation AS r, b.name AS b ORDER BY a, r, b", cursor=c), "rows")
        assert pages > 3 and len(rows) == 400 and rows == sorted(rows, key=lambda r: (r["a"], r["r"], r["b"]))
        whole = service.recall(["crates in the warehouse"], depth=3, width=500, max_tokens=25_000)
        recalled, pages = every(lambda c: service.recall(["crates in the warehouse"], depth=3, width=500,
                                                         cursor=c), "triples")
        assert pages > 1 and [t["id"] for t in recalled] == [t["id"] for t in whole["triples"]]
        with pytest.raises(PageError, match="another query"):
            service.recall(["something else"], cursor=service.history("warehouse")["next_cursor"])
