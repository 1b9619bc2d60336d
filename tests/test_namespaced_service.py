"""The service of a memory's namespaces (what the MCP tools call): nothing written in one namespace
is seen from another by any call; a namespace exports in pages and imports into another with its
history; servers sharing one graph file see each other's writes; the CLI's --namespace, export-ns
and import-ns."""
from __future__ import annotations

import json

import pytest

from graphmem.cli import main
from graphmem.namespaced import NamespacedService
from graphmem.service import ServiceError
from graphmem.store import open_store
from graphmem.store.base import StoreError
from graphmem.store.namespaces import NamespaceError

SECRET = [["brass key", "in", "blue box"]]
SEEN = "-= Kitchen =-\nYou see a knife on the table."


def _everything(service) -> str:
    """What every reading call of a namespace answers (but the names it was asked about), as one text."""
    recalled = service.recall(["brass key", "blue box", "knife", "table"])
    return json.dumps([recalled["triples"], recalled["episodes"], recalled["prompt"],
                       service.history("brass key")["facts"], service.history("knife")["facts"],
                       service.cypher("MATCH (a)-[r]->(b) RETURN a.name, b.name"),
                       service.export(limit=2000), service.stats()])


def test_a_fact_written_in_one_namespace_is_never_seen_in_another(tmp_path):
    path = tmp_path / "m.json"
    with NamespacedService(open_store(path, shared=True), list_namespaces=True) as services:
        a = services.get("a")
        written = a.add_triples(SECRET)
        observed = a.observe(SEEN)
        assert "knife" in json.dumps(observed["added"])
        services.get("b").add_triples([["apple", "in", "fridge"]])  # b has a graph of its own
        for other in ("b", None):  # another namespace, and the server's default one
            seen = _everything(services.get(other))
            assert "brass" not in seen and "knife" not in seen
            for episode in (written["episode"], observed["episode"]):
                with pytest.raises(ServiceError, match="no episode or passage with id"):
                    services.get(other).forget(episode)
        assert "brass key" in _everything(a) and "knife" in _everything(a)
        assert services.namespaces() == {"namespaces": ["a", "b"], "default": "default"}
        with pytest.raises(NamespaceError, match="lowercase letters"):
            services.get("A")
    with NamespacedService(open_store(path, shared=True)) as services:
        with pytest.raises(ServiceError, match="--list-namespaces"):
            services.namespaces()
        assert [f["object"] for f in services.get("a").history("brass key")["facts"]] == ["blue box"]


def test_a_namespace_exported_in_pages_imports_into_another_with_its_history(tmp_path):
    with NamespacedService(open_store(tmp_path / "m.gmem", shared=True)) as services:
        a = services.get("a")
        a.add_triples([["knife", "on", "table"]])
        a.add_triples([["knife", "in", "drawer"]])  # retires the knife on the table
        a.observe("You see a fork on the table.")
        records, cursor = [], None
        while True:
            page = a.export(cursor, limit=2)
            assert len(page["records"]) <= 2
            records += page["records"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        counts = records[0]["counts"]
        assert records[0]["kind"] == "namespace" and len(records) == 1 + counts["triples"] + counts["episodes"]
        c = services.get("c")
        c.import_records(records[:3])  # the header starts it; the pages after it add to it
        c.import_records(records[3:])
        assert c.history("knife") == a.history("knife")
        assert [f["valid_until"] is None for f in c.history("knife")["facts"]] == [False, True]
        assert ("knife", "in", "drawer") in {(t["subject"], t["relation"], t["object"])
                                             for t in c.recall(["where is the knife?"])["triples"]}
        assert c.stats()["triples"] == a.stats()["triples"]
        with pytest.raises(StoreError, match="already holds"):
            c.import_records(records)
        with pytest.raises(StoreError, match="record 2: a triple without 'subject'"):
            services.get("d").import_records([records[0], {"kind": "triple", "relation": "in"}])
        assert services.get("d").stats()["triples"] == 0  # checked before anything was written


def test_export_pages_keep_to_the_token_budget_and_never_cut_a_record(tmp_path):
    from graphmem.pages import CHARS_PER_TOKEN, size

    def pages(service, max_tokens: int) -> list[dict]:
        out, cursor = [], None
        while True:
            page = service.export(cursor, limit=2000, max_tokens=max_tokens)
            assert size(page) <= max_tokens * CHARS_PER_TOKEN and page["records"]
            out.append(page)
            cursor = page["next_cursor"]
            if cursor is None:
                return out

    with NamespacedService(open_store(tmp_path / "m.json", shared=True)) as services:
        a = services.get("a")
        for i in range(12):
            a.add_triples([[f"box {i}", "in", "attic"]])
        (whole,) = pages(a, 25000)
        small = pages(a, 300)
        assert len(small) > 3 and [r for p in small for r in p["records"]] == whole["records"]
        assert len(whole["records"]) == 1 + 12 + 12
        a.observe("The lamp is lit. " * 200)  # an episode whose record alone is past 300 tokens
        with pytest.raises(ServiceError, match="larger than max_tokens 300: ask with more"):
            pages(a, 300)


def test_services_sharing_one_file_write_in_turn_and_see_each_others_writes(tmp_path):
    path = tmp_path / "m.json"
    one, two = NamespacedService(open_store(path, shared=True)), NamespacedService(open_store(path, shared=True))
    try:
        steps = []
        for i in range(4):
            steps.append(one.get().add_triples([[f"box {i}", "in", "attic"]])["step"])
            steps.append(two.get().add_triples([[f"crate {i}", "in", "cellar"]])["step"])
        assert sorted(steps) == list(range(8))  # each took the step after the other's last
        for services in (one, two):
            rows = services.get().cypher("MATCH (a)-[r]->(b) RETURN a.name")
            assert len(rows) == 8
            assert [f["object"] for f in services.get().history("crate 3")["facts"]] == ["cellar"]
    finally:
        one.close()
        two.close()
    assert len(open_store(path, readonly=True).triples()) == 8


def test_the_commands_take_a_namespace_and_export_and_import_one(tmp_path, capsys):
    graph, copy, lines = tmp_path / "m.json", tmp_path / "copy.gmem", tmp_path / "a.jsonl"
    with NamespacedService(open_store(graph, shared=True)) as services:
        services.get("a").add_triples(SECRET)
        services.get().add_triples([["apple", "in", "fridge"]])
    capsys.readouterr()

    def run(*argv: str) -> str:
        assert main(list(argv)) == 0
        return capsys.readouterr().out

    assert "brass key" in run("recall", "brass key", "--graph", str(graph), "--namespace", "a")
    assert "brass key" not in run("recall", "brass key", "--graph", str(graph))
    assert "brass key" in run("cypher", "MATCH (a)-[r]->(b) RETURN a.name", "--graph", str(graph), "--namespace", "a")
    assert "brass key" not in run("cypher", "MATCH (a)-[r]->(b) RETURN a.name", "--graph", str(graph))
    run("export-ns", "--graph", str(graph), "--namespace", "a", "--out", str(lines), "--vectors")
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["kind"] for r in records] == ["namespace", "triple", "episode"] and "vector" in records[1]
    imported = json.loads(run("import-ns", str(lines), "--graph", str(copy), "--namespace", "x"))
    assert imported["imported"] == {"triples": 1, "episodes": 1} and imported["triples"] == 1
    assert "brass key" in run("recall", "blue box", "--graph", str(copy), "--namespace", "x")
    whole = tmp_path / "whole.gmem"  # import copies a namespace between files (or servers) too
    run("import", "--from", str(graph), "--namespace", "a", "--out", str(whole))
    assert "brass key" in run("recall", "blue box", "--graph", str(whole), "--namespace", "a")
    assert not whole.exists()  # only namespace a was copied: the default one has no file
    episode = records[2]["id"]
    assert main(["forget", episode, "--graph", str(graph)]) == 2  # not in the default namespace
    assert "no passage with id" in capsys.readouterr().err
    run("forget", episode, "--graph", str(graph), "--namespace", "a")
    assert "brass key" not in run("recall", "brass key", "--graph", str(graph), "--namespace", "a")
    with pytest.raises(SystemExit) as exit_:
        main(["recall", "x", "--graph", str(graph), "--namespace", "Bad Name"])
    assert exit_.value.code == 2 and "lowercase letters" in capsys.readouterr().err
