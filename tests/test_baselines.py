"""Baselines with scripted replies on a real game: what each one shows the LLM, calls per step,
counted fallbacks."""
import json

import pytest

from graphmem_agents.baselines import FullHistoryAgent, RAGAgent, SummaryAgent
from graphmem_agents.runner import run_episode
from graphmem_environments.textworld import TextWorldEnv
from graphmem.llm.base import ChatResult
from graphmem.llm.structured import Answer
from scripted_llm import ScriptedChat

ACTIONS = ["open wooden door", "go north", "examine box", "go south", "examine table"]


def scripted(summary_reply=None):
    actions = iter(ACTIONS)

    def script(messages, schema):
        if "summary" in schema["properties"]:
            return summary_reply or json.dumps({"summary": "The wooden door leads north to a pantry."})
        return json.dumps({"action": next(actions, "look")})
    return ScriptedChat(script)


def play(tiny_world, agent, llm, steps=5):
    with TextWorldEnv(tiny_world, max_steps=steps) as env:
        return run_episode(env, agent, usage=llm.usage)


def user_prompts(llm):
    return [m[1]["content"] for m, _ in llm.requests]


@pytest.mark.slow
def test_full_history_shows_every_step(tiny_world):
    llm = scripted()
    final = play(tiny_world, FullHistoryAgent(llm), llm)
    last = user_prompts(llm)[-1]
    assert final["llm_calls"] == 5 and final["agent_stats"]["memory_size"] == 4
    for action in ACTIONS[:4]:
        assert f"> {action}: " in last
    assert last.startswith("Goal: ") and "Start: -= Kitchen =-" in last and "Recent steps" not in last


@pytest.mark.slow
def test_full_history_cuts_the_oldest_steps_beyond_its_budget(tiny_world):
    llm = scripted()
    play(tiny_world, FullHistoryAgent(llm, max_chars=200), llm)
    last = user_prompts(llm)[-1]
    assert "> go south: " in last and "> open wooden door: " not in last  # the newest always stays


@pytest.mark.slow  # plays a generated game (tw-make)
def test_summary_agent_rewrites_its_summary_each_step(tiny_world):
    llm = scripted()
    final = play(tiny_world, SummaryAgent(llm), llm)
    prompts = user_prompts(llm)
    assert final["llm_calls"] == 10  # summary + action each step
    assert "Summary so far: (empty)" in prompts[0]
    assert "Summary so far: The wooden door leads north to a pantry." in prompts[2]
    assert "Updated summary: The wooden door leads north to a pantry." in prompts[1]


@pytest.mark.slow  # plays a generated game (tw-make)
def test_summary_agent_bad_reply_keeps_the_old_summary(tiny_world):
    llm = scripted(summary_reply="not json")
    final = play(tiny_world, SummaryAgent(llm), llm, steps=2)
    assert final["agent_stats"]["summary_fallbacks"] == 2
    assert "Summary so far: (empty)" in user_prompts(llm)[-1]


@pytest.mark.slow  # plays a generated game (tw-make)
def test_summary_agent_keeps_what_a_cut_off_reply_wrote(tiny_world):
    llm = scripted(summary_reply='{"summary": "The \\"wooden\\" door leads north to a pantry with 72 squashes, 40')
    final = play(tiny_world, SummaryAgent(llm), llm, steps=2)
    assert final["agent_stats"]["summary_fallbacks"] == 0 and final["agent_stats"]["summary_salvages"] == 2
    assert 'Summary so far: The "wooden" door leads north to a pantry with 72 squashes, 40' in user_prompts(llm)[-1]


@pytest.mark.parametrize("reply, kept", [
    ('{"summary": "Caf\\u00e9 north, key in box\\u00', "Café north, key in box"),
    ('{"summary": "A \\"red\\" door\\', 'A "red" door'),
    ('{"summary": "Line one\nline two', "Line one\nline two"),
    ('{"summary": "bad \\x escape', None),
    ("not json", None),
])
def test_summary_salvage_of_a_cut_off_reply(reply, kept):
    agent = SummaryAgent(ScriptedChat(lambda messages, schema: reply))
    result = ChatResult(reply, None, prompt_tokens=0, completion_tokens=0, cached=False, latency=0.0)
    assert agent.salvaged(Answer(None, [result])) == (kept or "")
    assert agent.salvages == (kept is not None)


@pytest.mark.slow
def test_rag_agent_retrieves_older_steps_only(tiny_world):
    llm = scripted()
    agent = RAGAgent(llm, top_k=2)
    agent.recent.items = type(agent.recent.items)(maxlen=1)  # one recent step: older ones are retrieved
    final = play(tiny_world, agent, llm)
    last = user_prompts(llm)[-1]
    assert final["llm_calls"] == 5 and final["agent_stats"]["memory_size"] == 4
    retrieved = last.split("Retrieved past steps:\n")[1].split("\nRecent steps:")[0].splitlines()
    assert len(retrieved) == 2 and all(line.startswith("[step ") for line in retrieved)
    assert not any("[step 4]" in line for line in retrieved)  # step 4 is the recent one


def test_actions_repeated_without_effect_are_recognised():
    from graphmem_agents.base import RecentSteps

    recent = RecentSteps(4)
    for action, obs in [("prepare meal", "Something still needs to be cut."), ("look", "A kitchen."),
                        ("prepare meal", "Something  still needs to be cut."), ("look", "A kitchen, a knife.")]:
        recent.add(action, obs)
    assert recent.without_effect() == ["prepare meal"]  # "look" changed what it showed
