"""The conversation answerers: prompts, the question protocol, the budget and fallbacks (a scripted
model or a scripted chat server: prompts and parsing only)."""
from types import SimpleNamespace

import pytest

from graphmem.llm.base import LLMRequestError
from graphmem.model import Episode
from graphmem.rag.attribution import asked_about, attributed, named_person
from graphmem_agents.qa.conv_answer import (
    NOT_MENTIONED, FullContextAnswerer, TurnAnswerer, asked, chosen, within_budget)

TURNS = [Episode(f"D1:{n}", n, f"Ana: turn number {n} " + "word " * 40, meta={"time": "8 May 2023"})
         for n in range(200)]


class Scripted:
    """Answers "x"; refuses prompts longer than ``limit`` characters as llama.cpp refuses a prompt
    past its context."""

    n_ctx = 4096

    def __init__(self, limit: int):
        self.limit = limit
        self.prompts: list[str] = []

    def chat(self, messages, schema=None, max_tokens=0):
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        if len(prompt) > self.limit:
            raise LLMRequestError("Requested tokens (4261) exceed context window of 4096")
        return SimpleNamespace(data={"answer": "x"}, prompt_tokens=len(prompt) // 4)


def test_turns_are_shown_in_the_order_said_with_their_dates():
    llm = Scripted(10**9)
    assert TurnAnswerer(llm).answer("When?", [TURNS[5], TURNS[2]]) == "x"
    prompt = llm.prompts[0]
    assert prompt.index("turn number 2") < prompt.index("turn number 5")
    assert "[8 May 2023] Ana: turn number 2" in prompt and prompt.endswith("Question: When?")


def test_full_context_keeps_the_most_recent_turns_and_shrinks_when_refused():
    llm = Scripted(limit=9000)
    reader = FullContextAnswerer(llm)
    assert reader.answer("When?", TURNS) == "x" and reader.failures == 0
    assert len(llm.prompts) > 1  # refused first, then sent a fifth shorter until it fit
    assert "turn number 199" in llm.prompts[-1] and "turn number 0 " not in llm.prompts[-1]
    hopeless = FullContextAnswerer(Scripted(limit=10))
    assert hopeless.answer("When?", TURNS) == "" and hopeless.failures == 1


def _question(category, text="Where did Ana go?", tempting="", qid="conv-1#3"):
    from graphmem_environments.conversation import ConversationQuestion

    return ConversationQuestion(qid, text, "", category, adversarial_answer=tempting)


def test_questions_are_asked_as_locomos_evaluation_asks_them():
    llm = Scripted(10**9)
    reader = TurnAnswerer(llm)
    reader.answer(_question(2, "When did Ana go to Rome?"), [TURNS[1]])
    assert llm.prompts[-1].endswith("When did Ana go to Rome? Use DATE of CONVERSATION to answer with an approximate date.")
    reader.answer(_question(4), [TURNS[1]])
    assert llm.prompts[-1].endswith("Question: Where did Ana go?")
    TurnAnswerer(llm, protocol="plain").answer(_question(2, "When did Ana go to Rome?"), [TURNS[1]])
    assert llm.prompts[-1].endswith("Question: When did Ana go to Rome?")


def test_an_adversarial_question_is_a_choice_and_the_letter_is_read_as_its_option():
    text, options = asked(_question(5, tempting="Paris"))
    assert sorted(options.values()) == ["Not mentioned in the conversation", "Paris"]
    assert text == f"Where did Ana go? Select the correct answer: (a) {options['a']} (b) {options['b']}."
    assert asked(_question(5, tempting="Paris")) == (text, options)  # the order is fixed by the id
    orders = {asked(_question(5, tempting="Paris", qid=f"conv-1#{n}"))[1]["a"] for n in range(20)}
    assert orders == {"Paris", "Not mentioned in the conversation"}  # and differs between questions
    for reply in ("b", "(b)", "B) whatever", options["b"].upper()):
        assert chosen(reply, options) == options["b"]
    assert chosen("Rome", options) == "Rome"  # neither option: the reply as it was
    assert asked(_question(5)) == ("Where did Ana go?", {})  # no tempting answer: asked as written


def test_the_budget_keeps_the_best_turns_and_cuts_a_long_one_to_the_sentences_asked_about():
    best = Episode("D2:1", 1, "Ana: I love Rome. " + "The weather was fine and the food too. " * 12 +
                   "We went to the Colosseum.", meta={"time": "1:56 pm on 8 May, 2023", "speaker": "Ana"})
    other = Episode("D2:2", 2, "Ben: Nice.", meta={"time": "1:56 pm on 8 May, 2023"})
    kept = within_budget("Did Ana see the Colosseum?", [best, other], budget_tokens=40)
    assert [e.id for e in kept] == ["D2:1", "D2:2"]
    assert kept[0].text == "Ana: We went to the Colosseum."  # the one sentence sharing a word
    assert within_budget("Did Ana see the Colosseum?", [best, other], None) == [best, other]
    assert [e.id for e in within_budget("What did Ben say?", [best, other], 40)] == ["D2:2"]
    llm = Scripted(10**9)
    TurnAnswerer(llm).answer("Did Ana see the Colosseum?", [other, best])
    assert "[8 May 2023] Ben: Nice." in llm.prompts[-1]  # the day, not the hour


def _turn(n, speaker, text):
    listener = "Caroline" if speaker == "Melanie" else "Melanie"
    return Episode(f"D1:{n}", n, f"{speaker}: {text}", meta={"speaker": speaker, "listener": listener,
                                                            "time": "8 May 2023"})


RACE = _turn(1, "Melanie", "I ran a charity race last week and realized self-care is really important.")
CHEER = _turn(2, "Caroline", "Wow, that's great! I'm painting a sunset for my support group.")
PRAISE = _turn(3, "Melanie", "Caroline, your roses painting was lovely.")


def test_an_answer_about_one_person_must_come_from_their_turns_or_turns_naming_them():
    shown = [RACE, CHEER, PRAISE]
    assert asked_about("What did Caroline realize after her charity race?", shown) == "Caroline"
    assert asked_about("What did Caroline and Melanie do?", shown) is None
    assert asked_about("What did they do?", shown) is None
    assert named_person("What does Marta like?", ["Marta Quill", "Ben Ode"]) == "Marta Quill"
    assert named_person("What does Marta like?", ["Marta Quill", "Marta Ode"]) is None  # which Marta?
    assert named_person("What did Ode say?", ["Marta Quill", "Ben Ode"]) is None  # a surname alone is not enough
    assert not attributed("What did Caroline realize after her charity race?", "self-care is important", shown)
    assert attributed("What did Melanie realize after her charity race?", "self-care is important", shown)
    assert attributed("What is Caroline painting?", "a sunset", shown)  # her own turn
    assert attributed("What did Caroline paint?", "roses", shown)  # the other speaker names her
    assert attributed("What did Caroline realize?", "patience", shown)  # in no turn: nothing to judge by
    assert attributed("What did Caroline realize?", NOT_MENTIONED, shown)
    assert attributed("What did they realize?", "self-care", shown)  # no one person asked about


def test_the_reader_says_not_mentioned_when_the_answer_is_the_other_speakers():
    class Says(Scripted):
        def chat(self, messages, schema=None, max_tokens=0):
            super().chat(messages, schema, max_tokens)
            return SimpleNamespace(data={"answer": "self-care is important"}, prompt_tokens=10)

    reader = TurnAnswerer(Says(10**9))
    question = "What did Caroline realize after her charity race?"
    assert reader.answer(question, [RACE, CHEER]) == NOT_MENTIONED and reader.unattributed == 1
    assert reader.answer("What did Melanie realize after her charity race?", [RACE, CHEER]) == "self-care is important"
    unchecked = TurnAnswerer(Says(10**9), attribute=False)
    assert unchecked.answer(question, [RACE, CHEER]) == "self-care is important" and unchecked.unattributed == 0
    full = FullContextAnswerer(Says(10**9))  # the baseline reads with the same check
    assert full.answer(question, [RACE, CHEER]) == NOT_MENTIONED and full.unattributed == 1
    # The turn that gives the answer to Melanie is not shown, only ranked next: the check reads it.
    llm = Says(10**9)
    assert TurnAnswerer(llm).answer(question, [CHEER]) == "self-care is important"
    assert TurnAnswerer(llm).answer(question, [CHEER], context=[RACE]) == NOT_MENTIONED
    assert "self-care is really important" not in llm.prompts[-1]  # context is checked, never shown
    # Among the best turns but left out by the budget: not shown, still checked.
    assert TurnAnswerer(llm, budget_tokens=25).answer(question, [CHEER, RACE]) == NOT_MENTIONED
    assert "self-care is really important" not in llm.prompts[-1]
    # The baseline's check reads what it was shown: the whole conversation is not its best turns.
    baseline = FullContextAnswerer(llm, context_tokens=25)
    assert baseline.answer(question, [RACE, CHEER]) == "self-care is important"
    assert "self-care is really important" not in llm.prompts[-1]


def _locomo_file(tmp_path):
    """A LoCoMo file of one two-turn conversation: a temporal question and an adversarial one."""
    import json

    conv = {"speaker_a": "Ana", "speaker_b": "Ben", "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [{"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a dog yesterday."},
                          {"speaker": "Ben", "dia_id": "D1:2", "text": "What breed is it?"}]}
    qa = [{"question": "When did Ana adopt a dog?", "answer": "7 May 2023", "evidence": ["D1:1"], "category": 2},
          {"question": "What is Ben's dog called?", "adversarial_answer": "Rex", "evidence": ["D1:2"], "category": 5}]
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps([{"sample_id": "conv-1", "conversation": conv, "qa": qa}]))
    return path


def test_the_evidence_reader_is_shown_only_the_questions_evidence_turns(tmp_path, monkeypatch, capsys):
    """`eval-conv --answer --evidence-reader`: a third reader, shown each question's evidence turns
    alone, scored as answers.evidence; without --answer the flag is refused."""
    import json

    from graphmem.cli import main
    from graphmem.testing.chat_server import ChatServer

    path = _locomo_file(tmp_path)
    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "llm-cache"))
    with ChatServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        for reply in ("8 May 2023", "7 May 2023"):  # the memory, then the evidence reader
            srv.reply(json.dumps({"answer": reply}))
        argv = ["--llm", "openai:m", "--no-cache", "eval-conv", "--data", str(path), "--retriever", "graph",
                "--limit", "1", "--answer", "--no-full-context", "--evidence-reader", "--json", "--quiet",
                "--cache-dir", str(tmp_path / "conv")]
        assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    shown = srv.requests[1]["messages"][-1]["content"]
    assert "adopted a dog" in shown and "What breed" not in shown
    assert report["answers"]["evidence"]["categories"] == {"2": 1.0}
    assert report["answers"]["memory"]["categories"]["2"] == pytest.approx(2 / 3)
    assert "full-context" not in report["answers"]
    assert main(["eval-conv", "--data", str(path), "--evidence-reader", "--quiet"]) == 2


def test_eval_conv_answers_through_a_chat_server_by_locomos_protocol(tmp_path, monkeypatch, capsys):
    """`graphmem --llm openai:m eval-conv --answer --json` end to end (real memory, embedder and
    HTTP server; scripted replies): the temporal question carries LoCoMo's date hint, the
    adversarial one is a choice whose letter is read as its option."""
    import json

    from graphmem.cli import main
    from graphmem.testing.chat_server import ChatServer
    from graphmem_environments.conversation import load_locomo

    path = _locomo_file(tmp_path)
    tempting = load_locomo(str(path))[0].questions[1]
    refusal = next(letter for letter, option in asked(tempting)[1].items() if option.startswith("Not mentioned"))
    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "llm-cache"))
    with ChatServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        for reply in ("7 May 2023", "8 May 2023", refusal, "Rex"):  # memory, then full context, per question
            srv.reply(json.dumps({"answer": reply}))
        argv = ["--llm", "openai:m", "--no-cache", "eval-conv", "--data", str(path), "--retriever", "graph",
                "--k", "1,5", "--answer", "--json", "--quiet", "--cache-dir", str(tmp_path / "conv")]
        assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    asked_texts = [r["messages"][-1]["content"] for r in srv.requests]
    assert asked_texts[0].endswith("When did Ana adopt a dog? Use DATE of CONVERSATION to answer with an approximate date.")
    assert "Select the correct answer: (a)" in asked_texts[2] and "[8 May 2023] Ana:" in asked_texts[2]
    assert report["answers"]["memory"]["categories"] == {"2": 1.0, "5": 1.0}
    full = report["answers"]["full-context"]["categories"]  # "8 May 2023" shares 2 of 3 words
    assert full["2"] == pytest.approx(2 / 3) and full["5"] == 0.0
    assert report["answer_settings"] == {"answer_k": 10, "budget_tokens": 480, "question_protocol": "locomo",
                                         "speaker_check": True}
    assert report["answers"]["full-context"]["unattributed"] == 0  # "Rex" is in no turn: nothing to judge by
