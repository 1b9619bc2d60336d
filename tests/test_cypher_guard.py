"""The Cypher write guard: write clauses, write procedures, write functions and admin commands are
refused, and so is text that servers would split into code and comments or strings differently;
reads (with the same words inside strings, names, comments and properties) pass."""
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
    ("MATCH (n) DETACH/**/DELETE n", "DETACH"),
    ("MATCH (n)\u3000LOAD\u200bCSV FROM 'f' AS l RETURN l", "LOAD CSV"),  # odd spaces join words too
    ("INSERT (n:X)", "INSERT"),
    ("MATCH (n) \u017fET n.x = 1", "SET"),  # the long s upper-cases to S in Java as in Python
    # Lexers split a word that starts with a digit into a number and a keyword; "1." may be a float.
    ("MATCH (n) WHERE n.x = 1DELETE n", "DELETE"),
    ("MATCH (n) WHERE n.x = 0xaSET n.y = 1", "SET"),
    ("MATCH (n) WITH n, 1.DELETE n", "DELETE"),
    ("CALL db.labels .createLabel('X')", "CALL db.labels.createLabel"),
    # Functions outside the read namespaces may run Cypher or change the graph.
    ("RETURN apoc.cypher.runFirstColumnSingle('CREATE (n) RETURN n')", "apoc.cypher.runFirstColumnSingle()"),
    ("RETURN apoc . cypher /* c */ . runFirstColumnSingle ('MATCH (n) DETACH DELETE n')",
     "apoc.cypher.runFirstColumnSingle()"),
    ("RETURN apoc.create.uuid()", "apoc.create.uuid()"),
    ("MATCH (n) RETURN apoc.nodes.delete(n, 10)", "apoc.nodes.delete()"),
    ("RETURN apoc.periodic.iterate('MATCH (n) RETURN n', 'DELETE n', {})", "apoc.periodic.iterate()"),
    ("RETURN apoc.do.when(true, 'CREATE ()', '')", "apoc.do.when()"),
    ("RETURN apoc.merge.node(['X'], {})", "apoc.merge.node()"),
    ("RETURN apoc.util.sleep(10)", "apoc.util.sleep()"),
    ("RETURN custom.writer()", "custom.writer()"),
    ("RETURN `apoc`.`cypher`.runFirstColumnSingle('CREATE ()')", "a function with a quoted name"),
    ("RETURN `apoc.coll`.sum([1])", "a function with a quoted name"),
])
def test_writes_are_refused(query, clause):
    assert write_clause(query) == clause
    with pytest.raises(CypherError, match="read-only unless"):
        reject_writes(query)


# Servers' lexers end a // comment at different line terminators (ArcadeDB at \r, others only at
# \n): the guard ends one at any of them, so what follows is read as code.
@pytest.mark.parametrize("end", ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_a_comment_ends_at_every_line_terminator(end):
    assert write_clause(f"MATCH (n) // note{end}DETACH DELETE n") == "DETACH"
    assert write_clause(f"MATCH (n) // note{end}RETURN n") is None
    # Where one server is still in the comment and another is not, an opening quote would be read
    # as a string by one and as comment text by the other: refused rather than guessed.
    hidden = write_clause(f"MATCH (n) // x{end}' \nDETACH DELETE n //'")
    assert "disagree on whether the comment ended" in hidden


@pytest.mark.parametrize("query,why", [
    ("MATCH (n) RETURN n /* DETACH DELETE n", "an unclosed /* comment"),
    ("MATCH (n) WHERE n.name = 'x RETURN n", "an unclosed string"),
    ('MATCH (n) WHERE n.name = "x\\" RETURN n', "an unclosed string"),
    ("MATCH (n) RETURN n.`x", "an unclosed `quoted name`"),
    ("MATCH (n) /* a /* b */ ' */ DETACH DELETE n //'", "a /* inside a /* comment"),
    ("MATCH (n) RETURN n AS `x\\` ' ` DETACH DELETE n //'", "a backslash in a `quoted name`"),
    ("RETURN @'\\' DETACH DELETE n //'", "an @-quoted string"),
])
def test_text_servers_may_split_differently_is_refused(query, why):
    assert write_clause(query).startswith(why)
    with pytest.raises(CypherError, match="may write"):
        reject_writes(query)


@pytest.mark.parametrize("query", [
    "MATCH (n) RETURN n // \\u000a DETACH DELETE n",  # a Java lexer decodes \u000a to a line feed
    "MATCH (n) WHERE n.name = '\\u0027) DETACH DELETE n //' RETURN n",  # ... and \u0027 to a quote
])
def test_unicode_escapes_are_read_decoded_too(query):
    assert write_clause(query) == "DETACH"


@pytest.mark.parametrize("query", [
    "CALL db.labels()", "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType",
    "CALL db.schema.visualization", "CALL { MATCH (n) RETURN n } RETURN n", "MATCH (n) CALL (n) { RETURN 1 AS x } RETURN x",
    "MATCH (n) WHERE n.name STARTS WITH 'stop database' RETURN n.call, n.`terminate`",
    "MATCH (n) RETURN n.name AS `CALL apoc.x`",
    "MATCH (n) // note\nRETURN n", "MATCH (n) // note\r\nRETURN n", "MATCH (n) /* DELETE n */ RETURN n",
    "MATCH (n) // it's a 'DELETE'\r\nWHERE n.name = 'x' RETURN n",
    "MATCH (n) WHERE n.name CONTAINS 'DETACH DELETE' OR n.text = \"it\\'s; SET x\" RETURN n",
    "MATCH (n) WHERE n.name = 'caf\\u00e9' RETURN n.set, n.`delete`, $create, n.x.remove",
    "MATCH (`my node`) RETURN `my node`.merge", "MATCH (n) RETURN n.name AS `a``b DELETE`",
    "MATCH p = (start)-[*]->(end) RETURN p, 1.5 * (2)",
    "RETURN apoc.coll.sum([1, 2]), apoc.text.join(['a'], ''), apoc.meta.cypher.type(1), "
    "apoc.convert.toJson({}), date.truncate('day', date()), point.distance(a, b), toLower('X')",
    "CALL db.labels() YIELD label RETURN count(label), coalesce(label, 'x')",
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
