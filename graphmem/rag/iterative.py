"""Iterative retrieval-generation (Iter-RetGen, Shao et al. 2023): retrieve with the question,
draft an answer, then retrieve again with the question plus that draft, and answer again.

A draft that names the bridge entity ("... born in Quenthaven") lets the next retrieval find the
passage about it, which the question alone does not mention.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence


@dataclass
class Round:
    query: str
    ranked: list[str]   # passage ids, best first
    answer: str


def next_query(question: str, draft: str) -> str:
    return f"{question} {draft}".strip() if draft else question


def iter_retgen(question: str, retrieve: Callable[[str], Sequence[str]],
                answer: Callable[[str, Sequence[str]], str] | None, iterations: int = 1) -> list[Round]:
    """One ``Round`` per iteration. ``retrieve(query)``: ranked passage ids; ``answer(question,
    ranked)``: the model's answer from those passages (None: retrieval only, one round)."""
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    rounds: list[Round] = []
    query = question
    for _ in range(iterations if answer is not None else 1):
        ranked = list(retrieve(query))
        draft = answer(question, ranked) if answer is not None else ""
        rounds.append(Round(query, ranked, draft))
        if rounds[-1].answer == "" or next_query(question, draft) == query:
            break  # nothing new to search with: later rounds would repeat this one
        query = next_query(question, draft)
    return rounds
