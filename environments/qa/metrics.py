"""QA metrics: SQuAD-normalised exact match and token F1 (max over aliases), passage Recall@k."""
from __future__ import annotations

import re
import string
from collections import Counter
from typing import Sequence

_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, drop punctuation and articles, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _f1(prediction: str, truth: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    return max((float(normalize_answer(prediction) == normalize_answer(a)) for a in answers),
               default=0.0)


def f1_score(prediction: str, answers: Sequence[str]) -> float:
    return max((_f1(prediction, a) for a in answers), default=0.0)


def recall_at_k(retrieved: Sequence[str], gold: Sequence[str], k: int) -> float:
    """Fraction of gold passages among the first k retrieved (1.0 when there is no gold)."""
    gold_set = set(gold)
    if not gold_set:
        return 1.0
    return len(gold_set.intersection(retrieved[:k])) / len(gold_set)


def mean_recall_at_k(runs: Sequence[tuple[Sequence[str], Sequence[str]]], k: int) -> float:
    """Mean Recall@k over (retrieved, gold) pairs."""
    if not runs:
        return 0.0
    return sum(recall_at_k(r, g, k) for r, g in runs) / len(runs)
