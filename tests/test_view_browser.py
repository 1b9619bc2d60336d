"""`graphmem view` opened in a real headless browser (Debian's chromium, driven by Playwright):
a game memory and a corpus graph built for real, their pages checked for what they draw, a search,
the facts of a clicked entity, the timeline, and that nothing is fetched from the network; and a
graph whose names, passages and file name are markup, shown as text with no script run."""
from __future__ import annotations

import shutil

import pytest

from graphmem.cli import main

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,  # a real browser, real models
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh installs it)")]

OBSERVATIONS = [
    "-= Kitchen =-\nYou are in a kitchen. You see a closed fridge. There is a knife on the table. "
    "There is an exit to the north.",
    "You open the fridge. Inside the fridge you see a yellow pepper.",
    "You take the knife from the table.",
    "-= Pantry =-\nYou are in a pantry. There is a wooden shelf here. There is an exit to the south.",
]
PASSAGES = [
    {"title": "Ulm", "text": "Ulm is a city in Germany. Albert Einstein was born in Ulm."},
    {"title": "Albert Einstein", "text": "Albert Einstein was a physicist. Einstein developed relativity."},
    {"title": "Warsaw", "text": "Warsaw is the capital of Poland. Marie Curie was born in Warsaw."},
    {"title": "Marie Curie", "text": "Marie Curie was a chemist. Marie Curie discovered polonium."},
]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def open_page(browser, path):
    """The page at ``path``, refusing every request that leaves the file (the view must be offline);
    ``errors`` collects script errors and dialogs (an alert is a script the page should not run)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests, errors = [], []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else (requests.append(route.request.url), route.abort()))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_function("window.graphmemView !== undefined")
    return page, requests, errors


def drawn(page) -> list[str]:
    return page.eval_on_selector_all("#graph g.node", "gs => gs.map(g => g.dataset.name)")


def test_game_memory_view_in_a_browser(browser, tmp_path):
    from graphmem import Memory

    graph = tmp_path / "game.json"
    with Memory(graph) as memory:  # the offline extractor, for real
        for step, text in enumerate(OBSERVATIONS):
            memory.observe(text, step)
        memory.add_triples([("pantry", "is north of", "kitchen"), ("kitchen", "is south of", "pantry")], 3)
        current = memory.current()
    out = tmp_path / "game.html"
    assert main(["view", "--graph", str(graph), "--out", str(out)]) == 0

    page, requests, errors = open_page(browser, out)
    # Nodes: the entities of the current facts; an exit or a state marks its thing, never a node.
    marks = {t.object for t in current if t.relation in ("has exit", "is")}
    expected = sorted({t.subject for t in current} | {t.object for t in current} - marks)
    assert drawn(page) == expected and "north" not in expected and "open" not in expected
    assert page.locator("#graph g.node.k-room").count() == 2  # kitchen and pantry
    assert page.locator('#graph g.node[data-name="fridge"] text').text_content() == "fridge (open)"
    labels = page.eval_on_selector_all("#graph .edge text", "ts => ts.map(t => t.textContent)")
    assert "in" in labels and ("is north of" in labels or "is south of" in labels)  # relations on edges
    assert page.locator("#graph circle.group").count() == 3  # kitchen, pantry (its shelf), inventory

    page.fill("#q", "kni")
    assert page.locator("#hits li").first.inner_text().startswith("knife")
    page.press("#q", "Enter")
    info = page.inner_text("#info")
    assert info.startswith("knife") and "knife on table" in info and "steps 0 to 2, retired" in info
    assert "You take the knife" in page.inner_html("#info")  # the episode that stated it
    page.screenshot(path=str(tmp_path / "game.png"), full_page=True)

    # The timeline: at step 0 the knife was still on the table and the fridge not yet open.
    page.eval_on_selector("#step", "s => { s.value = 0; s.dispatchEvent(new Event('input')); }")
    assert "table" in drawn(page) and "inventory" not in drawn(page)
    assert page.locator('#graph g.node[data-name="fridge"] text').text_content() == "fridge (closed)"
    assert requests == [] and errors == []
    assert (tmp_path / "game.png").stat().st_size > 10_000


def test_corpus_graph_grows_from_a_search(browser, tmp_path, monkeypatch):
    import json

    import graphmem.view

    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps(PASSAGES), encoding="utf-8")
    graph, out = tmp_path / "corpus-graph.json", tmp_path / "corpus.html"
    assert main(["build", str(corpus), "--out", str(graph), "--quiet"]) == 0
    # A small graph draws everything; above the limit the page starts from a search instead.
    monkeypatch.setattr(graphmem.view, "NEIGHBOURHOOD_ABOVE", 3)
    assert main(["view", "--graph", str(graph), "--out", str(out)]) == 0

    page, requests, errors = open_page(browser, out)
    assert drawn(page) == [] and "search one to start" in page.inner_text("#hint")
    page.fill("#q", "warsaw")
    page.press("#q", "Enter")
    shown = drawn(page)
    assert "warsaw" in shown and "marie curie" in shown and "ulm" not in shown
    assert page.locator('#graph g.node.sel[data-name="warsaw"]').count() == 1
    page.click('#graph g.node[data-name="marie curie"]')  # a click expands the neighbourhood
    assert "polonium" in drawn(page)
    assert "Marie Curie was born in Warsaw" in page.inner_html("#info")  # the passage that stated it
    page.screenshot(path=str(tmp_path / "corpus.png"))
    assert requests == [] and errors == []


def test_markup_in_names_passages_and_the_file_name_is_shown_as_text(browser, tmp_path):
    from test_view import HOSTILE_NAMES, HOSTILE_TEXT, hostile_graph

    graph = tmp_path / "x__DATA__y<img src=x onerror=alert(1)>__TITLE__.json"
    hostile_graph(graph).close()
    out = tmp_path / "hostile.html"
    assert main(["view", "--graph", str(graph), "--out", str(out)]) == 0

    page, requests, errors = open_page(browser, out)
    assert page.title() == f"graphmem: {graph}" and page.inner_text("#side h2") == f"graphmem: {graph}"
    assert sorted(drawn(page)) == sorted(HOSTILE_NAMES)  # the page is drawn, not blanked
    assert f"{len(HOSTILE_NAMES)} entities" in page.inner_text("#status")
    page.fill("#q", "onerror")
    assert page.locator("#hits li").first.text_content().startswith(HOSTILE_NAMES[0])
    page.press("#q", "Enter")
    assert page.text_content("#info h3") == HOSTILE_NAMES[0]
    assert page.eval_on_selector_all("#info pre", "ps => ps.map(p => p.textContent)") == [HOSTILE_TEXT] * 2
    assert page.locator("img").count() == 0 and page.evaluate("document.scripts.length") == 1
    assert requests == [] and errors == []
