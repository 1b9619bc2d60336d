"""Prompt and parsing of the answerer, with a scripted chat model (no LLM runs here)."""
from dataclasses import dataclass

import pytest

from graphmem.rag.answer import CITE_SCHEMA, Answerer, build_cite_messages, build_messages
from graphmem.llm.base import LLMRequestError
from graphmem.model import Episode, Triple

from scripted_llm import ScriptedChat


@dataclass
class Reply:
    data: object
    prompt_tokens: int = 0


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


# --- cited answers ---------------------------------------------------------------------------------
FACTS = [Triple("zorblat kirvani", "born in", "quenthaven", sources=["b"]),
         Triple("ilsa moravec", "mayor of", "quenthaven", sources=["elsewhere"])]


def test_cite_prompt_numbers_the_passages_and_marks_each_fact_with_its_passage():
    (system, user) = build_cite_messages("Who is the mayor?", PASSAGES, FACTS)
    assert '"sources"' in system["content"] and '"unknown"' in system["content"]
    text = user["content"]
    assert text.index("[1] Quenthaven\n") < text.index("[2] Zorblat Kirvani\n") < text.index("Facts:")
    # a fact names the shown passage it comes from; one from a passage not shown names none
    assert "- zorblat kirvani born in quenthaven [2]\n" in text
    assert "- ilsa moravec mayor of quenthaven\n" in text
    assert text.endswith("Question: Who is the mayor?")
    assert "Facts:" not in build_cite_messages("Who?", PASSAGES)[1]["content"]


def _cite(reply, passages=PASSAGES, top_k=5):
    answerer = Answerer(ScriptedLLM([reply]), top_k=top_k)
    return answerer, answerer.cite("Who is the mayor?", passages)


def test_cite_maps_passage_numbers_to_ids_keeping_only_shown_ones():
    answerer, cited = _cite({"answer": " Ilsa Moravec ", "sources": [1, "2", "[1]", 3, 0, "x", True, 2.0]})
    assert (cited.answer, cited.sources, cited.known) == ("Ilsa Moravec", ("a", "b"), True)
    assert answerer.dropped_sources == 4 and answerer.missing_sources == 0  # 3, 0, "x", true
    # passage 2 is not shown with top_k 1: citing it is dropped too
    answerer, cited = _cite({"answer": "Ilsa Moravec", "sources": [2]}, top_k=1)
    assert cited.sources == () and answerer.dropped_sources == 1


def test_cite_without_sources_is_an_uncited_answer_counted():
    answerer, cited = _cite({"answer": "Ilsa Moravec"})
    assert (cited.answer, cited.sources, cited.failed) == ("Ilsa Moravec", (), False)
    assert answerer.missing_sources == 1 and answerer.failures == 0
    answerer, cited = _cite({"answer": "Ilsa Moravec", "sources": "1"})  # not a list: no citations
    assert cited.sources == () and answerer.missing_sources == 1


@pytest.mark.parametrize("said", ["unknown", "Unknown.", "I don't know", "  "])
def test_cite_unknown_is_an_empty_answer_citing_nothing(said):
    answerer, cited = _cite({"answer": said, "sources": [1]})
    assert (cited.answer, cited.sources, cited.known, cited.failed) == ("", (), False, False)
    assert answerer.failures == 0


def test_cite_a_number_or_a_no_is_an_answer():
    for said in ("1998", "No", "none"):
        assert _cite({"answer": said, "sources": [1]})[1].known


def test_cite_failures_are_counted_empty_answers():
    answerer = Answerer(ScriptedLLM([LLMRequestError("server went away"), {"answer": 3}, ["a"]]))
    for _ in range(3):
        cited = answerer.cite("Who?", PASSAGES)
        assert (cited.answer, cited.known, cited.failed) == ("", False, True)
    assert answerer.failures == 3


def test_cite_goes_through_a_real_chat_model_with_the_small_schema():
    replies = iter(['{"answer": "Ilsa Moravec", "sources": [1]}',
                    # a backend that cannot enforce the schema: string numbers are still read
                    'Sure! {"answer": "Ilsa Moravec", "sources": ["[2]", "1"]}',
                    "no JSON at all"])
    llm = ScriptedChat(lambda messages, schema: next(replies))
    answerer = Answerer(llm, top_k=2)
    first = answerer.cite("Who?", PASSAGES)
    assert first.sources == ("a",) and first.prompt_tokens > 0
    assert answerer.cite("Who?", PASSAGES).sources == ("b", "a")
    assert answerer.cite("Who?", PASSAGES).failed and answerer.failures == 1
    assert all(schema == CITE_SCHEMA for _, schema in llm.requests)
    assert llm.requests[0][1]["properties"]["sources"]["items"] == {"type": "integer"}


# A conversation's turns: Melanie ran the race, Caroline paints (LoCoMo-like, written here).
RACE = Episode("D1:1", 1, "Melanie: After my charity race I realized self-care is important.",
               meta={"speaker": "Melanie", "listener": "Caroline"})
PAINT = Episode("D1:2", 2, "Caroline: I am painting a sunset these days.",
                meta={"speaker": "Caroline", "listener": "Melanie"})


def test_an_answer_the_turns_give_to_the_other_speaker_is_refused_and_counted():
    question = "What did Caroline realize after her charity race?"
    answerer = Answerer(ScriptedLLM([{"answer": "self-care is important", "sources": [1]},
                                     {"answer": "self-care is important"}]))
    cited = answerer.cite(question, [RACE, PAINT])
    assert (cited.answer, cited.sources, cited.known, cited.unattributed) == ("", (), False, True)
    assert answerer.answer(question, [RACE, PAINT]) == "unknown" and answerer.unattributed == 2
    # Asked about the one who said it, or about a document's passages (no speakers): kept.
    answerer = Answerer(ScriptedLLM([{"answer": "self-care is important", "sources": [1]},
                                     {"answer": "Ilsa Moravec"}]))
    kept = answerer.cite("What did Melanie realize after her charity race?", [RACE, PAINT])
    assert kept.known and not kept.unattributed
    assert answerer.answer("Who is the mayor, Caroline?", PASSAGES) == "Ilsa Moravec"
    assert answerer.unattributed == 0
    # Melanie's turn ranked next, not shown: the check reads it all the same.
    llm = ScriptedLLM([{"answer": "self-care is important", "sources": [1]}] * 2)
    answerer = Answerer(llm, top_k=1)
    assert answerer.cite(question, [PAINT]).known
    cited = answerer.cite(question, [PAINT], context=[RACE])
    assert cited.unattributed and "charity race I realized" not in llm.seen[-1][0][-1]["content"]
