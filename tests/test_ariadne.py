"""Ariadne on real TextWorld games with scripted LLM replies: prompts, walking through a door,
effect-aware loop control, vetoes, one call a step at most, and wins from the graph's sub-goals."""
import json

import pytest

from graphmem_agents.ariadne import Ariadne
from graphmem_agents.effects import HOLD, NEVER, OFFER, STALE_PENALTY, USELESS_PENALTY, EffectTracker
from graphmem_agents.runner import run_episode
from graphmem_environments.textworld import TextWorldEnv
from scripted_llm import ScriptedChat


def script_for(actions):
    """Replies to the structured choice, in order; an unknown action makes the chooser fall back."""
    queue = list(actions)

    def script(messages, schema):
        return json.dumps({"action": queue.pop(0)}) if queue else "no json"
    return script


def steps_of(log):
    return [json.loads(line) for line in log.read_text().splitlines()][1:-1]


@pytest.mark.slow
def test_ariadne_walks_through_a_door_and_never_repeats_a_useless_action(tiny_world, tmp_path):
    llm = ScriptedChat(script_for(["look", "open wooden door", "go north", "go to kitchen", "look",
                                   "go to pantry"]))
    agent = Ariadne(llm, shortlist=40)  # every option reaches the (scripted) model...
    agent.chooser.enum_bonus = 10.0       # ...and its choice wins over the priors
    with TextWorldEnv(tiny_world, max_steps=8) as env:
        final = run_episode(env, agent, usage=llm.usage, log_path=tmp_path / "run.jsonl")
    steps = steps_of(tmp_path / "run.jsonl")
    actions = [s["action"] for s in steps]
    assert actions[0] == "look"
    # "look" changed nothing: it is not offered again until the memory changes
    assert "look" not in llm.requests[1][1]["properties"]["action"]["enum"]
    # "go to kitchen" and "go to pantry" are one move each, through the door opened before
    assert actions[:6] == ["look", "open wooden door", "go north", "go south", "look", "go north"]
    assert [s["llm_calls"] for s in steps[:6]] == [1, 1, 1, 1, 1, 1]
    assert max(s["llm_calls"] for s in steps) <= 1
    assert final["agent_stats"]["path_aborts"] == 0
    prompt = llm.requests[0][0][1]["content"]
    assert prompt.startswith("Goal: ") and "Room: kitchen" in prompt and "Exits: north (unexplored)" in prompt
    assert "Here: chest" in prompt and "table: cup, plate" in prompt and "Carrying: nothing" in prompt
    # the current observation's own facts are not repeated as known facts
    assert "- kitchen, has exit, north" not in prompt and "- table, in, kitchen" not in prompt
    assert all(len(m[1]["content"]) < 4 * 800 for m, _ in llm.requests)  # ~800 tokens at most


def test_effect_tracker_blocks_until_the_memory_changes():
    effects = EffectTracker()
    effects.record("examine box", score_delta=0, moved_to=None, learned=[], other_changes=0)
    assert effects.blocked() == {"examine box"}
    effects.record("open box", score_delta=0, moved_to=None, learned=["apple in box"], other_changes=0)
    assert effects.blocked() == set() and effects.useless() == {"examine box"}
    assert "> open box: learned: apple in box" in effects.render()


def test_the_effect_ledger_judges_commands_by_what_they_did_and_what_the_game_told():
    effects = EffectTracker()
    effects.record("wait", score_delta=0, moved_to=None, learned=[], other_changes=0, response="Time passes.")
    effects.record("wait", score_delta=0, moved_to=None, learned=[], other_changes=0, response="Time passes.")
    # changed nothing (held back while the memory is unchanged) and answered a text seen before
    assert effects.judge("wait", 1.0, told=False) == (1.0 - USELESS_PENALTY - STALE_PENALTY, HOLD)
    assert effects.judge("wait", 1.0, told=True) == (1.0, OFFER)  # the game's next step: exempt
    assert effects.judge("look", 1.0, told=False) == (1.0, OFFER)  # untried
    effects.record_loss("eat poison")
    assert effects.judge("eat poison", 0.0, told=False)[1] == NEVER
    assert effects.judge("eat poison", 0.0, told=True)[1] == OFFER  # a restart tells it again
    effects.record("touch pea", score_delta=0, moved_to=None, learned=[], other_changes=0, response="You can't.")
    # refused: judged like any command even when told, and given up after a second refusal
    assert effects.judge("touch pea", 1.0, told=True) == (1.0 - USELESS_PENALTY, HOLD)
    assert not effects.gave_up("touch pea")
    effects.record("touch pea", score_delta=0, moved_to=None, learned=[], other_changes=0, response="You can't.")
    assert effects.gave_up("touch pea")
    effects.clear()
    assert effects.judge("eat poison", 0.0, told=False) == (0.0, OFFER) and not effects.gave_up("touch pea")


def test_memory_off_keeps_one_extractor_an_episode_and_nothing_across_steps(tiny_world, monkeypatch):
    import graphmem_agents.ariadne as ariadne

    built = []

    def counted(*args, **kwargs):
        built.append(make_extractor(*args, **kwargs))
        return built[-1]

    make_extractor = ariadne.make_extractor
    monkeypatch.setattr(ariadne, "make_extractor", counted)
    llm = ScriptedChat(script_for(["open chest", "take apple from chest", "look"]))
    agent = Ariadne(llm, remember=False)
    with TextWorldEnv(tiny_world, max_steps=4) as env:
        final = run_episode(env, agent, usage=llm.usage)
        assert final["steps"] == 4 and len(built) == 1  # the parser is loaded once, not every step
        assert agent.memory.stats()["episodes"] == 1  # the graph holds the last observation alone
        env.reset()
        agent.reset(env.task)
        assert len(built) == 2 and agent.memory.extractor is built[1]


@pytest.mark.slow
def test_cooking_game_is_won_from_the_recipe_in_memory(cooking_game, tmp_path):
    """Every structured reply is invalid: the priors from the graph's checklist alone must win
    (the recipe read off the cookbook, the knife fetched, the meal prepared and eaten)."""
    llm = ScriptedChat(lambda messages, schema: "no json")
    agent = Ariadne(llm)
    with TextWorldEnv(cooking_game, max_steps=40) as env:
        final = run_episode(env, agent, usage=llm.usage, log_path=tmp_path / "cook.jsonl")
    actions = [s["action"] for s in steps_of(tmp_path / "cook.jsonl")]
    assert final["won"], actions
    assert not any(a.startswith(("eat ", "drink ")) and a != "eat meal" for a in actions)
    assert "examine cookbook" in actions and actions[-1] == "eat meal"
    assert any(a.startswith(("slice ", "dice ", "chop ")) for a in actions)


@pytest.mark.slow
def test_llm_extractor_makes_two_calls_a_step_without_retries(tiny_world):
    def script(messages, schema):
        if "triples" in schema["properties"]:
            return "{oops" if "-= Kitchen =-" in messages[-1]["content"] else '{"triples": [["box", "is", "locked"]]}'
        return json.dumps({"action": schema["properties"]["action"]["enum"][0]})

    llm = ScriptedChat(script)
    agent = Ariadne(llm, extractor="llm")
    with TextWorldEnv(tiny_world, max_steps=2) as env:
        final = run_episode(env, agent, usage=llm.usage)
    assert final["llm_calls"] <= 4  # extraction + choice, twice; the bad extraction is not retried
    assert agent.memory.extractor.stats["failed"] == 1
    assert ("box", "is", "locked") in [(t.subject, t.relation, t.object) for t in agent.memory.current()]
