"""The page `graphmem view` writes: names, passages and the graph file's name are data, never
markup, whatever they hold; the page is written atomically."""
from __future__ import annotations

import errno
import json
import os
import re

import pytest

from graphmem.util.atomicfile import FileWriteError
from graphmem.cli import main
from graphmem.model import Episode, Triple
from graphmem.store.embedded import EmbeddedStore
from graphmem.view import render_html, view_data, write_page

HOSTILE_NAMES = ["<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>", "<!--<script>",
                 "line\u2028break & \u2029para", "__DATA__ and __TITLE__"]
HOSTILE_TEXT = ("<!--<script> a passage </script><script>alert(3)</script> <img src=x onerror=alert(4)> "
                "\u2028 __SUMMARY__ & &amp; ]]> <!-- -->")
HOSTILE_TITLE = "graphmem: x__DATA__y<img src=x onerror=alert(5)>__TITLE__ __SUMMARY__.gmem"


def hostile_graph(path=None) -> EmbeddedStore:
    store = EmbeddedStore(path)
    triples = [Triple(name, 'is near "onerror=alert(6)"', HOSTILE_NAMES[i - 1], valid_from=i, sources=[f"e{i}"])
               for i, name in enumerate(HOSTILE_NAMES)]
    store.add_triples(triples)
    for i, t in enumerate(triples):
        store.add_episode(Episode(f"e{i}", i, HOSTILE_TEXT, [t.id], title=HOSTILE_NAMES[i]))
    store.flush()
    return store


def payload(page: str) -> str:
    return re.search(r"^const D = (.*);$", page, re.MULTILINE).group(1)


def test_hostile_names_texts_and_title_stay_data():
    store = hostile_graph()
    page = render_html(store, title=HOSTILE_TITLE)
    # Placeholders are filled once, from the template: the title's own __DATA__ stays as it is.
    escaped_title = HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;")
    assert page.count(f"<title>{escaped_title}</title>") == 1 and page.count(f"<h2>{escaped_title}</h2>") == 1
    # One script element, opened and closed once; no markup from the data anywhere.
    assert page.count("<script") == 1 and page.count("</script") == 1
    assert "<!--" not in page and "<img" not in page and "\u2028" not in page and "\u2029" not in page
    # The JSON has no character that means anything to the HTML parser, and it round-trips exactly.
    data = payload(page)
    assert not set(data) & set("<>&\u2028\u2029")
    assert json.loads(data) == view_data(store)
    assert {e[0] for e in json.loads(data)["entities"]} == set(HOSTILE_NAMES)
    assert [e[2] for e in json.loads(data)["episodes"]] == [HOSTILE_TEXT] * len(HOSTILE_NAMES)


def test_view_of_a_hostile_file_name(tmp_path, capsys):
    graph = tmp_path / "x__DATA__y<img src=x onerror=alert(1)>__TITLE__.json"
    hostile_graph(graph).close()
    out = tmp_path / "view.html"
    assert main(["view", "--graph", str(graph), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count("<script") == 1 and "<img" not in page and "x__DATA__y&lt;img" in page
    assert json.loads(payload(page))["entities"]  # the data went to its one place


def test_a_full_disk_keeps_the_previous_page(tmp_path, monkeypatch, capsys):
    out = tmp_path / "view.html"
    write_page(out, "<p>old</p>")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(FileWriteError, match="No space left on device; .* is unchanged"):
        write_page(out, "<p>new</p>" * 1000)
    assert out.read_text() == "<p>old</p>" and [p.name for p in tmp_path.iterdir()] == ["view.html"]
    # The command says so in one line and exits 2.
    graph = tmp_path / "g.json"
    monkeypatch.undo()
    hostile_graph(graph).close()
    monkeypatch.setattr(os, "fsync", disk_full)
    assert main(["view", "--graph", str(graph), "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_text() == "<p>old</p>" and sorted(p.name for p in tmp_path.iterdir()) == ["g.json", "view.html"]
