"""Who said it: whether an answer about one person of a conversation comes from that person.

A memory of chats holds its turns as passages whose meta names their ``speaker`` (and
``listener``). A question about one of them ("What did Caroline realize after her charity race?")
is often answered from the other one's turns that look alike (Melanie's race): in LoCoMo's dev
conversations, where a question names one person, its evidence turns are all that person's in 641
of 682 questions, and its adversarial questions are written about the wrong person. The readers of
turns (eval-conv's, ``graphmem ask --answer`` and the MCP ``ask`` on a conversation) use
``attributed`` to refuse such answers rather than give one person's life to the other.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

from ..model import Episode
from .bm25 import tokenize

# The speaker check reads this many of the memory's best turns for a question, not only those
# shown to the reader: the turn that gives an answer to the other person often ranks below what a
# prompt holds. On LoCoMo's dev questions, the tempting answers of adversarial questions are
# refused 86 times in 237 with the best 50 turns against 70 with the turns shown, and the gold
# answers of categories 1-4 9 times in 762 either way.
CHECKED_TURNS = 50
# Answers that say the turns do not tell are left alone: there is no one to attribute them to.
_REFUSAL = re.compile(r"\bnot (mentioned|known|stated|said)\b|\bunknown\b|\bdo(n't| not) know\b", re.I)


def _meta(e: Episode) -> dict:
    """A passage's meta (a corpus passage may have none)."""
    return getattr(e, "meta", None) or {}


def spoken(e: Episode) -> tuple[str, str]:
    """A turn's "Speaker: " head and the words said after it ("" and the text where it has none)."""
    said = e.text.strip()
    speaker = f"{_meta(e)['speaker']}: " if _meta(e).get("speaker") else ""
    return (speaker, said[len(speaker):]) if speaker and said.startswith(speaker) else ("", said)


def names(person: str, text: str) -> bool:
    """Whether ``text`` names ``person`` (a whole word, any case)."""
    return re.search(rf"\b{re.escape(person)}\b", text, re.IGNORECASE) is not None


def asked_about(question: str, turns: Sequence[Episode]) -> str | None:
    """The one person of the conversation (a speaker or listener of ``turns``) that the question
    names, or None where it names none or both."""
    return named_person(question, {p for e in turns for p in (_meta(e).get("speaker"), _meta(e).get("listener")) if p})


def named_person(question: str, people: Iterable[str]) -> str | None:
    """The one of ``people`` that the question names, or None where it names none or several. A
    person is named by their whole name, or by its first word where no one else's begins with it
    ("Marta" for "Marta Quill")."""
    people = sorted(people)
    firsts = Counter(p.split()[0].lower() for p in people if p.split())

    def called(p: str) -> bool:
        first = p.split()[0] if p.split() else ""
        return names(p, question) or (first != p and firsts[first.lower()] == 1 and names(first, question))

    named = [p for p in people if called(p)]
    return named[0] if len(named) == 1 else None


def attributed(question: str, answer: str, turns: Sequence[Episode]) -> bool:
    """Whether an answer about the one person the question names comes from that person: a turn
    sharing the most of the answer's words was said by them or names them. False only where the
    best such turns are all someone else's talk about something else ("What did Caroline realize
    after her charity race?" answered from Melanie's race): the answer belongs to the other
    speaker. True where no person or no turn's words bear on it (nothing to judge by), and for an
    answer that says the turns do not tell."""
    person = asked_about(question, turns)
    words = set(tokenize(answer, stem=True)) - set(tokenize(person or "", stem=True))
    if person is None or not words or _REFUSAL.search(answer):
        return True
    best, sources = 0, list[Episode]()
    for e in turns:
        shared = len(words & set(tokenize(spoken(e)[1], stem=True)))
        if shared and shared > best:
            best, sources = shared, [e]
        elif shared and shared == best:
            sources.append(e)
    return not sources or any(_meta(e).get("speaker") == person or names(person, spoken(e)[1]) for e in sources)
