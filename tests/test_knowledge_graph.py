"""The reference server's knowledge graph over a memory, called directly: observations are literal
texts (a negation is a new observation, not a spelling of the old one), bad input is a clear error,
and a memory filled by observe reads as a knowledge graph."""
from __future__ import annotations

import pytest

from graphmem.knowledge_graph import KnowledgeGraph
from graphmem.service import GraphService, ServiceError
from graphmem.store import open_store

pytestmark = pytest.mark.slow  # the real embedder resolves names


@pytest.fixture
def graph(tmp_path):
    with GraphService(open_store(tmp_path / "m.json")) as service:
        yield KnowledgeGraph(service)


def test_an_observation_a_word_apart_is_another_observation(graph):
    """"Is not vegetarian" embeds as close to "Is vegetarian" as two spellings of one name do: as a
    name it would be resolved onto it, and the second observation lost."""
    graph.create_entities([{"name": "Ada", "entityType": "person", "observations": ["Is vegetarian"]}])
    added = graph.add_observations([{"entityName": "ada", "contents": [
        "Is not vegetarian", "Allergic to peanuts", "Not allergic to peanuts", "Is vegetarian"]}])
    assert added == {"results": [{"entityName": "ada", "addedObservations": [
        "Is not vegetarian", "Allergic to peanuts", "Not allergic to peanuts"]}]}
    (ada,) = graph.open_nodes(["Ada"])["entities"]
    assert ada["observations"] == ["Is vegetarian", "Is not vegetarian", "Allergic to peanuts",
                                   "Not allergic to peanuts"]
    graph.delete_observations([{"entityName": "Ada", "observations": ["Is not vegetarian"]}])
    assert graph.open_nodes(["Ada"])["entities"][0]["observations"] == [
        "Is vegetarian", "Allergic to peanuts", "Not allergic to peanuts"]


def test_bad_input_is_a_clear_error(graph):
    with pytest.raises(ServiceError, match="entityType"):
        graph.create_entities([{"name": "Ada", "observations": []}])
    with pytest.raises(ServiceError, match="cannot be a name"):
        graph.create_entities([{"name": "it", "entityType": "thing", "observations": []}])
    with pytest.raises(ServiceError, match="Entity with name Bob not found"):
        graph.add_observations([{"entityName": "Bob", "contents": ["x"]}])
    with pytest.raises(ServiceError, match="list of non-empty strings"):
        graph.delete_entities("Ada")
    assert graph.read_graph() == {"entities": [], "relations": []}  # nothing was written


def test_an_observed_memory_reads_as_a_knowledge_graph(graph):
    graph.service.observe("-= Kitchen =-\nYou are in a kitchen. There is a knife on the table.")
    read = graph.read_graph()
    assert {"from": "knife", "to": "table", "relationType": "on"} in read["relations"]
    assert {"name": "knife", "entityType": "", "observations": []} in read["entities"]
    graph.create_entities([{"name": "Knife", "entityType": "tool", "observations": ["Sharp"]}])  # had no type
    assert graph.search_nodes("SHARP")["entities"] == [{"name": "Knife", "entityType": "tool",
                                                        "observations": ["Sharp"]}]
