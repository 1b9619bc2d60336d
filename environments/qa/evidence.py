"""Evidence coverage: does a passage say what an evidence statement says?

Some benchmarks (GraphRAG-Bench) give, per question, evidence *statements* written by an LLM
rather than gold passages, and their gold chunks are only one chunking's approximation. Scoring
against the statements lets any chunking be compared fairly: a passage covers a statement when it
holds at least ``threshold`` (0.70) of the statement's content words, each weighted by its IDF over
the corpus being evaluated, so rare words (a drug, a condition) must be there and common ones
matter little. The statements are paraphrases (few occur verbatim), hence word overlap, not string
matching.

Words are compared as written, not stemmed, and single characters do not count. That is how
GraphRAG-Bench's medical gold chunks were labelled: with these rules 99.5% of its gold chunks best
cover one of their question's statements (88% with Porter stems). Its 0.70 threshold was checked by
hand at that level, and stems make two thirds more (statement, chunk) pairs reach it, among them
chunks that lack the statement's key word ("breast" in "Systemic therapies for breast cancer
include chemotherapy" once "therapies" meets "therapy"). A lone character (the "s" of a possessive,
the "T" of "T-ALL", the "4" of "stage 4") says too little on its own to be a content word.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from graphmem.corpus import Passage

DEFAULT_THRESHOLD = 0.70

_TOKEN = re.compile(r"[0-9a-z]{2,}")
# Function words only: IDF already makes frequent content words cheap, and a word listed here can
# never count (negations and number words stay content: "not contagious", "two doses").
STOP_WORDS = frozenset(
    "a about above after again against all also am an and any are as at be because been before "
    "being below between both but by can could did do does doing down during each either else "
    "for from further had has have having he her here hers herself him himself his how i if in "
    "into is it its itself just may me might more most must my myself nor of off on once only or "
    "other our ours ourselves out over own same shall she should so some such than that the their "
    "theirs them themselves then there these they this those through thus to too under until up "
    "upon us very was we were what when where whether which while who whom whose why will with "
    "within without would you your yours yourself yourselves".split())


def content_words(text: str) -> frozenset[str]:
    """A text's lower-cased words and numbers of two characters or more, function words dropped."""
    return frozenset(t for t in _TOKEN.findall(text.lower()) if t not in STOP_WORDS)


class EvidenceCoverage:
    """Coverage of evidence statements by the passages of one corpus (their texts; a title such as
    ``Medical#12`` is an id, not something the passage says)."""

    def __init__(self, passages: Iterable[Passage], threshold: float = DEFAULT_THRESHOLD):
        self.threshold = threshold
        self._words = {p.id: content_words(p.text) for p in passages}
        n = len(self._words)
        df = Counter(w for words in self._words.values() for w in words)
        # smoothed (as if one more passage held every word): no zero or negative weights, and a
        # word no passage holds weighs the most
        self._idf = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items()}
        self._unseen_idf = math.log(1 + n) + 1
        rows: dict[str, list[int]] = {}
        for i, words in enumerate(self._words.values()):
            for w in words:
                rows.setdefault(w, []).append(i)
        self._postings = {w: np.array(r) for w, r in rows.items()}  # word -> the passages holding it

    def idf(self, word: str) -> float:
        return self._idf.get(word, self._unseen_idf)

    def coverage(self, statement: str, passage_id: str) -> float:
        """The IDF-weighted share of the statement's content words that the passage holds (1.0 for
        a statement with none: nothing is missing)."""
        wanted, total = self._weighed(statement)
        if not total:
            return 1.0
        held = self._words.get(passage_id, frozenset())
        return sum(self.idf(w) for w in wanted if w in held) / total

    def coverable(self, statement: str) -> bool:
        """Whether some passage of the corpus covers ``statement``. Recall reaches only these, so
        their share is its ceiling, and that changes with the chunking (a statement split across
        two chunks may be covered by neither)."""
        wanted, total = self._weighed(statement)
        if not total:
            return True
        if not self._words:
            return False
        held = np.zeros(len(self._words))
        for w in wanted:  # the same additions in the same order as coverage(): the same sums
            if w in self._postings:
                held[self._postings[w]] += self.idf(w)
        return bool(held.max() / total >= self.threshold)

    def _weighed(self, statement: str) -> tuple[list[str], float]:
        """The statement's content words in one summing order (all words held gives exactly 1.0)
        and their total weight."""
        wanted = sorted(content_words(statement))
        return wanted, sum(self.idf(w) for w in wanted)

    def covers(self, statement: str, passage_id: str) -> bool:
        return self.coverage(statement, passage_id) >= self.threshold

    def first_covering(self, statement: str, ranked: Sequence[str]) -> int | None:
        """The rank (0-based) of the first passage of ``ranked`` that covers ``statement``."""
        return next((i for i, pid in enumerate(ranked) if self.covers(statement, pid)), None)

    def recall_at_k(self, statements: Sequence[str], ranked: Sequence[str], k: int) -> float:
        """The share of ``statements`` covered by at least one of the first k of ``ranked`` (1.0
        when there are none, like passage recall with no gold)."""
        if not statements:
            return 1.0
        return sum(self.first_covering(s, ranked[:k]) is not None for s in statements) / len(statements)
