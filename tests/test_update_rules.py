"""The rule judge: which current facts a new one makes outdated."""
from graphmem.model import Triple
from graphmem.update import RuleJudge


def _ids(new, existing):
    return sorted(RuleJudge().outdated(new, existing))


def test_a_thing_is_in_one_place():
    old = [Triple("key 1", "in", "room a"), Triple("golden locker", "in", "room a")]
    assert _ids([Triple("key 1", "in", "inventory", 1)], old) == [old[0].id]


def test_a_used_up_thing_is_nowhere():
    old = [Triple("meal", "in", "inventory"), Triple("meal", "is", "delicious"), Triple("knife", "in", "kitchen")]
    assert _ids([Triple("meal", "is", "eaten", 5)], old) == [old[0].id]


def test_states_replace_their_own_group_only():
    old = [Triple("white locker", "is", "locked"), Triple("white locker", "in", "room g"),
           Triple("carrot", "is", "raw")]
    assert _ids([Triple("white locker", "is", "closed", 2)], old) == [old[0].id]
    assert _ids([Triple("carrot", "is", "sliced", 2)], old) == []
