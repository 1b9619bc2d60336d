"""Connection triples from moves and room headings (graphmem.spatial)."""
import pytest

from graphmem.spatial import direction_of, move_triples, room_of, with_room

ROOM_B = "-= Room B =-\nYou are in a Room B. An usual one.\n\nYou make out a Blue locker."


def test_room_of_reads_the_last_heading():
    assert room_of(ROOM_B) == "room b"
    assert room_of("-= Kitchen =-\nYou fall asleep.\n\n-= The Dining Room =-\nYou wake up.") == "dining room"
    assert room_of("You take the Key 2 from the White locker.") is None


def test_room_of_reads_a_room_sentence_without_a_heading():
    assert room_of("Your task is to find the coin.\n\nYou are in the kitchen. You see a stove.") == "kitchen"
    assert room_of("-= Attic =-\nYou are in a kitchen.") == "attic"  # a heading wins
    assert room_of("You are in trouble now.") is None
    assert room_of("") is None


@pytest.mark.parametrize("command, direction", [
    ("go west", "west"), ("west", "west"), ("w", "west"), ("Go North", "north"), ("n", "north"),
    ("u", "up"), ("climb down", "down"), ("go to the east", "east"), ("ne", "northeast"),
    ("take key", None), ("go", None), ("open west door", None), ("", None)])
def test_direction_of(command, direction):
    assert direction_of(command) == direction


def test_move_gives_both_directions():
    assert move_triples("Room A", "go west", ROOM_B) == [
        ("room b", "is west of", "room a"), ("room a", "is east of", "room b")]
    assert move_triples("cellar", "u", "-= Attic =-\nDusty.") == [
        ("attic", "is up of", "cellar"), ("cellar", "is down of", "attic")]


@pytest.mark.parametrize("previous, command, observation", [
    ("room b", "go west", ROOM_B),                             # same room: the move failed
    ("room a", "go west", "You can't go that way."),           # no heading: no move
    (None, "go west", ROOM_B),                                 # where it started is unknown
    ("room a", "take Key 1", ROOM_B),                          # not a movement command
])
def test_no_triples_without_a_real_move(previous, command, observation):
    assert move_triples(previous, command, observation) == []


def test_with_room_heads_only_headless_observations():
    assert with_room("You drop the knife on the ground.", "kitchen") == \
        "-= kitchen =-\nYou drop the knife on the ground."
    assert with_room(ROOM_B, "room a") == ROOM_B
    assert with_room("You drop the knife.", None) == "You drop the knife."
