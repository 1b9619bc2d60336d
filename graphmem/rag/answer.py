"""Answer a question from retrieved passages with a chat model (one call, JSON reply).

Two replies: ``Answerer.answer`` gives the answer text alone (eval-qa scores it; its prompt is
unchanged so earlier runs' scores and cached replies still hold), and ``Answerer.cite`` gives the
answer with the numbers of the passages it comes from, or says the passages do not tell
(``graphmem ask``). Where the passages are a conversation's turns (meta ``speaker``), an answer
about one person that the turns give to someone else is refused as the passages not telling
(``graphmem.rag.attribution``).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Sequence

from graphmem.errors import GraphmemError
from graphmem.llm.base import BadReply
from graphmem.llm.jsonout import JSONReplyError, json_in_reply
from graphmem.rag.attribution import attributed

log = logging.getLogger(__name__)

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}
SYSTEM = (
    "You answer multi-hop questions from the given passages. Chain the facts across passages. "
    "Reply with JSON {\"answer\": \"...\"}: the shortest span that answers the question (a name, "
    "date, number, place or yes/no), no explanation."
)

# The cited reply: kept small for a 1.5B model. Integer items let constrained decoding (llama.cpp's
# grammar, a server's json_schema) write only numbers; backends that cannot enforce it are parsed
# leniently (``cited_numbers``).
CITE_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"},
                   "sources": {"type": "array", "items": {"type": "integer"}}},
    "required": ["answer", "sources"],
}
UNKNOWN = "unknown"
CITE_SYSTEM = (
    "Answer the question from the numbered passages only. Reply with JSON "
    "{\"answer\": \"...\", \"sources\": [...]}: a short answer and the numbers of the passages it "
    f"comes from. If the passages do not say, answer \"{UNKNOWN}\" with no sources."
)
# Replies meaning "the passages do not say": the instructed word and what small models write instead.
_UNKNOWN_REPLIES = {UNKNOWN, "i dont know", "i do not know", "not mentioned", "not known", "n/a"}
_NUMBER = re.compile(r"\s*\[?\s*(\d+)\s*\]?\s*")
LOG_EVERY = 20  # a repeated parsing problem is logged the first time and every LOG_EVERY-th after
ANSWER_TOKENS = 64
CITE_TOKENS = 160  # a sentence and a few numbers: a reply cut short is not JSON


@dataclass(frozen=True)
class CitedAnswer:
    """``answer``: "" when the passages do not say (or the model gave no usable reply: ``failed``;
    or its answer was about one person of a conversation and the best turns give it to another:
    ``unattributed``). ``sources``: the ids of the passages cited, in the model's order, each once."""

    answer: str
    sources: tuple[str, ...] = ()
    prompt_tokens: int = 0
    failed: bool = False
    unattributed: bool = False

    @property
    def known(self) -> bool:
        return bool(self.answer)


def passage_blocks(passages: Sequence) -> str:
    """Passages as numbered, titled blocks ([1] first)."""
    return "\n\n".join(f"[{i}] {p.title}\n{p.text.strip()}" for i, p in enumerate(passages, 1))


def build_messages(question: str, passages: Sequence) -> list[dict]:
    """Passages as numbered, titled blocks, then the question."""
    user = "Passages:\n" + passage_blocks(passages) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def build_cite_messages(question: str, passages: Sequence, facts: Sequence = ()) -> list[dict]:
    """The numbered passages, the linked facts (each with the numbers of the shown passages that
    state it, so the model can cite a fact's passage), then the question."""
    user = "Passages:\n" + passage_blocks(passages)
    if facts:
        number = {p.id: i for i, p in enumerate(passages, 1)}
        lines = []
        for fact in facts:
            cited = sorted({number[s] for s in fact.sources if s in number})
            lines.append(f"- {fact.text}" + "".join(f" [{n}]" for n in cited))
        user += "\n\nFacts:\n" + "\n".join(lines)
    user += f"\n\nQuestion: {question}"
    return [{"role": "system", "content": CITE_SYSTEM}, {"role": "user", "content": user}]


def cited_number(value: object, shown: int) -> int | None:
    """A source entry as a passage number 1..shown: an integer, or a string such as "2" or "[2]";
    None for anything else."""
    if isinstance(value, bool):  # JSON true is no passage number
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and (m := _NUMBER.fullmatch(value)):
        value = int(m.group(1))
    return value if isinstance(value, int) and 1 <= value <= shown else None


def is_unknown(answer: str) -> bool:
    """Whether a reply says the passages do not tell (an empty answer says nothing either)."""
    said = re.sub(r"[^0-9a-z/ ]", "", answer.lower()).strip()
    return not said or said in _UNKNOWN_REPLIES


class Answerer:
    """``llm`` is any chat model with ``chat(messages, schema=..., max_tokens=...)`` returning a
    result whose ``data`` is the parsed JSON (graphmem.llm's ChatModel).

    Counters (a long run reads them at the end): ``failures`` (no usable reply: an empty answer),
    ``dropped_sources`` (source entries that name no shown passage), ``missing_sources`` (cited
    replies without a source list: answers with no citations), ``unattributed`` (answers about one
    person of a conversation that the best turns give to another: refused)."""

    def __init__(self, llm, top_k: int = 5, max_tokens: int | None = None):
        """``max_tokens``: the reply's budget (default ANSWER_TOKENS for ``answer``, CITE_TOKENS
        for ``cite``)."""
        self.llm = llm
        self.top_k = top_k
        self.max_tokens = max_tokens
        self.failures = 0
        self.dropped_sources = 0
        self.missing_sources = 0
        self.unattributed = 0

    def answer(self, question: str, passages: Sequence, context: Sequence = ()) -> str:
        """The answer from the first ``top_k`` passages. ``context``: passages ranked next (a
        conversation's next-best turns, ``attribution.CHECKED_TURNS``), never shown: the speaker
        check reads them with those shown."""
        messages = build_messages(question, passages[: self.top_k])
        try:
            reply = self.llm.chat(messages, schema=SCHEMA, max_tokens=self.max_tokens or ANSWER_TOKENS)
        except GraphmemError as exc:  # a bad reply or a failed request must not end a long evaluation
            self._failed(exc)
            return ""
        data = reply.data if isinstance(reply.data, dict) else {}
        answer = str(data.get("answer", "")).strip()
        return answer if self._attributed(question, answer, [*passages[: self.top_k], *context]) else UNKNOWN

    def cite(self, question: str, passages: Sequence, facts: Sequence = (), context: Sequence = ()) -> CitedAnswer:
        """The answer from the first ``top_k`` passages (and ``facts``, triples with ``text`` and
        ``sources``) with the passages it cites; ``context`` as for ``answer``. A reply that breaks
        the schema (possible where the backend cannot enforce it) is still read when it holds a
        string answer; such a reply is not cached by the LLM layer, so a ``--replay`` run counts it
        as a failure."""
        shown = list(passages[: self.top_k])
        messages = build_cite_messages(question, shown, facts)
        problem: object = "the reply holds no answer"
        try:
            reply = self.llm.chat(messages, schema=CITE_SCHEMA, max_tokens=self.max_tokens or CITE_TOKENS)
            data, tokens = reply.data, reply.prompt_tokens
        except BadReply as exc:
            data, tokens, problem = _json_or_none(exc.result.text), exc.result.prompt_tokens, exc
        except GraphmemError as exc:  # a failed request must not end a long evaluation
            self._failed(exc)
            return CitedAnswer("", failed=True)
        if not (isinstance(data, dict) and isinstance(data.get("answer"), str)):
            self._failed(problem)
            return CitedAnswer("", (), tokens, failed=True)
        answer = data["answer"].strip()
        if is_unknown(answer):
            return CitedAnswer("", (), tokens)
        if not self._attributed(question, answer, [*shown, *context]):
            return CitedAnswer("", (), tokens, unattributed=True)
        return CitedAnswer(answer, self._sources(data.get("sources"), shown), tokens)

    def _attributed(self, question: str, answer: str, passages: Sequence) -> bool:
        """``attribution.attributed`` over ``passages``, counted and logged where it refuses."""
        if attributed(question, answer, passages):
            return True
        self.unattributed += 1
        log.info("%r: the best turns give %r to another person; answering that they do not say", question, answer)
        return False

    def _sources(self, given: object, shown: Sequence) -> tuple[str, ...]:
        if not isinstance(given, list):
            self.missing_sources += 1
            _log_now(self.missing_sources - 1, self.missing_sources,
                     "%d cited replies had no list of sources (their answers cite nothing)")
            return ()
        numbers = [cited_number(v, len(shown)) for v in given]
        before, self.dropped_sources = self.dropped_sources, self.dropped_sources + numbers.count(None)
        _log_now(before, self.dropped_sources, "%d source entries named no shown passage (dropped)")
        return tuple(dict.fromkeys(shown[n - 1].id for n in numbers if n is not None))

    def _failed(self, exc: object) -> None:
        self.failures += 1
        log.warning("answering failed (%d so far), counted as an empty answer: %s", self.failures, exc)


def _json_or_none(text: str) -> object:
    try:
        return json_in_reply(text)
    except JSONReplyError:
        return None


def _log_now(before: int, after: int, message: str) -> None:
    """Log a counted problem the first time and each time its count passes a multiple of LOG_EVERY."""
    if after > before and (before == 0 or before // LOG_EVERY != after // LOG_EVERY):
        log.warning(message + " so far", after)
