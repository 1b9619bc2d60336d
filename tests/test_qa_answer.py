"""Prompt and parsing of the answerer, with a scripted chat model (no LLM runs here)."""
from dataclasses import dataclass

import pytest

from graphmem.rag.answer import Answerer, build_messages
from graphmem.llm.base import LLMRequestError


@dataclass
class Reply:
    data: object


class ScriptedLLM:
    def __init__(self, replies):
        self.replies = list(replies)
        self.seen = []

    def chat(self, messages, schema=None, max_tokens=512):
        self.seen.append((messages, schema))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return Reply(reply)


@dataclass
class P:
    id: str
    title: str
    text: str


PASSAGES = [P("a", "Quenthaven", "Ilsa Moravec is the mayor of Quenthaven. "),
            P("b", "Zorblat Kirvani", "Zorblat Kirvani was born in Quenthaven.")]


def test_messages_number_the_passages_and_end_with_the_question():
    messages = build_messages("Who is the mayor?", PASSAGES)
    user = messages[-1]["content"]
    assert "[1] Quenthaven\nIlsa Moravec is the mayor of Quenthaven." in user
    assert "[2] Zorblat Kirvani" in user
    assert user.endswith("Question: Who is the mayor?")


def test_answer_uses_top_k_and_parses_json():
    llm = ScriptedLLM([{"answer": " Ilsa Moravec "}])
    assert Answerer(llm, top_k=1).answer("Who?", PASSAGES) == "Ilsa Moravec"
    (messages, schema), = llm.seen
    assert "[2]" not in messages[-1]["content"] and schema["required"] == ["answer"]


def test_failures_are_counted_and_give_empty_answers():
    answerer = Answerer(ScriptedLLM([LLMRequestError("server went away"), {"no": "answer"}]))
    assert answerer.answer("Who?", PASSAGES) == ""
    assert answerer.answer("Who?", PASSAGES) == ""
    assert answerer.failures == 1


def test_a_bug_is_not_counted_as_a_failed_answer():
    # Only the model's failures become empty answers; a programming error still stops the run.
    with pytest.raises(TypeError):
        Answerer(ScriptedLLM([TypeError("bug")])).answer("Who?", PASSAGES)
