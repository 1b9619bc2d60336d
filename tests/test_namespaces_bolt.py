"""Namespaces on a real ArcadeDB server over Bolt: the store contract in namespace ``a`` of a
database whose default namespace and namespace ``b`` hold lookalikes (the same names and ids), and
Cypher refused wherever it could read another namespace."""
from __future__ import annotations

import pytest

from bolt_server import arcadedb_server  # noqa: F401 - fixture
from graphmem.store.base import CypherError
from graphmem.store.bolt import BoltStore
from graphmem.testing.arcadedb import PASSWORD, USER
from store_contract import StoreContract, T
from test_namespaces import fill_with_lookalikes

pytestmark = pytest.mark.slow  # a real ArcadeDB server


class TestNamespacedBoltStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _server(self, arcadedb_server):  # noqa: F811
        self.server = arcadedb_server
        self.opened: list[BoltStore] = []
        yield
        for store in reversed(self.opened):  # namespaces before the store whose connection they share
            store.close()

    def _open(self, database: str, namespace: str = "a") -> BoltStore:
        store = BoltStore(self.server.uri, USER, PASSWORD, database, namespace=namespace)
        self.opened.append(store)
        return store

    def make_store(self):
        default = self._open(self.server.fresh_database(), "default")
        fill_with_lookalikes(default)
        other = default.open_namespace("b")
        self.opened.append(other)
        fill_with_lookalikes(other)
        return self._open(default.database)

    def reopen(self, store):
        return self._open(store.database)

    def open_again(self, store):
        return self._open(store.database)

    # Cypher cannot be kept to a namespace on a server: refused, saying why.
    def test_cypher_read(self):
        st = self.make_store()
        st.add_triples([T("apple", "on", "table")])
        with pytest.raises(CypherError, match="cannot be kept to namespace 'a'"):
            st.cypher("MATCH (a)-[r]->(b) RETURN a.name")


def test_cypher_in_the_default_namespace_is_refused_once_there_are_others(arcadedb_server):  # noqa: F811
    default = BoltStore(arcadedb_server.uri, USER, PASSWORD, arcadedb_server.fresh_database())
    try:
        default.add_triples([T("apple", "on", "table")])
        assert default.cypher("MATCH (a)-[r]->(b) RETURN a.name AS a") == [{"a": "apple"}]
        assert default.namespaces() == ["default"]
        work = default.open_namespace("work-1")
        assert work.triples() == [] and default.namespaces() == ["default"]  # reading makes nothing
        work.add_triples([T("pear", "on", "plate")])
        work.close()
        assert default.namespaces() == ["default", "work-1"]
        with pytest.raises(CypherError, match="holds other namespaces"):
            default.cypher("MATCH (a)-[r]->(b) RETURN a.name AS a")
        assert [t.subject for t in default.triples()] == ["apple"]
    finally:
        default.close()
