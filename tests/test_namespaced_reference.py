"""The reference server's tools over a memory's namespaces (``KnowledgeGraphs``, what the MCP tools
call): what they write in one namespace is never read in another, and a server's answers follow the
writes another server makes to the same graph file (its cached view and client spellings are read
again when the graph is)."""
from __future__ import annotations

import pytest

from graphmem.knowledge_graph import KnowledgeGraphs
from graphmem.namespaced import NamespacedService
from graphmem.service import ServiceError
from graphmem.store import open_store

pytestmark = pytest.mark.slow  # the real embedder resolves names

KEY = {"name": "Brass Key", "entityType": "key", "observations": ["Hidden under the velvet cloth"]}
DESK = {"name": "Oak Desk", "entityType": "furniture", "observations": []}
LIES_ON = {"from": "Brass Key", "to": "Oak Desk", "relationType": "lies on"}
EMPTY = {"entities": [], "relations": []}


def _reads(graph) -> list[dict]:
    """Every reading reference tool's answer about the key, the desk and the velvet."""
    return [graph.read_graph(), graph.search_nodes("brass"), graph.search_nodes("velvet"),
            graph.search_nodes("desk"), graph.open_nodes(["Brass Key", "Oak Desk"])]


def test_a_reference_write_in_one_namespace_is_never_read_in_another(tmp_path):
    path = tmp_path / "m.json"
    with NamespacedService(open_store(path, shared=True)) as services:
        graphs = KnowledgeGraphs(services)
        a = graphs.get("a")
        a.create_entities([KEY, DESK])
        a.create_relations([LIES_ON])
        assert a.read_graph() == {"entities": [KEY, DESK], "relations": [LIES_ON]}
        for other in ("b", None):  # another namespace, and the server's default one
            assert _reads(graphs.get(other)) == [EMPTY] * 5
        b = graphs.get("b")
        with pytest.raises(ServiceError, match="Entity with name Brass Key not found"):
            b.add_observations([{"entityName": "Brass Key", "contents": ["Rusty"]}])
        # b's own entity of the same name is b's: made and deleted there, a's is as it was.
        toy = {"name": "Brass Key", "entityType": "toy", "observations": ["Made of plastic"]}
        assert b.create_entities([toy]) == {"entities": [toy]}
        assert b.read_graph() == {"entities": [toy], "relations": []}
        b.delete_entities(["Brass Key"])
        assert b.read_graph() == EMPTY
        assert a.read_graph() == {"entities": [KEY, DESK], "relations": [LIES_ON]}
    with NamespacedService(open_store(path, shared=True), list_namespaces=True) as services:  # a restart
        assert services.namespaces()["namespaces"] == ["a", "b"]
        graphs = KnowledgeGraphs(services)
        assert graphs.get("a").open_nodes(["brass key"]) == {"entities": [KEY], "relations": [LIES_ON]}
        assert _reads(graphs.get()) == [EMPTY] * 5


def test_reference_reads_follow_another_servers_writes_to_the_file(tmp_path):
    """Two servers on one file: each one's reference answers, its cached graph view and the
    client's spellings (read from the episodes once per load) included, show the other's writes."""
    path = tmp_path / "m.json"
    one, two = NamespacedService(open_store(path, shared=True)), NamespacedService(open_store(path, shared=True))
    try:
        first, second = KnowledgeGraphs(one), KnowledgeGraphs(two)  # each call gets its graph, as a tool does
        first.get("a").create_entities([DESK])
        assert second.get("a").read_graph() == {"entities": [DESK], "relations": []}  # cached in the second
        assert first.get("a").read_graph() == {"entities": [DESK], "relations": []}  # cached in the first
        second.get("a").create_entities([KEY])
        second.get("a").create_relations([LIES_ON])
        assert first.get("a").read_graph() == {"entities": [KEY, DESK], "relations": [LIES_ON]}  # spelt as sent
        assert first.get("a").search_nodes("VELVET")["entities"] == [KEY]
        first.get("a").add_observations([{"entityName": "Brass Key", "contents": ["Opens the Cellar Door"]}])
        second.get("a").delete_relations([LIES_ON])
        assert first.get("a").open_nodes(["Brass Key"]) == second.get("a").open_nodes(["Brass Key"]) == {
            "entities": [{**KEY, "observations": [*KEY["observations"], "Opens the Cellar Door"]}], "relations": []}
    finally:
        one.close()
        two.close()
