"""The conversation answerers' prompts and fallbacks (a scripted model: prompts and parsing only)."""
from types import SimpleNamespace

from graphmem.llm.base import LLMRequestError
from graphmem.model import Episode
from graphmem_agents.qa.conv_answer import FullContextAnswerer, TurnAnswerer

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
