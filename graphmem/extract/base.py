"""The extractor contract: text in, (subject, relation, object) triples out."""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from ..model import Triple

RawTriple = tuple[str, str, str]


@runtime_checkable
class Extractor(Protocol):
    name: str

    def extract(self, text: str, context: Sequence[Triple] = ()) -> list[RawTriple]:
        """Triples stated by ``text``. ``context``: known triples, shown as naming examples.

        Returns [] rather than junk; names need not be normalised (Memory normalises them).
        """
