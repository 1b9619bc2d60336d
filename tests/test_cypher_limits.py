"""Cypher has bounds: a time limit, a row limit and a memory guard, on the command line, in the
library and in the MCP service, where one long query keeps no other caller waiting.

The long query is a cartesian product: three MATCHes with no pattern over 1,000 entities ask
grand-cypher for a billion rows, which it builds in memory (gigabytes within seconds, unbounded)."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from graphmem.cli import main
from graphmem.errors import ConfigError
from graphmem.model import Triple
from graphmem.service import GraphService
from graphmem.store import CypherError, CypherLimits, EmbeddedStore

ROOT = Path(__file__).resolve().parents[1]
CARTESIAN = "MATCH (a) MATCH (b) MATCH (c) RETURN count(a)"
# Far past any bound here: a hung command fails the test instead of hanging it.
HANG_S = 60


def ring(n: int) -> list[Triple]:
    """n entities, each near the next: a graph with no shortcut for a cartesian product."""
    return [Triple(f"e{i}", "near", f"e{(i + 1) % n}", valid_from=i) for i in range(n)]


@pytest.fixture(scope="module")
def big_graph(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bounds") / "ring.json"
    with EmbeddedStore(path) as store:
        store.add_triples(ring(1000))
    return path


def cypher(capsys, graph: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["cypher", "--graph", str(graph), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def cypher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "graphmem-cypher"]


@pytest.mark.slow
def test_a_cartesian_query_stops_at_its_time_limit(big_graph):
    # The real command in its own process, with the memory guard off: only the clock can stop it.
    proc = subprocess.run([sys.executable, "-m", "graphmem.cli", "cypher", "--graph", str(big_graph),
                           "--timeout", "2", "--max-memory", "0", CARTESIAN],
                          capture_output=True, text=True, cwd=ROOT, timeout=HANG_S)
    assert proc.returncode == 2 and proc.stdout == ""
    # One line, no traceback from the stopped worker thread.
    assert proc.stderr.strip().splitlines() == [
        "graphmem cypher: error: the query ran past its 2 s limit; narrow it (WHERE, LIMIT) or raise --timeout"]


def test_the_memory_guard_stops_a_query_that_grows_the_process(big_graph, capsys):
    code, out, err = cypher(capsys, big_graph, "--max-memory", "20", CARTESIAN)
    assert code == 2 and out == ""
    assert "the query took more than 20 MB of memory (its limit)" in err and "--max-memory" in err
    assert cypher_threads() == []  # the stopped query ended, and its memory went with it


def test_more_rows_than_the_limit_is_an_error_not_a_truncation(big_graph, capsys):
    code, out, err = cypher(capsys, big_graph, "--max-rows", "5", "MATCH (a) RETURN a.name")
    assert code == 2 and out == ""
    assert "the query answers more than 5 rows (its limit); add LIMIT" in err
    code, out, _ = cypher(capsys, big_graph, "--max-rows", "5", "--json", "MATCH (a) RETURN a.name LIMIT 5")
    assert code == 0 and len(json.loads(out)) == 5
    code, out, _ = cypher(capsys, big_graph, "--max-rows", "0", "--json", "MATCH (a) RETURN a.name")
    assert code == 0 and len(json.loads(out)) == 1000  # 0: no row limit


def test_ordinary_queries_answer_within_the_default_bounds(big_graph, capsys):
    code, out, _ = cypher(capsys, big_graph, "--json",
                          "MATCH (a)-[r]->(b) WHERE a.name = 'e7' RETURN b.name, r.relation")
    assert code == 0 and json.loads(out) == [{"b.name": "e8", "r.relation": "near"}]


@pytest.mark.parametrize("option", ["--timeout", "--max-rows", "--max-memory"])
def test_a_negative_bound_is_refused(big_graph, capsys, option):
    with pytest.raises(SystemExit) as exit_:
        main(["cypher", "--graph", str(big_graph), option, "-1", "MATCH (a) RETURN a"])
    assert exit_.value.code == 2 and "out of range" in capsys.readouterr().err


def test_a_store_answers_again_after_a_stopped_query(big_graph):
    store = EmbeddedStore(big_graph, readonly=True)
    with pytest.raises(CypherError, match="ran past its 0.5 s limit"):
        store.cypher(CARTESIAN, limits=CypherLimits(timeout=0.5, max_memory=0))
    assert cypher_threads() == []
    # grand-cypher and networkx were stopped in the middle: nothing of theirs was left broken.
    assert store.cypher("MATCH (a)-[r]->(b) WHERE a.name = 'e999' RETURN b.name") == [{"b.name": "e0"}]
    assert store.cypher("MATCH (a) RETURN count(a)") == [{"COUNT(a)": 1000}]


def test_limits_refuse_values_that_bound_nothing():
    with pytest.raises(ConfigError, match="timeout must be a number >= 0"):
        CypherLimits(timeout=-1)
    with pytest.raises(ConfigError, match="max_rows"):
        CypherLimits(max_rows="10")


@pytest.mark.slow
def test_a_long_query_keeps_no_other_caller_waiting():
    # 200 entities: eight million rows for the cartesian product, seconds before a bound stops it.
    store = EmbeddedStore()
    store.add_triples([Triple(f"a{i}", "near", f"b{i}", valid_from=i) for i in range(100)])
    # Only the time limit may stop it, and late enough that a recall slowed by the query's hold on the
    # GIL still returns first (the memory guard stopped it sooner than that on a loaded machine).
    service = GraphService(store, cypher_limits=CypherLimits(timeout=20, max_memory=0))
    service.recall("a1")  # loads the embedder first: its memory is no query's
    outcome = {}

    def long_query():
        try:
            outcome["rows"] = service.cypher(CARTESIAN)
        except CypherError as exc:
            outcome["error"] = str(exc)

    caller = threading.Thread(target=long_query)
    caller.start()
    deadline = time.monotonic() + HANG_S
    while not cypher_threads() and caller.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cypher_threads(), "the long query never started"
    recalled = service.recall("where is b7?")  # served while the query runs, not after it
    assert caller.is_alive(), "the recall waited for the long query"
    assert ("a7", "near", "b7") in {(t["subject"], t["relation"], t["object"]) for t in recalled["triples"]}
    caller.join(HANG_S)
    assert not caller.is_alive()
    assert "limit" in outcome.get("error", "") or outcome.get("rows") == [{"COUNT(a)": 200 ** 3}]
    # The graph the query read was a snapshot: a write afterwards is seen by the next query.
    service.add_triples([["a1", "near", "c1"]])
    assert service.cypher("MATCH (a)-[r]->(b) WHERE b.name = 'c1' RETURN a.name") == [{"a.name": "a1"}]
