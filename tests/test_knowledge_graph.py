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


def _whole(graph: KnowledgeGraph) -> dict:
    return graph.read_graph(max_tokens=25000)


def test_the_view_follows_each_write_as_a_view_read_whole_would(graph):
    """After every kind of write, the view brought up to date from the facts the write touched
    reads as one made from all the facts, and it is the same view object (nothing read whole)."""
    fresh = lambda: _whole(KnowledgeGraph(graph.service))  # noqa: E731 - a new view, read whole
    graph.create_entities([{"name": "Ada", "entityType": "person", "observations": ["Writes code", "Likes tea"]},
                           {"name": "Bob", "entityType": "person", "observations": []}])
    _whole(graph)
    view = graph._view[1]
    writes = [
        lambda: graph.create_relations([{"from": "Ada", "to": "Bob", "relationType": "knows"},
                                        {"from": "Bob", "to": "Cy", "relationType": "mentors"}]),
        lambda: graph.create_relations([{"from": "Ada", "to": "engineer", "relationType": "is a"}]),  # a 2nd type
        lambda: graph.add_observations([{"entityName": "Cy", "contents": ["New here"]}]),
        lambda: graph.delete_observations([{"entityName": "Ada", "observations": ["Likes tea"]}]),
        lambda: graph.delete_relations([{"from": "Bob", "to": "Cy", "relationType": "mentors"}]),
        lambda: graph.delete_entities(["Ada"]),
        lambda: graph.service.add_triples([["knife", "on", "table"]]),
        lambda: graph.service.add_triples([["knife", "in", "hand"]]),  # retires the knife on the table
    ]
    for write in writes:
        write()
        assert _whole(graph) == fresh()
        assert graph._view[1] is view
    deleted = next(f for f in graph.service.history("Ada")["facts"] if f["relation"] == "knows")
    graph.service.forget(deleted["retired_by"])  # Ada's facts are current again
    assert _whole(graph) == fresh() and graph._view[1] is view
    assert {"from": "Ada", "to": "Bob", "relationType": "knows"} in _whole(graph)["relations"]


def test_pages_read_while_the_graph_changes(graph):
    """A cursor names the last item sent: an entity written after it comes in a later page, one
    written before it does not (it was not there when that page was read), one deleted before its
    page never comes, and nothing else is skipped or repeated."""
    graph.create_entities([{"name": f"E{n:02d}", "entityType": "thing", "observations": [f"number {n}"]}
                           for n in range(40)])
    first = graph.read_graph(max_tokens=200)
    seen = [e["name"] for e in first["entities"]]
    assert 0 < len(seen) < 30
    graph.create_entities([{"name": "A_first", "entityType": "thing", "observations": []},
                           {"name": "Z_last", "entityType": "thing", "observations": []}])
    graph.delete_entities(["E35"])
    cursor = first["next_cursor"]
    while cursor is not None:
        answer = graph.read_graph(max_tokens=200, cursor=cursor)
        seen += [e["name"] for e in answer["entities"]]
        cursor = answer.get("next_cursor")
    assert seen == sorted({f"E{n:02d}" for n in range(40)} - {"E35"} | {"Z_last"})
