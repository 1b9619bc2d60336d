"""Load multi-hop QA question files and passage corpora into one common form.

A dataset folder holds ``questions.json`` and ``corpus.json``. Supported shapes:
- questions: MuSiQue (``paragraphs`` with ``is_supporting``, ``answer_aliases``), HotpotQA and
  2WikiMultihopQA (``supporting_facts`` = [title, sentence index] pairs, ``context`` = [title,
  sentences] pairs); GraphRAG-Bench's shape is MuSiQue's plus ``question_type`` and ``evidence``
  (statements a passage should make, scored by :mod:`.evidence`), kept by any shape that has them;
- corpus: any shape ``graphmem build`` reads (a list of ``{"title", "text"}``, a dict ``title ->
  sentences``, ...), read by graphmem's one corpus reader, so ``build`` gives the same passage ids.

Passage ids are stable hashes of (title, text): MuSiQue repeats titles with different texts, so the
title alone is not an identity. Gold passages are resolved against the corpus by title where the
title is unique there, by (title, text) otherwise; gold passages absent from the corpus are counted
and logged (they stay in the gold set, so recall is not flattered).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from graphmem.corpus import CorpusError, Passage, join_sentences, load_corpus
from graphmem.errors import GraphmemError
from graphmem.util.jsonfile import read_json
from graphmem.model import passage_id

log = logging.getLogger(__name__)


class DatasetError(GraphmemError, ValueError):
    """A QA data folder that cannot be read; the message names the file and what is wrong."""


@dataclass
class Question:
    id: str
    question: str
    answer: str
    aliases: list[str] = field(default_factory=list)
    gold_ids: list[str] = field(default_factory=list)
    gold_titles: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    question_type: str = ""

    @property
    def answers(self) -> list[str]:
        """The answer first, then aliases, without repeats."""
        return list(dict.fromkeys([self.answer, *self.aliases]))


@dataclass
class QADataset:
    name: str
    questions: list[Question]
    passages: list[Passage]
    missing_gold: int = 0

    def passage(self, pid: str) -> Passage | None:
        if not hasattr(self, "_by_id"):
            self._by_id = {p.id: p for p in self.passages}
        return self._by_id.get(pid)


def _require(path: str) -> None:
    if not os.path.exists(path):
        raise DatasetError(f"{path} not found: a QA data folder holds questions.json and corpus.json")


def _read_json(path: str):
    _require(path)
    return read_json(path, DatasetError)


def _load_corpus(path: str) -> list[Passage]:
    _require(path)
    try:
        return load_corpus(path)
    except CorpusError as exc:
        raise DatasetError(str(exc)) from None


class _GoldResolver:
    """Maps a gold (title, text) to a corpus passage id; counts the ones it cannot find."""

    def __init__(self, passages: list[Passage]):
        self.ids = {p.id for p in passages}
        by_title: dict[str, list[str]] = {}
        for p in passages:
            by_title.setdefault(p.title, []).append(p.id)
        self.by_title = by_title
        self.missing = 0

    def resolve(self, title: str, text: str | None) -> str:
        if text is not None:
            pid = passage_id(title, text)
            if pid in self.ids:
                return pid
        candidates = self.by_title.get(title, [])
        if len(candidates) == 1:
            return candidates[0]
        self.missing += 1
        return passage_id(title, text or "")


def _sentences(value, where: str) -> list[str]:
    """A passage's sentences: a list of strings, or one string."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return value
    raise DatasetError(f"{where}: expected a string or a list of sentences")


def _musique_question(q: dict, gold: _GoldResolver) -> Question:
    supporting = [p for p in q["paragraphs"] if p.get("is_supporting")]
    return Question(
        id=str(q["id"]),
        question=q["question"],
        answer=str(q.get("answer", "")),
        aliases=[str(a) for a in q.get("answer_aliases", [])],
        gold_ids=list(dict.fromkeys(gold.resolve(p["title"], p["paragraph_text"])
                                    for p in supporting)),
        gold_titles=list(dict.fromkeys(p["title"] for p in supporting)),
    )


def _supporting_facts_question(q: dict, gold: _GoldResolver) -> Question:
    titles = list(dict.fromkeys(t for t, _ in q["supporting_facts"]))
    context = {t: join_sentences(_sentences(s, f"context {t!r}")) for t, s in q.get("context", [])}
    qid = q.get("_id") or q.get("id") or passage_id("question", q["question"])
    return Question(
        id=str(qid),
        question=q["question"],
        answer=str(q.get("answer", "")),
        aliases=[str(a) for a in q.get("answer_aliases", q.get("aliases", []))],
        gold_ids=list(dict.fromkeys(gold.resolve(t, context.get(t)) for t in titles)),
        gold_titles=titles,
    )


def _question(i: int, q: object, gold: _GoldResolver, folder: str) -> Question:
    """One question of either shape; a malformed one is a DatasetError naming it."""
    if not isinstance(q, dict) or not ("paragraphs" in q or "supporting_facts" in q):
        raise DatasetError(f"question {i} in {folder} is not an object with 'paragraphs' (MuSiQue) or "
                           f"'supporting_facts' (HotpotQA/2Wiki)")
    try:
        out = _musique_question(q, gold) if "paragraphs" in q else _supporting_facts_question(q, gold)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, DatasetError):
            raise
        problem = f"missing {exc}" if isinstance(exc, KeyError) else "a field has the wrong shape"
        raise DatasetError(f"question {i} in {folder}: {problem} (see the MuSiQue / HotpotQA formats)") from None
    if not isinstance(out.question, str) or not out.question.strip():
        raise DatasetError(f"question {i} in {folder} has no question text")
    evidence = q.get("evidence", [])
    if not isinstance(evidence, list) or not all(isinstance(s, str) for s in evidence):
        raise DatasetError(f"question {i} in {folder}: 'evidence' must be a list of statements (strings)")
    out.evidence = evidence
    out.question_type = str(q.get("question_type", ""))
    return out


def load_dataset(folder: str, limit: int | None = None, corpus: str | None = None) -> QADataset:
    """Questions (first ``limit``) and the whole corpus of a dataset folder. ``corpus``: another
    corpus than the folder's corpus.json (documents chunked one's own way, any form ``build``
    reads); gold passages then rarely match, and evidence statements score it instead."""
    raw_q = _read_json(os.path.join(folder, "questions.json"))
    corpus = corpus or os.path.join(folder, "corpus.json")
    passages = _load_corpus(corpus)
    if not isinstance(raw_q, list):
        raise DatasetError(f"{folder}/questions.json must be a list of questions")
    gold = _GoldResolver(passages)
    questions = [_question(i, q, gold, folder) for i, q in enumerate(raw_q[:limit] if limit else raw_q)]
    if gold.missing:
        log.warning("%s: %d gold passages are not in %s", folder, gold.missing, corpus)
    name = os.path.basename(os.path.normpath(folder))
    return QADataset(name, questions, passages, missing_gold=gold.missing)
