"""The TextWorld wrapper on real games generated in the session (see conftest.py)."""
from __future__ import annotations

import json

import pytest

from graphmem_agents.walkthrough import WalkthroughAgent, replay_walkthrough
from graphmem_environments.textworld import (GameError, TextWorldEnv, clean_observation, generate_game,
                                    load_tasks, parse_spec, resolve_game, task_for_game_file)


@pytest.mark.parametrize("game", [pytest.param("cooking_game", marks=pytest.mark.slow), "hunter_game"])
def test_walkthrough_reaches_max_score(game, request):
    with TextWorldEnv(request.getfixturevalue(game)) as env:
        trace = replay_walkthrough(env)
    final = trace[-1][1]
    assert final.max_score > 0
    assert final.score == final.max_score
    assert final.normalized == 1.0
    assert final.won and final.done and not final.lost and not final.truncated
    assert final.moves == len(trace) - 1


def test_cooking_game_walkthrough_comes_from_extras(cooking_game):
    task = task_for_game_file(cooking_game)
    with TextWorldEnv(task) as env:
        env.reset()
        assert env.game_walkthrough  # cooking games have no policy commands: extras carry it
        assert env.walkthrough() == env.game_walkthrough
    assert "cook" in task.goal.lower() or "meal" in task.goal.lower()


def test_cleaned_first_observation_has_no_banner_prompt_or_status(cooking_game):
    with TextWorldEnv(cooking_game) as env:
        first = env.reset()
    assert "$$" in first.raw and "\n>" in first.raw  # the raw text really has them
    assert "$$" not in first.observation
    assert ">" not in first.observation
    assert first.observation.startswith("You are hungry!")
    assert "-= " in first.observation  # the body's room header is kept: it names the room
    last_line = first.raw.rstrip().splitlines()[-1]
    assert last_line.startswith(">") and last_line not in first.observation
    assert "\n\n\n" not in first.observation


def test_clean_observation_on_real_step_text():
    # Verbatim output of "take Key 1" in the AriGraph hunt game.
    raw = ("\nYou pick up the Key 1 from the ground.\n\n\n\nYour score has just gone up by one point."
           "\n\n>" + " " * 128 + "-= Room A =-1/2")
    assert clean_observation(raw) == ("You pick up the Key 1 from the ground.\n\n"
                                      "Your score has just gone up by one point.")


def test_step_result_fields_and_determinism(hunter_game):
    with TextWorldEnv(hunter_game) as env:
        first = env.reset()
        again = env.reset()
    assert first.observation == again.observation and first.facts == again.facts
    assert list(first.admissible_commands) == sorted(first.admissible_commands)
    assert "look" in first.admissible_commands
    assert (first.score, first.moves, first.done) == (0, 0, False)
    assert first.normalized == 0.0


@pytest.mark.slow  # makes two more games
def test_generation_is_deterministic_given_seed(tmp_path, hunter_game):
    again = generate_game("tw-treasure_hunter:level=5", seed=1, cache_dir=tmp_path)
    other = generate_game("tw-treasure_hunter:level=5", seed=2, cache_dir=tmp_path)
    assert again != hunter_game and again.parent.name == hunter_game.parent.name
    firsts = []
    for path in (hunter_game, again, other):
        with TextWorldEnv(path) as env:
            first = env.reset()
        firsts.append((first.observation, first.facts))
    assert firsts[0] == firsts[1]
    assert firsts[0] != firsts[2]


def test_invalid_command_is_played_and_counted(hunter_game):
    with TextWorldEnv(hunter_game) as env:
        env.reset()
        result = env.step("unclock the fridge")
    assert "not a verb" in result.observation
    assert result.moves == 1 and not result.done


def test_step_limit_ends_the_episode(hunter_game):
    with TextWorldEnv(hunter_game, max_steps=2) as env:
        env.reset()
        assert not env.step("look").done
        last = env.step("look")
        assert last.done and last.truncated and not last.won
        with pytest.raises(RuntimeError, match="reset"):
            env.step("look")


def test_walkthrough_agent_stops_when_commands_run_out():
    agent = WalkthroughAgent(["look"])
    with pytest.raises(ValueError, match="walkthrough"):
        WalkthroughAgent([])
    from graphmem_environments.textworld import StepResult
    state = StepResult("", "", (), 0, 1, False, False, False, False, 0)
    assert agent.act(state) == "look"
    assert agent.act(state) is None


def test_task_file_with_misspelled_walkthrough_command(tmp_path, hunter_game):
    walkthrough = list(task_for_game_file(hunter_game).walkthrough)
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps({
        "hunt": {"game": str(hunter_game), "goal": "Find it", "hint": "Look around",
                 "max_steps": 40, "walkthrough": ["unclock door with key", *walkthrough]},
        "gone": {"game": "missing/game.z8", "goal": "", "hint": "", "max_steps": 5},
    }))
    table = load_tasks(tasks)
    assert table["hunt"].max_steps == 40 and table["hunt"].goal == "Find it"
    assert table["hunt"].clean_place is None
    task = resolve_game("hunt", tasks=tasks)
    with TextWorldEnv(task) as env:
        trace = replay_walkthrough(env)
    assert trace[1][0] == "unclock door with key"
    assert trace[-1][1].won and trace[-1][1].normalized == 1.0
    with pytest.raises(GameError, match="does not exist"):
        resolve_game("gone", tasks=tasks)
    with pytest.raises(GameError, match="hunt"):  # the error lists the known tasks
        resolve_game("hnt", tasks=tasks)


def test_unknown_game_file_and_bad_specs(tmp_path):
    with pytest.raises(GameError, match="Game file not found"):
        resolve_game(str(tmp_path / "nowhere.z8"))
    with pytest.raises(GameError, match="spec"):
        resolve_game("treasure")
    with pytest.raises(GameError, match="Unknown game kind"):
        parse_spec("tw-bogus:level=1")
    with pytest.raises(GameError, match="recipe"):  # lists the generator's real options
        parse_spec("tw-cooking:recipee=1")
    with pytest.raises(GameError, match="seed"):
        parse_spec("tw-treasure_hunter:level=1,seed=3")
    with pytest.raises(GameError, match="Task file not found"):
        load_tasks(tmp_path / "tasks.json")


def test_spec_cache_key_ignores_option_order(tw_cache, cooking_game):
    assert parse_spec("tw-cooking:cut,take=1,go=1,recipe=1").canonical == \
        parse_spec("tw-cooking:recipe=1,take=1,go=1,cut").canonical
    # Same spec and seed: the cached file, not a new generation.
    assert generate_game("tw-cooking:cut,go=1,take=1,recipe=1", seed=1, cache_dir=tw_cache) == cooking_game
    assert resolve_game("tw-cooking:recipe=1,take=1,go=1,cut", seed=1, cache_dir=tw_cache).game_path == \
        cooking_game.resolve()


def test_custom_world_spec_is_playable(tw_cache):
    task = resolve_game("custom:world_size=2,nb_objects=3,quest_length=2", seed=3, cache_dir=tw_cache)
    assert task.walkthrough and task.goal
    with TextWorldEnv(task) as env:
        final = replay_walkthrough(env)[-1][1]
    assert final.won and final.normalized == 1.0
