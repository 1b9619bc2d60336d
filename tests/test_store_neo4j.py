"""Neo4j 5.18+'s vector path of the Bolt store: the queries and DDL it builds and the detection,
checked here without a server; and, where ``NEO4J_URI`` names one (with ``NEO4J_USER``,
``NEO4J_PASSWORD``, optionally ``NEO4J_DATABASE``), the store contract, the vector search and two
clients against it. No Neo4j could be run where this was written (docs/servers.md).

The server tests delete graphmem's nodes (``Entity``, ``Episode``, ``GraphmemMeta``,
``GraphmemNamespace``) and its vector indexes in that database before each test: give them a
database that holds no memory you keep.
"""
from __future__ import annotations

import os

import pytest

from graphmem.store.base import CypherError
from graphmem.store.bolt_layout import Labels
from graphmem.store.neo4j_vectors import (INDEX_NAMES, LIST_PROCEDURES, NEO4J_VECTORS, has_vector_indexes,
                                          index_ddl, vector_kinds)
from graphmem.store.server_vectors import search_query
from store_contract import StoreContract
from vector_search_checks import check_neighbour_scores, check_two_clients, check_vector_search, memory_on

# --- without a server: what is sent, and what is made of the answers ------------------------------


class FakeSession:
    """Answers a read query from a table of canned records, and records what was asked."""

    def __init__(self, answers: dict[str, list[dict] | Exception]):
        self.answers, self.asked = answers, []

    def read(self, query: str) -> list[dict]:
        self.asked.append(query)
        answer = self.answers[query]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.mark.parametrize("names, expected", [
    (["db.index.vector.queryNodes", "db.index.vector.queryRelationships", "db.index.vector.createNodeIndex"], True),
    (["db.index.vector.queryNodes", "db.index.vector.createNodeIndex"], False),  # 5.11-5.17: nodes only
    ([], False),
])
def test_detection_needs_both_vector_procedures(names, expected):
    session = FakeSession({LIST_PROCEDURES: [{"name": n} for n in names]})
    assert has_vector_indexes(session.read) is expected
    assert session.asked == [LIST_PROCEDURES]


def test_a_server_that_cannot_list_procedures_has_no_vector_indexes():
    refused = FakeSession({LIST_PROCEDURES: CypherError("The server rejected a query: no such clause SHOW")})
    assert has_vector_indexes(refused.read) is False


def test_index_ddl_follows_neo4j_5_syntax_per_dimension_and_namespace():
    assert index_ddl("triples", 384, Labels.of("default")) == (
        "CREATE VECTOR INDEX graphmem_fact_vectors IF NOT EXISTS FOR ()-[x:REL]-() ON (x.embedding) "
        "OPTIONS {indexConfig: {`vector.dimensions`: 384, `vector.similarity_function`: 'cosine'}}")
    assert index_ddl("episodes", 768, Labels.of("notes")) == (
        "CREATE VECTOR INDEX graphmem_episode_vectors__notes IF NOT EXISTS FOR (x:Episode__notes) ON (x.embedding) "
        "OPTIONS {indexConfig: {`vector.dimensions`: 768, `vector.similarity_function`: 'cosine'}}")


def test_searches_ask_the_namespace_index_and_turn_scores_into_cosines():
    kinds = vector_kinds(Labels.of("notes"))
    facts = search_query(kinds["triples"], NEO4J_VECTORS)
    assert "db.index.vector.queryRelationships('graphmem_fact_vectors__notes', $k, $qs[i])" in facts
    # Retired facts are dropped on the server; Neo4j's (1 + cosine) / 2 comes back as a cosine.
    assert "WHEN x.valid_until IS NULL THEN [x.id, 2 * score - 1]" in facts
    episodes = search_query(kinds["episodes"], NEO4J_VECTORS)
    assert "db.index.vector.queryNodes('graphmem_episode_vectors__notes', $k, $qs[i])" in episodes
    assert NEO4J_VECTORS.cosine("a", "b") == "(2 * vector.similarity.cosine(a, b) - 1)"
    assert set(INDEX_NAMES) == set(kinds)


# --- against a Neo4j server, where one is given ---------------------------------------------------

GRAPHMEM_LABELS = "n:Entity OR n:Episode OR n:GraphmemMeta OR n:GraphmemNamespace"


@pytest.fixture
def neo4j_store():
    """Factory of BoltStores on NEO4J_URI's database, emptied of graphmem's nodes and indexes first."""
    if not os.environ.get("NEO4J_URI"):
        pytest.skip("set NEO4J_URI (and NEO4J_USER, NEO4J_PASSWORD) to a Neo4j 5.18+ database whose graphmem "
                    "memory may be deleted to run the Neo4j tests; none can be installed here")
    from graphmem.store.bolt import BoltStore

    opened: list[BoltStore] = []

    def make(empty: bool = True) -> BoltStore:
        store = BoltStore()
        opened.append(store)
        if empty:
            wipe(store)
        assert store.supports_vector_search, f"{store.server_agent} has no vector indexes (Neo4j 5.18+ needed)"
        return store

    yield make
    for store in opened:
        store.close()


def wipe(store) -> None:
    store._bolt.transaction(lambda tx: tx.run(f"MATCH (n) WHERE {GRAPHMEM_LABELS} DETACH DELETE n").consume(),
                            write=True, doing="emptying the test database")
    names = {r["name"] for r in store._bolt.read("SHOW VECTOR INDEXES YIELD name RETURN name", "listing")}
    for name in sorted(n for n in names if n.startswith("graphmem_")):
        store._bolt.transaction(lambda tx: tx.run(f"DROP INDEX {name} IF EXISTS").consume(), write=True,
                                doing="dropping a vector index")
    store._indexed.clear()


class TestNeo4jStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _server(self, neo4j_store):
        self.make = neo4j_store

    def make_store(self):
        return self.make()

    def reopen(self, store):
        store.flush()
        return self.make(empty=False)

    def open_again(self, store):
        return self.make(empty=False)


def test_vector_search_finds_current_facts_and_episodes_only(neo4j_store):
    check_vector_search(neo4j_store())


def test_neighbour_scores_match_exact_scores_newest_first_plus_the_pool(neo4j_store):
    check_neighbour_scores(neo4j_store())


def test_a_write_by_one_client_is_recalled_by_another_on_its_next_call(neo4j_store):
    neo4j_store()  # empties the database
    check_two_clients(lambda: memory_on(neo4j_store(empty=False)))
