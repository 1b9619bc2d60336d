"""The extractor contract: text in, (subject, relation, object) triples out."""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from ..model import Triple

RawTriple = tuple[str, str, str]
# A subject or object of more words is a clause, not a name (the LLM prompts ask for as many at most).
MAX_NAME_WORDS = 7


def well_formed(item) -> bool:
    """Whether an extractor's item is three strings (anything else is dropped, and counted)."""
    return len(item) == 3 and isinstance(item[0], str) and isinstance(item[1], str) \
        and isinstance(item[2], str)


@runtime_checkable
class Extractor(Protocol):
    name: str

    def extract(self, text: str, context: Sequence[Triple] = ()) -> list[RawTriple]:
        """Triples stated by ``text``. ``context``: known triples, shown as naming examples.

        Returns [] rather than junk; names need not be normalised (Memory normalises them).
        """


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at a paragraph break, else a sentence
    end, else a space where one lies in the second half of a piece (parsers cap their input length:
    spaCy refuses texts over ``nlp.max_length``)."""
    pieces = []
    while len(text) > limit:
        window = text[:limit]
        cut = max((window.rfind(sep) + len(sep) for sep in ("\n\n", ". ", "\n", " ")
                   if window.rfind(sep) >= limit // 2), default=limit)
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]
