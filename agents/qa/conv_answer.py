"""Answer a question about a conversation from some of its turns with a chat model (one call).

Two readers share the prompt: ``TurnAnswerer`` reads the turns memory retrieved, in the order they
were said; ``FullContextAnswerer`` reads as much of the conversation as fits the model's context,
the most recent turns first (the baseline memory must beat). Both count prompt tokens per question.

A question is asked as LoCoMo's own evaluation (``task_eval/evaluate_gpts.py``) asks it, which
A-MEM's evaluation follows too: a temporal question (category 2) is told to answer with a date from
the conversation's dates, and an adversarial one (category 5) becomes a choice between "Not
mentioned in the conversation" and the answer it was written to tempt, in an order fixed by the
question's id. ``protocol="plain"`` asks every question as it is written.

Both readers check who an answer comes from (``graphmem.rag.attribution``): an answer about one
person that the best turns give to someone else becomes "Not mentioned in the conversation".
"""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Sequence

from graphmem.errors import GraphmemError
from graphmem.llm.base import LLMRequestError
from graphmem.model import Episode
from graphmem.rag.attribution import attributed, spoken
from graphmem.rag.bm25 import tokenize

from .conversation import turn_block

log = logging.getLogger(__name__)

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
SYSTEM = (
    "You answer questions about a conversation between two people from excerpts of it. Each "
    "excerpt starts with the date and time it was said; a date in [brackets] after a phrase such "
    "as 'yesterday' says which day that phrase meant. Reply with JSON {\"answer\": \"...\"}: a short "
    "answer of a few words (a name, a date such as '7 May 2023', a year, or a list separated by "
    "commas), no explanation. If the excerpts do not say, answer \"Not mentioned in the "
    "conversation\".")
CHARS_PER_TOKEN = 3.5  # a safe estimate for English chat text: the budget must not overflow the context
PROTOCOLS = ("locomo", "plain")
ANSWER_BUDGET = 480  # prompt tokens of turns (~560 a prompt): about 8 s an answer with the local model on 2 cores
NOT_MENTIONED = "Not mentioned in the conversation"
DATE_HINT = " Use DATE of CONVERSATION to answer with an approximate date."
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def asked(question, protocol: str = "locomo") -> tuple[str, dict[str, str]]:
    """The text put to the model and, for a two-way choice, the option each letter names."""
    text = getattr(question, "question", question)
    category = getattr(question, "category", None)
    if protocol != "locomo":
        return text, {}
    if category == 2:
        return text + DATE_HINT, {}
    tempting = getattr(question, "adversarial_answer", "")
    if category == 5 and tempting:
        first_refuses = hashlib.sha1(str(question.id).encode()).digest()[0] % 2 == 0
        options = [NOT_MENTIONED, tempting] if first_refuses else [tempting, NOT_MENTIONED]
        return f"{text} Select the correct answer: (a) {options[0]} (b) {options[1]}.", dict(zip("ab", options))
    return text, {}


def chosen(reply: str, options: dict[str, str]) -> str:
    """A reply to a two-way choice read as the option it names ("b", "(b)", "b) ..." or the text)."""
    said = reply.strip().lower()
    for letter, option in options.items():
        if said in (letter, f"({letter})", f"{letter})") or said.startswith((f"({letter})", f"{letter})")) \
                or said == option.lower():
            return option
    return reply


def within_budget(question: str, ranked: Sequence[Episode], budget_tokens: int | None) -> list[Episode]:
    """The turns to show, best-ranked first, while they fit ``budget_tokens`` (estimated from
    characters); a turn too long for what is left keeps only its sentences that share a word with
    the question. None: every turn whole."""
    if budget_tokens is None:
        return list(ranked)
    left = budget_tokens * CHARS_PER_TOKEN
    wanted = set(tokenize(question, stem=True))
    kept: list[Episode] = []
    for e in ranked:
        cost = len(turn_block(e)) + 1
        if cost > left:
            head, said = spoken(e)
            every = _SENTENCE.split(said)
            sentences = [s for s in every if wanted & set(tokenize(s, stem=True))]
            if not sentences or len(sentences) == len(every):
                continue
            e = Episode(e.id, e.step, head + " ".join(sentences), title=e.title, meta=e.meta)
            cost = len(turn_block(e)) + 1
            if cost > left:
                continue
        kept.append(e)
        left -= cost
    return kept


class TurnAnswerer:
    """``llm``: a graphmem chat model. ``max_tokens``: the answer's length. ``budget_tokens``: at
    most this many prompt tokens of turns (None: every turn given). ``protocol``: see the module.
    ``attribute``: an answer about one person that the best turns give to someone else becomes
    "Not mentioned" (see ``attributed``); ``unattributed`` counts them."""

    def __init__(self, llm, max_tokens: int = 48, budget_tokens: int | None = ANSWER_BUDGET,
                 protocol: str = "locomo", attribute: bool = True):
        self.llm = llm
        self.max_tokens = max_tokens
        self.budget_tokens = budget_tokens
        self.protocol = protocol
        self.attribute = attribute
        self.failures = 0
        self.unattributed = 0
        self.prompt_tokens: list[int] = []

    def messages(self, question: str, turns: Sequence[Episode]) -> list[dict]:
        ordered = sorted(turns, key=lambda e: (e.step, e.id))
        user = "Conversation excerpts:\n" + "\n".join(turn_block(e) for e in ordered) + f"\n\nQuestion: {question}"
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]

    def answer(self, question, turns: Sequence[Episode], context: Sequence[Episode] = ()) -> str:
        """``turns``: best first; those within the budget are shown in the order said. ``context``:
        the memory's next-best turns, which the speaker check reads beside those shown
        (``attribution.CHECKED_TURNS``)."""
        text, options = asked(question, self.protocol)
        written = getattr(question, "question", question)
        try:
            reply, shown = self._reply(text, within_budget(written, turns, self.budget_tokens))
        except GraphmemError as exc:  # one bad reply must not end a long evaluation
            self.failures += 1
            log.warning("answering failed (%d so far), counted as an empty answer: %s", self.failures, exc)
            self.prompt_tokens.append(0)
            return ""
        self.prompt_tokens.append(reply.prompt_tokens)
        data = reply.data if isinstance(reply.data, dict) else {}
        said = chosen(str(data.get("answer", "")).strip(), options)
        if self.attribute and not attributed(written, said, self._checked(turns, shown, context)):
            self.unattributed += 1
            log.info("%r: the best turns give %r to another person; answering %r", written, said, NOT_MENTIONED)
            return NOT_MENTIONED
        return said

    def _reply(self, question: str, turns: Sequence[Episode]):
        """The model's reply and the turns it was shown."""
        return self.llm.chat(self.messages(question, turns), schema=SCHEMA, max_tokens=self.max_tokens), turns

    def _checked(self, turns: Sequence[Episode], shown: Sequence[Episode], context: Sequence[Episode]) -> list[Episode]:
        """The turns the speaker check reads: all of the memory's best, those the budget left
        out included, and the next-best."""
        return [*turns, *context]


class FullContextAnswerer(TurnAnswerer):
    """Reads the most recent turns that fit ``context_tokens`` (default: the model's context less
    the answer and the prompt's frame)."""

    def __init__(self, llm, max_tokens: int = 48, context_tokens: int | None = None, protocol: str = "locomo",
                 attribute: bool = True):
        super().__init__(llm, max_tokens, budget_tokens=None, protocol=protocol, attribute=attribute)
        n_ctx = getattr(llm, "n_ctx", None) or 4096
        self.context_tokens = context_tokens or n_ctx - max_tokens - 300

    def _reply(self, question: str, turns: Sequence[Episode]):
        """The most recent turns the context holds: the character estimate can overshoot on text
        with many short words, so a prompt the model refuses is sent again a fifth shorter."""
        share = 1.0
        while True:
            try:
                return super()._reply(question, self.shown(turns, share))
            except LLMRequestError as exc:
                if "context" not in str(exc) or share < 0.5:
                    raise
                share *= 0.8

    def _checked(self, turns: Sequence[Episode], shown: Sequence[Episode], context: Sequence[Episode]) -> list[Episode]:
        """The baseline's check reads what it was shown (``turns`` is the whole conversation)."""
        return [*shown, *context]

    def shown(self, turns: Sequence[Episode], share: float = 1.0) -> list[Episode]:
        budget = self.context_tokens * CHARS_PER_TOKEN * share
        kept: list[Episode] = []
        for e in sorted(turns, key=lambda e: (e.step, e.id), reverse=True):
            budget -= len(turn_block(e)) + 1
            if budget < 0:
                break
            kept.append(e)
        return kept
