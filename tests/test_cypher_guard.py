"""The Cypher write guard: write clauses, write procedures and admin commands are refused, reads
(with the same words inside strings, names and properties) pass."""
import pytest

from graphmem.store.cypher_guard import reject_writes, write_clause
from graphmem.store.base import CypherError
from graphmem.store.embedded import EmbeddedStore
from graphmem.model import Triple


@pytest.mark.parametrize("query,clause", [
    ("CALL apoc.cypher.runWrite('CREATE (n)', {})", "CALL apoc.cypher.runWrite"),
    ("CALL db.createLabel('X')", "CALL db.createLabel"),
    ("call dbms.security.createUser('u', 'p', false)", "CALL dbms.security.createUser"),
    ("MATCH (n) CALL apoc.create.setProperty(n, 'x', 1) YIELD node RETURN node", "CALL apoc.create.setProperty"),
    ("CALL `apoc`.`cypher`.runWrite('CREATE (n)', {})", "CALL (a quoted procedure name)"),
    ("STOP DATABASE neo4j", "STOP DATABASE"),
    ("start  database neo4j", "START DATABASE"),
    ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "TERMINATE"),
    ("RENAME USER a TO b", "RENAME"),
    ("ENABLE SERVER 'id'", "ENABLE SERVER"),
    ("DEALLOCATE DATABASES FROM SERVER 'x'", "DEALLOCATE"),
    ("MATCH (n) /* x */ DeTaCh /* y */ DELETE n", "DETACH"),
    ("CALL { MATCH (n) SET n.x = 1 } RETURN 1", "SET"),
])
def test_writes_are_refused(query, clause):
    assert write_clause(query) == clause
    with pytest.raises(CypherError, match="read-only unless"):
        reject_writes(query)


@pytest.mark.parametrize("query", [
    "CALL db.labels()", "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType",
    "CALL db.schema.visualization", "CALL { MATCH (n) RETURN n } RETURN n", "MATCH (n) CALL (n) { RETURN 1 AS x } RETURN x",
    "MATCH (n) WHERE n.name STARTS WITH 'stop database' RETURN n.call, n.`terminate`",
    "MATCH (n) RETURN n.name AS `CALL apoc.x`",
])
def test_reads_pass(query):
    assert write_clause(query) is None


def test_embedded_store_takes_aggregates_in_any_case():
    st = EmbeddedStore()
    st.add_triples([Triple("a", "to", "b"), Triple("b", "to", "c"), Triple("count(x)", "to", "c")])
    for fn in ("count", "COUNT", "Count"):
        assert st.cypher(f"MATCH (a)-[r]->(b) RETURN {fn}(r)") == [{"COUNT(r)": 3}]
    rows = st.cypher("MATCH (a)-[r]->(b) WHERE a.name = 'count(x)' RETURN count(r)")  # strings untouched
    assert rows == [{"COUNT(r)": 1}]
