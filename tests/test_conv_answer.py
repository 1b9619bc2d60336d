"""The conversation answerers' prompts and fallbacks (a scripted model: prompts and parsing only)."""
from types import SimpleNamespace

from graphmem.llm.base import LLMRequestError
from graphmem.model import Episode
from graphmem_agents.qa.conv_answer import FullContextAnswerer, TurnAnswerer, asked, chosen, within_budget

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
