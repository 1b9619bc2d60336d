"""Ariadne's map: paths over spatial triples in a Memory (up/down included), unexplored exits."""
import pytest

from graphmem_agents.navigation import RoomMap
from fakes import HashingEmbedder
from graphmem import Memory
from graphmem.spatial import move_triples

# kitchen -west-> hallway -up-> attic; kitchen -down-> cellar; garden is known but not connected.
MOVES = [("kitchen", "go west", "-= Hallway =-"), ("hallway", "climb up", "-= Attic =-"),
         ("kitchen", "go down", "-= Cellar =-")]


@pytest.fixture(scope="module")
def memory():
    mem = Memory(embedder=HashingEmbedder())
    for step, (room, command, heading) in enumerate(MOVES, 1):
        mem.add_triples(move_triples(room, command, heading), step=step)
    mem.add_triples([("kitchen", "has exit", "west"), ("kitchen", "has exit", "north"),
                     ("attic", "has exit", "down"), ("garden", "has exit", "south"),
                     ("apple", "in", "kitchen")], step=4)
    return mem


@pytest.fixture(scope="module")
def room_map(memory):
    return RoomMap.from_triples(memory.current())


def test_rooms_and_connections_come_from_the_memory(room_map):
    assert room_map.rooms() == ["attic", "cellar", "garden", "hallway", "kitchen"]
    assert room_map.neighbours("kitchen") == [("west", "hallway"), ("down", "cellar")]
    assert room_map.neighbours("attic") == [("down", "hallway")]


def test_shortest_paths_use_up_and_down(room_map):
    assert room_map.path("kitchen", "attic") == [("west", "hallway"), ("up", "attic")]
    assert room_map.path("attic", "cellar") == [("down", "hallway"), ("east", "kitchen"), ("down", "cellar")]
    assert room_map.path("cellar", "cellar") == []


def test_unreachable_room_has_no_path(room_map):
    assert room_map.path("kitchen", "garden") is None
    assert room_map.path("kitchen", "moon") is None
    assert room_map.reachable("kitchen") == ["attic", "cellar", "hallway"]


def test_unexplored_exits_are_exits_without_a_known_destination(room_map):
    assert room_map.unexplored() == {"garden": ["south"], "kitchen": ["north"]}


def test_plain_tuples_and_non_spatial_triples():
    room_map = RoomMap.from_triples([("b", "is north of", "a"), ("x", "in", "a"), ("a", "has exit", "sideways")])
    assert room_map.rooms() == ["a", "b"]
    assert room_map.path("a", "b") == [("north", "b")]
    assert room_map.path("b", "a") is None  # only the one direction was stated


def test_nearest_unexplored_exit_is_walked_to(room_map):
    assert room_map.nearest_unexplored("kitchen") == [("north", None)]
    walk = room_map.nearest_unexplored("cellar")
    assert walk[-1] == ("north", None) and walk[:-1] == room_map.path("cellar", "kitchen")
