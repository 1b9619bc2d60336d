"""Degenerate loops (two-cycles, long repeats) counted over hand-made action sequences and over a
real episode's log, resumed steps included."""
import json

import pytest

from graphmem_agents.loops import loop_counts
from graphmem_agents.runner import run_episode
from graphmem_agents.walkthrough import WalkthroughAgent
from graphmem_environments.textworld import TextWorldEnv


def counts(text):
    """``"ABAB"`` -> the counts of actions A, B, A, B (one letter an action)."""
    return loop_counts([f"act {c}" for c in text])


@pytest.mark.parametrize("text, two_cycles, long_repeats", [
    ("", 0, 0),
    ("A", 0, 0),
    ("AB", 0, 0),
    ("ABA", 0, 0),              # too short to be a cycle
    ("ABAB", 1, 0),             # the shortest two-cycle
    ("ABABABABAB", 1, 0),       # one maximal stretch counts once
    ("ABABC", 1, 0),
    ("CABAB", 1, 0),
    ("ABCBCB", 1, 0),           # the stretch starts after a short one (A, B, C breaks A, B, A)
    ("ABABCBCB", 2, 0),         # ABAB then BCBCB: two stretches sharing one action
    ("ABABACAC", 2, 0),         # ABABA then ACAC share the A
    ("ABACABAC", 0, 0),         # A comes back, but not as a back-and-forth
    ("AAA", 0, 0),              # three in a row is allowed
    ("AAAA", 0, 1),
    ("AAAAAAAA", 0, 1),         # one maximal run counts once
    ("AAAABAAAA", 0, 2),
    ("AAAABBBB", 0, 2),
    ("AABBAABB", 0, 0),         # pairs repeated are neither pattern
    ("AAAABABAB", 1, 1),        # the run's last A starts the cycle ABABAB
    ("ABABBBBB", 1, 1),         # the cycle's last B starts the run
])
def test_hand_made_sequences(text, two_cycles, long_repeats):
    assert counts(text) == {"two_cycles": two_cycles, "long_repeats": long_repeats}


def test_actions_are_compared_as_the_game_reads_them():
    assert loop_counts(["go north", "Go  North", "go north ", "GO NORTH"]) == {"two_cycles": 0, "long_repeats": 1}
    assert loop_counts(["go north", "go south", "Go North", "go  south"]) == {"two_cycles": 1, "long_repeats": 0}


COMMANDS = ["look", "inventory", "look", "inventory", "look", "wait", "wait", "wait", "wait", "examine table"]


def test_final_record_counts_the_episodes_loops_resumed_steps_included(tiny_world, tmp_path):
    log = tmp_path / "run.jsonl"
    with TextWorldEnv(tiny_world, max_steps=len(COMMANDS)) as env:
        run_episode(env, WalkthroughAgent(COMMANDS), log_path=log, meta={"game": "tiny"})
    lines = log.read_text().splitlines()
    final = json.loads(lines[-1])
    assert final["loops"] == {"two_cycles": 1, "long_repeats": 1} and final["steps"] == len(COMMANDS)

    log.write_text("\n".join(lines[:5]) + "\n")  # the start line and 4 steps: a run killed mid-cycle
    with TextWorldEnv(tiny_world, max_steps=len(COMMANDS)) as env:
        resumed = run_episode(env, WalkthroughAgent(COMMANDS), log_path=log, meta={"game": "tiny"}, resume=True)
    assert resumed["resumed_steps"] == 4 and resumed["loops"] == final["loops"]


def test_a_final_logged_before_loops_were_counted_gets_them_from_its_steps(tiny_world, tmp_path):
    log = tmp_path / "old.jsonl"
    with TextWorldEnv(tiny_world, max_steps=len(COMMANDS)) as env:
        run_episode(env, WalkthroughAgent(COMMANDS), log_path=log)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    del records[-1]["loops"]
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    with TextWorldEnv(tiny_world, max_steps=len(COMMANDS)) as env:
        final = run_episode(env, WalkthroughAgent(COMMANDS), log_path=log, resume=True)
    assert final["loops"] == {"two_cycles": 1, "long_repeats": 1}
    assert "loops" not in json.loads(log.read_text().splitlines()[-1])  # the log is not rewritten
