"""Ground-truth triples, the observed-so-far restriction and the cleaning scorer on a tiny world."""
from __future__ import annotations

from graphmem_environments.textworld import (CleaningScorer, ObservedFilter, PlaceRule, Task,
                                    TextWorldEnv, entity_name, ground_truth_triples)

START = [
    ("apple", "in", "chest"),
    ("box", "in", "pantry"),
    ("box", "is", "locked"),
    ("chest", "in", "kitchen"),
    ("chest", "is", "closed"),
    ("cup", "on", "table"),
    ("key", "in", "inventory"),
    ("kitchen", "has exit", "north"),
    ("kitchen", "is south of", "pantry"),
    ("pantry", "has exit", "south"),
    ("pantry", "is north of", "kitchen"),
    ("plate", "on", "table"),
    ("table", "in", "kitchen"),
    ("wooden door", "is", "closed"),
]


def test_entity_names_are_canonical():
    assert entity_name("The  White Locker") == "white locker"
    assert entity_name("Key 1") == "key 1"
    assert entity_name("an apple") == "apple"


def test_ground_truth_of_start_state(tiny_world):
    with TextWorldEnv(tiny_world) as env:
        assert ground_truth_triples(env.reset()) == START


def test_ground_truth_follows_actions(tiny_world):
    with TextWorldEnv(tiny_world) as env:
        env.reset()
        for command in ["take cup", "open chest", "put cup in chest", "take apple", "open wooden door"]:
            result = env.step(command)
    truth = set(ground_truth_triples(result.facts))
    assert {("cup", "in", "chest"), ("apple", "in", "inventory"), ("chest", "is", "open"),
            ("wooden door", "is", "open")} <= truth
    assert not {("cup", "on", "table"), ("apple", "in", "chest"), ("chest", "is", "closed"),
                ("wooden door", "is", "closed")} & truth


def test_observed_filter_keeps_only_what_was_seen(tiny_world):
    seen = ObservedFilter()
    with TextWorldEnv(tiny_world) as env:
        first = env.reset()
        seen.see(first.observation, first.facts)
        at_start = set(seen.restrict(ground_truth_triples(first)))
        assert {("chest", "in", "kitchen"), ("cup", "on", "table"), ("table", "in", "kitchen"),
                ("kitchen", "has exit", "north"), ("wooden door", "is", "closed")} <= at_start
        # Not yet seen: the apple (inside the closed chest), the key (inventory not looked at),
        # and the pantry behind the door.
        assert not {("apple", "in", "chest"), ("key", "in", "inventory"), ("box", "in", "pantry"),
                    ("pantry", "is north of", "kitchen")} & at_start
        for command in ["inventory", "open wooden door", "go north"]:
            result = env.step(command)
            seen.see(result.observation, result.facts)
    later = set(seen.restrict(ground_truth_triples(result)))
    assert {("key", "in", "inventory"), ("box", "in", "pantry"), ("pantry", "is north of", "kitchen"),
            ("kitchen", "is south of", "pantry"), ("pantry", "has exit", "south")} <= later
    assert ("apple", "in", "chest") not in later


def _cleaning_task(tiny_world):
    rules = (PlaceRule("cup", "chest"), PlaceRule("Plate", "table"), PlaceRule("ghost", "attic"))
    return Task(name="tiny-clean", game_path=tiny_world, max_steps=20, clean_place=rules)


def test_cleaning_scorer_rewards_taking_and_placing(tiny_world):
    with TextWorldEnv(_cleaning_task(tiny_world)) as env:
        first = env.reset()
        assert (first.score, first.max_score) == (0, 2)
        took = env.step("take cup")
        assert took.score == 1 and not took.done
        env.step("drop cup")
        assert env.step("take cup").score == 1  # taking again earns nothing more
        env.step("open chest")
        placed = env.step("put cup in chest")
    assert placed.score == 2 and placed.normalized == 1.0 and placed.won and placed.done


def test_cleaning_scorer_penalises_moving_an_item_in_place(tiny_world):
    with TextWorldEnv(_cleaning_task(tiny_world)) as env:
        env.reset()
        assert env.step("take plate").score == -1
        assert env.step("put plate on table").score == -1
        assert env.step("take plate").score == -2  # every move out of place counts


def test_cleaning_scorer_skips_rules_for_absent_things(tiny_world):
    with TextWorldEnv(tiny_world) as env:
        facts = env.reset().facts
    scorer = CleaningScorer([("cup", "chest"), ("ghost", "attic"), ("apple", "fridge")], facts)
    assert scorer.out_of_place == ["cup"] and scorer.max_score == 2
    assert scorer.skipped == [("ghost", "attic"), ("apple", "fridge")]


def _fact(name, *args):
    from textworld.logic import Proposition, Variable
    return Proposition(name, [Variable(n, t) for n, t in args])


def test_observed_filter_matches_whole_names_and_needs_stated_states():
    facts = [_fact("at", ("P", "P"), ("Backyard", "r")),
             _fact("at", ("patio table", "s"), ("Backyard", "r")),
             _fact("at", ("table", "s"), ("Kitchen", "r")),
             _fact("at", ("Blue locker", "c"), ("Backyard", "r")),
             _fact("locked", ("Blue locker", "c"))]
    seen = ObservedFilter()
    seen.see("-= Backyard =-\nYou see a patio table. You make out a Blue locker.", facts)
    truth = ground_truth_triples(facts)
    assert seen.restrict(truth) == [("blue locker", "in", "backyard"), ("patio table", "in", "backyard")]
    seen.see("You have to unlock the Blue locker first. The Blue locker is locked.", facts)
    assert ("blue locker", "is", "locked") in seen.restrict(truth)
    assert ("table", "in", "kitchen") not in seen.restrict(truth)


def test_score_triples():
    from graphmem_environments.textworld import score_triples
    truth = [("key 1", "in", "room a"), ("room a", "has exit", "west")]
    scores = score_triples([("Key 1", "in", "the Room A"), ("key 1", "on", "table")], truth)
    assert (scores.true_positives, scores.predicted, scores.truth) == (1, 2, 2)
    assert scores.precision == 0.5 and scores.recall == 0.5 and scores.f1 == 0.5
    assert score_triples([], truth).f1 == 0.0
    assert score_triples([], []).f1 == 1.0
