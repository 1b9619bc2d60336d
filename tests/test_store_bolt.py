"""The GraphStore contract, the round trip and the failure modes against a real ArcadeDB server."""
from __future__ import annotations

import time

import pytest

from graphmem.store.bolt import BoltStore
from store_contract import StoreContract, sample_graph
from bolt_server import arcadedb_server  # noqa: F401 - fixture
from graphmem.testing.arcadedb import PASSWORD, USER

pytestmark = pytest.mark.slow  # a real ArcadeDB server

class TestBoltStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _server(self, arcadedb_server):  # noqa: F811
        self.server = arcadedb_server
        self.opened: list[BoltStore] = []
        yield
        for store in self.opened:
            store.close()

    def _open(self, database: str) -> BoltStore:
        store = BoltStore(self.server.uri, USER, PASSWORD, database)
        self.opened.append(store)
        return store

    def make_store(self):
        return self._open(self.server.fresh_database())

    def reopen(self, store):
        # A new connection to the same database; the old one stays open because the contract
        # compares against it afterwards (all are closed at teardown).
        store.flush()
        return self._open(store.database)

    def open_again(self, store):
        return self._open(store.database)


# --- beyond the contract ---------------------------------------------------------------------------

from bolt_server import bolt_store_factory, start_server  # noqa: E402,F401
from graphmem.testing.arcadedb import ArcadeServer, free_port  # noqa: E402
from graphmem.model import Triple  # noqa: E402
from graphmem.store import open_store  # noqa: E402
from graphmem.store import bolt_writes  # noqa: E402
from graphmem.store.base import CypherError, StoreError  # noqa: E402
from graphmem.store.embedded import EmbeddedStore  # noqa: E402
from graphmem.store.transfer import export_graph, import_graph  # noqa: E402


def test_round_trip_file_to_server_to_file_is_identical(tmp_path, bolt_store_factory):  # noqa: F811
    original = sample_graph(tmp_path / "a.json")
    server_store = bolt_store_factory()
    counts = export_graph(tmp_path / "a.json", server_store)
    assert counts == original.counts()
    again = bolt_store_factory(server_store.database)
    import_graph(again, tmp_path / "b.json")
    # The whole documents, vectors (float32 bytes) included, are equal.
    assert EmbeddedStore(tmp_path / "b.json").to_dict() == EmbeddedStore(tmp_path / "a.json").to_dict()
    with pytest.raises(StoreError, match="exists"):
        import_graph(bolt_store_factory(server_store.database), tmp_path / "b.json")
    with pytest.raises(StoreError, match="already holds a graph"):
        export_graph(tmp_path / "a.json", bolt_store_factory(server_store.database))


def test_open_store_picks_the_backend(tmp_path, arcadedb_server, monkeypatch):  # noqa: F811
    assert isinstance(open_store(tmp_path / "g.json"), EmbeddedStore)
    assert isinstance(open_store(None), EmbeddedStore)  # in memory only
    monkeypatch.setenv("NEO4J_USER", USER)
    monkeypatch.setenv("NEO4J_PASSWORD", PASSWORD)
    monkeypatch.setenv("NEO4J_DATABASE", arcadedb_server.fresh_database())
    store = open_store(arcadedb_server.uri)  # credentials and database from the environment
    try:
        assert isinstance(store, BoltStore) and store.counts()["triples"] == 0
    finally:
        store.close()
    with pytest.raises(StoreError, match="unknown store URI"):
        open_store("http://127.0.0.1:1")


def test_unreachable_server_says_what_to_check():
    with pytest.raises(StoreError, match="server is running") as err:
        BoltStore(f"bolt://127.0.0.1:{free_port()}", USER, PASSWORD, "x", max_retry_s=2)
    assert "URI host and port" in str(err.value)


def test_wrong_password_says_so(arcadedb_server):  # noqa: F811
    with pytest.raises(StoreError, match="Authentication failed") as err:
        BoltStore(arcadedb_server.uri, USER, "not-the-password", arcadedb_server.fresh_database())
    assert "NEO4J_PASSWORD" in str(err.value)


def test_missing_database_says_so(arcadedb_server):  # noqa: F811
    with pytest.raises(StoreError, match="Database not found"):
        BoltStore(arcadedb_server.uri, USER, PASSWORD, "no_such_database")


def test_write_cypher_needs_opt_in(bolt_store_factory):  # noqa: F811
    st = bolt_store_factory()
    st.add_triples([Triple("apple", "on", "table")])
    for query in ("MATCH (n) SET n.x = 1", "MATCH (n) DETACH DELETE n",
                  "merge (n:Entity {name: 'pear'})", "MATCH (n) REMOVE n.name"):
        with pytest.raises(CypherError, match="read-only unless"):
            st.cypher(query)
    assert st.entities() == ["apple", "table"]
    # Words inside strings, names and properties are not clauses.
    rows = st.cypher("MATCH (n:Entity) WHERE n.name <> 'create set' RETURN n.name AS `delete` "
                     "ORDER BY `delete`")
    assert rows == [{"delete": "apple"}, {"delete": "table"}]
    assert st.cypher("MERGE (n:Entity {name: $name}) RETURN n.name AS name", {"name": "pear"},
                     write=True) == [{"name": "pear"}]
    assert st.cypher("MATCH (n:Entity {name: 'pear'}) RETURN n") == [{"n": {"name": "pear"}}]


def test_a_comment_ended_by_a_carriage_return_hides_no_write(bolt_store_factory):  # noqa: F811
    # ArcadeDB ends a // comment at \r: with write access this query empties the graph, so
    # without it the guard must see the DETACH DELETE after the \r.
    st = bolt_store_factory()
    st.add_triples([Triple("apple", "on", "table")])
    query = "MATCH (n) // note\rDETACH DELETE n"
    with pytest.raises(CypherError, match="DETACH"):
        st.cypher(query)
    assert st.entities() == ["apple", "table"] and st.counts()["triples"] == 1
    st.cypher(query, write=True)
    assert st.entities() == [] and st.counts()["triples"] == 0


def test_server_killed_mid_write_reports_nothing_saved(tmp_path, monkeypatch):
    server = start_server(tmp_path / "dying")
    try:
        database = server.fresh_database()
        st = BoltStore(server.uri, USER, PASSWORD, database, max_retry_s=3)
        saved = Triple("apple", "on", "table")
        st.add_triples([saved])
        batch = [Triple(f"thing {i}", "in", "box") for i in range(500)]
        real_chunks = bolt_writes._chunks

        def die_after_first_chunk(rows, size=bolt_writes.CHUNK):
            chunks = real_chunks(rows, 100)
            yield next(chunks)
            server.kill()  # the transaction has started writing this batch
            yield from chunks

        monkeypatch.setattr(bolt_writes, "_chunks", die_after_first_chunk)
        with pytest.raises(StoreError, match="server is running") as err:
            st.add_triples(batch)
        assert "Nothing from this operation was saved" in str(err.value)
        with pytest.raises(StoreError, match="did not answer"):
            st.counts()
        st.close()
    finally:
        server.kill()
    monkeypatch.undo()
    # Back on the same files: the committed triple is there, nothing of the failed batch is.
    revived = ArcadeServer(tmp_path / "dying")
    revived.start()
    try:
        st = BoltStore(revived.uri, USER, PASSWORD, database)
        assert [t.id for t in st.triples()] == [saved.id]
        assert st.entities() == ["apple", "table"]
        assert st.cypher("MATCH (n:Entity) RETURN count(n) AS n") == [{"n": 2}]
        st.close()
    finally:
        revived.stop()


def test_cypher_bounds_on_a_server_that_ignores_transaction_timeouts(bolt_store_factory):  # noqa: F811
    """ArcadeDB runs a query past the transaction's timeout: the caller still stops waiting at the
    limit, and a write it was told had failed is rolled back, not committed later."""
    import threading

    from graphmem.store import CypherLimits

    st = bolt_store_factory()
    st.add_triples([Triple(f"e{i}", "near", f"e{(i + 1) % 1000}", valid_from=i) for i in range(1000)])
    with pytest.raises(CypherError, match="more than 5 rows"):
        st.cypher("MATCH (a:Entity) RETURN a.name", limits=CypherLimits(max_rows=5))
    assert len(st.cypher("MATCH (a:Entity) RETURN a.name LIMIT 5", limits=CypherLimits(max_rows=5))) == 5
    marker = "WITH count(*) AS n CREATE (:Marker {n: n})"
    st.cypher(f"MATCH (a:Entity) WHERE a.name = 'e1' {marker}", write=True, limits=CypherLimits(timeout=60))
    # A million string comparisons: seconds on the server, then a node with n = 0 written.
    slow = f"MATCH (a:Entity) MATCH (b:Entity) WHERE a.name + b.name = 'none' {marker}"
    with pytest.raises(CypherError, match="ran past its 0.5 s limit"):
        st.cypher(slow, write=True, limits=CypherLimits(timeout=0.5))
    deadline = time.monotonic() + 120
    while any(t.name == "graphmem-cypher" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.1)  # the server finishes the query; the worker left waiting for it then ends
    assert not any(t.name == "graphmem-cypher" for t in threading.enumerate())
    assert st.cypher("MATCH (m:Marker) RETURN m.n AS n") == [{"n": 1}]
