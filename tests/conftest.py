"""Shared fixtures: small TextWorld games generated once per test session (generation costs seconds)."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tw_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("tw_games")


@pytest.fixture(scope="session")
def cooking_game(tw_cache):
    """Making it takes 10-20 s on 2 cores: the tests that use it are slow (see below)."""
    from graphmem_environments.textworld import generate_game
    return generate_game("tw-cooking:recipe=1,take=1,go=1,cut", seed=1, cache_dir=tw_cache)


@pytest.fixture(scope="session")
def hunter_game(tw_cache):
    from graphmem_environments.textworld import generate_game
    return generate_game("tw-treasure_hunter:level=5", seed=1, cache_dir=tw_cache)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory):
    """Kitchen with a table (cup, plate), a closed chest (apple); a closed wooden door north to a
    pantry with a locked box; the player carries a key. No quest."""
    from textworld import GameMaker, GameOptions

    options = GameOptions()
    options.seeds = 7  # the room's description text is drawn at random: the same one every run
    maker = GameMaker(options)
    kitchen, pantry = maker.new_room("kitchen"), maker.new_room("pantry")
    door = maker.new_door(maker.connect(kitchen.north, pantry.south), name="wooden door")
    maker.add_fact("closed", door)
    maker.set_player(kitchen)
    table = maker.new(type="s", name="table")
    chest = maker.new(type="c", name="chest")
    kitchen.add(table, chest)
    maker.add_fact("closed", chest)
    table.add(maker.new(type="o", name="cup"), maker.new(type="o", name="plate"))
    chest.add(maker.new(type="f", name="apple"))
    box = maker.new(type="c", name="box")
    pantry.add(box)
    maker.add_fact("locked", box)
    maker.inventory.add(maker.new(type="k", name="key"))
    folder = tmp_path_factory.mktemp("tiny_world")
    return Path(maker.compile(str(folder / "tiny.z8")))


SLOW_FIXTURES = {"cooking_game"}  # the generated games that cost more than a few seconds to make


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
