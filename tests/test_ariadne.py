"""Ariadne on a real TextWorld game with scripted LLM replies: prompts, go-to walking through a
door, parsing and counted fallbacks, at most 3 LLM calls a step."""
import json

from agents.ariadne import Ariadne
from agents.runner import run_episode
from environments.textworld import TextWorldEnv
from scripted_llm import ScriptedChat

# Replies of the action calls, in order ("go to pantry" makes Ariadne open the door and walk).
ACTIONS = ["open wooden door", "go north", "go to kitchen", "close wooden door", "go to pantry",
           "not an action", "look"]


def script_for(actions):
    queue = list(actions)

    def script(messages, schema):
        if "plan" in schema["properties"]:
            return json.dumps({"plan": ["explore the house", "open the box"]})
        return json.dumps({"action": queue.pop(0)}) if queue else '{"action": "look"}'
    return script


def test_ariadne_walks_paths_opens_doors_and_falls_back(tiny_world, tmp_path):
    llm = ScriptedChat(script_for(ACTIONS))
    agent = Ariadne(llm)
    with TextWorldEnv(tiny_world, max_steps=8) as env:
        final = run_episode(env, agent, usage=llm.usage, log_path=tmp_path / "run.jsonl")
    steps = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()][1:-1]
    assert [s["action"] for s in steps] == [
        "open wooden door", "go north", "go south",      # go to kitchen: one move, walked at once
        "close wooden door", "open wooden door",          # go to pantry: the door is in the way
        "go north",                                       # ...then the walk goes on without the LLM
        "drop key",                                       # bad reply: first option not played lately
        "look"]
    # plan + action calls, except the step walked without any call
    assert [s["llm_calls"] for s in steps] == [2, 2, 2, 2, 2, 0, 2, 2]
    assert max(s["llm_calls"] for s in steps) <= 3
    stats = final["agent_stats"]
    assert stats["action_fallbacks"] == 1 and stats["plan_fallbacks"] == 0
    assert stats["path_moves"] == 2 and stats["doors_opened"] == 1 and stats["path_aborts"] == 0
    assert final["steps"] == 8 and final["truncated"]

    prompts = [m[1]["content"] for m, _ in llm.requests]
    first = prompts[0]
    assert first.startswith("Goal: ") and "Unexplored exits: kitchen: north" in first
    assert "Current room: kitchen" in first and "- kitchen, has exit, north" in first
    # the plan and action prompts of a step share their context (the backend's cached prefix)
    assert prompts[1].split("\n\n")[0] == first.split("\n\n")[0]
    assert "Plan: explore the house; open the box" in prompts[1]
    # after the first move the map knows the pantry: "go to" it is offered from the kitchen
    third_step_action = prompts[5]
    assert "go to kitchen" in third_step_action and "Current room: pantry" in third_step_action
    assert all(len(p) < 4 * 1200 for p in prompts)  # ~1,200 tokens at most


def test_ariadne_plan_fallback_keeps_the_previous_plan(tiny_world):
    replies = iter(['{"plan": ["open the door"]}', '{"action": "look"}', '{"plan": []}', '{"action": "look"}'])
    llm = ScriptedChat(lambda messages, schema: next(replies))
    agent = Ariadne(llm)
    with TextWorldEnv(tiny_world, max_steps=2) as env:
        final = run_episode(env, agent, usage=llm.usage)
    assert final["agent_stats"]["plan_fallbacks"] == 1
    assert final["agent_stats"]["plan"] == ["open the door"]


def test_llm_extractor_makes_three_calls_a_step_without_retries(tiny_world):
    def script(messages, schema):
        if "triples" in schema["properties"]:
            return "{oops" if "-= Kitchen =-" in messages[-1]["content"] else '{"triples": [["box", "is", "locked"]]}'
        if "plan" in schema["properties"]:
            return '{"plan": ["go north"]}'
        return '{"action": "open wooden door"}' if "open wooden door" in str(schema) else '{"action": "go north"}'

    llm = ScriptedChat(script)
    agent = Ariadne(llm, extractor="llm")
    with TextWorldEnv(tiny_world, max_steps=2) as env:
        final = run_episode(env, agent, usage=llm.usage)
    assert final["llm_calls"] == 6  # extraction + plan + action, twice; the bad extraction is not retried
    assert agent.memory.extractor.stats["failed"] == 1
    assert ("box", "is", "locked") in [(t.subject, t.relation, t.object) for t in agent.memory.current()]
