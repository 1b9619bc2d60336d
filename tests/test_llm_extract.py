"""LLM extractor and outdated-fact judge: prompts and reply handling, with scripted replies served
over HTTP to the real openai client."""
import json

import pytest

from graphmem.errors import ConfigError
from graphmem.testing.chat_server import ChatServer
from graphmem.extract.base import Extractor
from graphmem.extract.llm import LLMExtractor
from graphmem.llm.judge import LLMJudge
from graphmem.llm.openai_backend import OpenAIChat
from graphmem.model import Triple
from graphmem.profiles import DomainProfile

OBS = "-= Kitchen =-\nYou are in a kitchen. A closed fridge is here. There is an exit to the east."


@pytest.fixture
def server():
    with ChatServer() as srv:
        yield srv


def llm(server):
    return OpenAIChat("m", base_url=server.base_url, api_key="k", max_attempts=1, cache_mode="off")


def triples_reply(*rows):
    return json.dumps({"triples": [list(r) for r in rows]})


def test_extractor_follows_protocol_and_cleans_triples(server):
    server.reply(triples_reply(
        ("fridge", "in", "kitchen"), ("Fridge", "in", " kitchen "), ("fridge", "is", "closed"),
        ("kitchen", "has exit", "east"), ("", "in", "kitchen"),
        ("the fridge that is standing here in the corner", "in", "kitchen"),
    ), prompt_tokens=300, completion_tokens=40)
    ex = LLMExtractor(llm(server))
    assert isinstance(ex, Extractor)
    report = ex.extract_report(OBS)
    assert report.triples == [("fridge", "in", "kitchen"), ("fridge", "is", "closed"),
                              ("kitchen", "has exit", "east")]
    assert (report.prompt_tokens, report.completion_tokens, report.cached, report.ok) == (300, 40, False, True)
    assert ex.stats == {"requests": 1, "retried": 0, "failed": 0, "dropped": 2}


def test_names_of_recent_known_triples_are_shown(server):
    server.reply(triples_reply())
    context = [Triple("rusty key", "in", "inventory"), Triple("fridge", "in", "kitchen"),
               Triple("kitchen", "has exit", "east")]
    LLMExtractor(llm(server), max_context=2).extract(OBS, context)
    last = server.requests[0]["messages"][-1]["content"]
    assert last.startswith("Known names: kitchen, fridge\n") and "rusty key" not in last
    assert last.endswith(OBS)
    assert server.requests[0]["response_format"]["json_schema"]["schema"]["required"] == ["triples"]


def test_bad_reply_is_retried_once_with_the_problem_shown(server):
    server.reply('{"triples": [["fridge", "in"]]}').reply(triples_reply(("fridge", "in", "kitchen")))
    ex = LLMExtractor(llm(server))
    assert ex.extract(OBS) == [("fridge", "in", "kitchen")]
    retry = server.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"triples": [["fridge", "in"]]}'}
    assert "fewer than 3 items" in retry[-1]["content"]
    assert ex.stats["retried"] == 1 and ex.stats["failed"] == 0


def test_two_bad_replies_give_an_empty_counted_result(server, caplog):
    server.reply("I think the fridge is in the kitchen.").reply('{"triples": [["a", "b", "c"]')
    ex = LLMExtractor(llm(server))
    report = ex.extract_report(OBS)
    assert report.triples == [] and not report.ok and report.completion_tokens == 10
    assert ex.stats["failed"] == 1
    assert "no valid reply after 2 attempts; the caller's fallback takes over" in caplog.text


def existing():
    return [Triple("apple", "on", "table"), Triple("table", "in", "kitchen"),
            Triple("fridge", "is", "closed"), Triple("apple", "is", "red")]


def test_judge_returns_ids_of_replaced_triples(server):
    server.reply('{"outdated": [3, 1]}')
    old = existing()
    new = [Triple("apple", "in", "inventory"), Triple("fridge", "is", "open")]
    assert LLMJudge(llm(server)).outdated(new, old) == [old[0].id, old[2].id]
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "New facts:\n- apple, in, inventory\n- fridge, is, open\nExisting facts:\n1. apple, on, table" in prompt


def test_judge_vetoes_other_aspects_and_repeats(server):
    server.reply('{"outdated": [1, 2, 3, 4]}')
    old = [Triple("apple", "in", "inventory"), Triple("table", "in", "kitchen"),
           Triple("chest", "in", "kitchen"), Triple("apple", "on", "table")]
    judge = LLMJudge(llm(server))
    new = [Triple("Apple", "in", "inventory"), Triple("chest", "is", "open")]
    assert judge.outdated(new, old) == [old[3].id]  # "on" and "in" are both the location aspect
    assert judge.stats["vetoed"] == 3


def test_judge_out_of_range_reply_retries_then_retires_nothing(server):
    server.reply('{"outdated": [9]}').reply('{"outdated": [0]}')
    judge = LLMJudge(llm(server))
    assert judge.outdated([Triple("apple", "in", "inventory")], existing()) == []
    assert "not between 1 and 4" in server.requests[1]["messages"][-1]["content"]
    assert judge.stats["failed"] == 1


def test_judge_skips_the_model_when_nothing_to_compare(server):
    judge = LLMJudge(llm(server))
    assert judge.outdated([], existing()) == [] and judge.outdated(existing(), []) == []
    assert server.requests == []


@pytest.mark.parametrize("make", [LLMExtractor, LLMJudge])
def test_a_profile_without_prompts_is_refused_up_front(server, make):
    # Without the check, the first request would fail deep inside on a None profile.prompts.
    bare = DomainProfile(name="bare")
    with pytest.raises(ConfigError, match="'bare' profile has no LLM prompts"):
        make(llm(server), profile=bare)
