"""LoCoMo's answer scores, as its evaluation code (``task_eval/evaluation.py``) computes them.

Normalisation: lower case, commas and punctuation dropped, "a", "an", "the" and "and" dropped, each
word Porter-stemmed; then token F1. By category: multi-hop (1) answers list several items, so each
comma-separated gold item takes its best-matching predicted item and the F1s are averaged; open-domain
(3) answers are scored against their first ";" alternative; an adversarial (5) question scores 1 when
the answer says "no information available" or "not mentioned", else 0.
"""
from __future__ import annotations

import re
import string
from collections import Counter
from functools import lru_cache

from nltk.stem import PorterStemmer

_STEMMER = PorterStemmer()
_DROPPED = re.compile(r"\b(a|an|the|and)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
UNANSWERABLE = ("no information available", "not mentioned")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _STEMMER.stem(word)


def normalized_tokens(text: str) -> list[str]:
    text = text.replace(",", "").lower().translate(_PUNCT)
    return [_stem(w) for w in _DROPPED.sub(" ", text).split()]


def token_f1(prediction: str, truth: str) -> float:
    pred, gold = normalized_tokens(prediction), normalized_tokens(truth)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def locomo_f1(prediction: str, answer: str, category: int) -> float:
    """The score LoCoMo gives ``prediction`` for a question of ``category`` answered ``answer``."""
    if category == 5:
        return float(any(phrase in prediction.lower() for phrase in UNANSWERABLE))
    if category == 3:
        answer = answer.split(";")[0].strip()
    if category == 1:
        predicted = [p.strip() for p in prediction.split(",")]
        items = [g.strip() for g in answer.split(",")]
        return sum(max(token_f1(p, g) for p in predicted) for g in items) / len(items)
    return token_f1(prediction, answer)
