"""End to end through `graphmem` commands against a real ArcadeDB server: export, cypher, import."""
from __future__ import annotations

import pytest

from bolt_server import arcadedb_server  # noqa: F401 - fixture
from graphmem.cli import main
from graphmem.store.embedded import EmbeddedStore
from graphmem.testing.arcadedb import PASSWORD, USER, free_port
from store_contract import sample_graph


@pytest.mark.slow
def test_export_cypher_import_round_trip(tmp_path, arcadedb_server, capsys):  # noqa: F811
    sample_graph(tmp_path / "a.json")
    server = ["--user", USER, "--password", PASSWORD, "--database", arcadedb_server.fresh_database()]
    uri = arcadedb_server.uri

    assert main(["export", "--graph", str(tmp_path / "a.json"), "--to", uri, *server]) == 0
    assert "exported 41 triples (39 current), 47 entities, 5 episodes" in capsys.readouterr().out

    query = "MATCH (a)-[r]->(b) WHERE b.name = 'room 3' AND r.valid_until IS NULL RETURN count(r) AS n"
    assert main(["cypher", "--store", uri, *server, "--json", query]) == 0
    assert '"n": 8' in capsys.readouterr().out

    assert main(["cypher", "--store", uri, *server, "MATCH (n) DETACH DELETE n"]) == 2
    assert "read-only unless" in capsys.readouterr().err
    assert main(["cypher", "--store", uri, *server, "--write",
                 "CREATE (n:Scratch {name: 'x'}) RETURN n.name AS name"]) == 0
    assert main(["cypher", "--store", uri, *server, "--write",
                 "MATCH (n:Scratch) DELETE n"]) == 0
    capsys.readouterr()

    assert main(["import", "--from", uri, *server, "--out", str(tmp_path / "b.json")]) == 0
    assert "imported 41 triples" in capsys.readouterr().out
    assert (EmbeddedStore(tmp_path / "b.json").to_dict()
            == EmbeddedStore(tmp_path / "a.json").to_dict())


def test_unreachable_server_is_a_clear_cli_error(tmp_path, capsys):
    uri = f"bolt://127.0.0.1:{free_port()}"
    assert main(["import", "--from", uri, "--out", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphmem import: error:") and "server is running" in err
    assert not (tmp_path / "b.json").exists()


@pytest.mark.slow
def test_build_and_recall_on_the_server_match_the_file(tmp_path, arcadedb_server, capsys):  # noqa: F811
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "examples" / "sample_corpus.json"
    server = ["--user", USER, "--password", PASSWORD, "--database", arcadedb_server.fresh_database()]
    uri = arcadedb_server.uri
    assert main(["build", str(sample), "--store", uri, *server]) == 0
    assert main(["build", str(sample), "--out", str(tmp_path / "g.json")]) == 0
    capsys.readouterr()
    question = ["--json", "--depth", "1", "Where was Marie Curie born?"]
    assert main(["recall", "--store", uri, *server, *question]) == 0
    on_server = capsys.readouterr().out
    assert main(["recall", "--graph", str(tmp_path / "g.json"), *question]) == 0
    assert on_server == capsys.readouterr().out
    assert '"object": "warsaw"' in on_server
