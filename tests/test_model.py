"""Ids: stable across processes, and distinct for distinct parts whatever characters they hold."""
from graphmem.model import passage_id, stable_id


def test_ids_of_ordinary_parts_are_unchanged():
    # Pinned: graphs and caches saved earlier must keep finding their passages.
    assert passage_id("Warsaw", "Warsaw is the capital.") == "p" + stable_id("Warsaw", "Warsaw is the capital.")
    assert stable_id("a", "b") == "687d61996b1c1278"  # sha1("a\x1fb")


def test_a_separator_inside_a_part_cannot_make_two_passages_one():
    assert passage_id("a\x1fb", "c") != passage_id("a", "b\x1fc")
    assert stable_id("a\x1e", "\x1fb") != stable_id("a\x1e\x1f", "b")
    assert len({stable_id(*p) for p in [("a\x1e\x1e", "b"), ("a\x1e", "\x1eb"), ("a", "\x1e\x1eb")]}) == 3
