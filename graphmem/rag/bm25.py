"""Lexical baseline: Okapi BM25 from `rank-bm25` over a simple deterministic tokenizer.

rank-bm25 fits the corpus statistics (idf with its epsilon floor, lengths); its per-query scoring
walks every document's dict for every query token (~30 ms on 1,890 passages), so the fitted weights
are laid out once as a sparse term matrix and a query is one sparse product (same scores).
"""
from __future__ import annotations

import functools
import re
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from rank_bm25 import BM25Okapi

from ..documents.chunking import sentence_spans
from .base import PassageLike, passage_text, top_k

_TOKEN = re.compile(r"[0-9a-z]+")
# A short fixed list: enough to stop "the"/"of" from dominating, small enough to be obvious.
_STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have he her his how in is it its of on "
    "or she that the their there they this to was were what when where which who whom whose why "
    "with".split()
)


def tokenize(text: str, stem: bool = False) -> list[str]:
    """Lower-case words and numbers, stopwords dropped; ``stem``: each word's Porter stem, so
    "researching" meets "research" (short texts such as chat turns rarely repeat a word's form)."""
    words = [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]
    return [_stem(w) for w in words] if stem else words


@functools.lru_cache(maxsize=131072)
def _stem(word: str) -> str:
    return _stemmer().stem(word)


@functools.cache
def _stemmer():
    from nltk.stem import PorterStemmer

    return PorterStemmer()


class BM25Retriever:
    name = "bm25"

    def __init__(self, k1: float = 1.5, b: float = 0.75, stem: bool = False, sentences: bool = False):
        """``sentences``: also index which words each sentence holds (``sentence_coverage``)."""
        self.k1, self.b = k1, b
        self.stem = stem
        self.sentences = sentences
        self._docs: dict[str, list[str]] = {}
        self._sentence_words: dict[str, list[list[str]]] = {}  # passage id -> each sentence's words
        self._ids: list[str] = []
        self._weights: sp.csr_matrix | None = None  # term x document BM25 weights
        self._terms: dict[str, int] = {}
        self._held: sp.csr_matrix | None = None  # term x document: 1 where the document holds the term
        self._idf = np.zeros(0)  # log(documents / documents holding the term), per term row
        self._sentence_held: sp.csr_matrix | None = None  # term x sentence: 1 where it holds the term
        self._first_sentence = np.zeros(0, dtype=np.int64)  # per passage, its first sentence's column

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, passages: Sequence[PassageLike]) -> None:
        for p in passages:
            text = passage_text(p)
            if self.sentences:
                # Words never span a sentence break, so the passage's words are its sentences'.
                words = self._sentence_words[p.id] = [tokenize(s, self.stem) for s in split_sentences(text)]
                self._docs[p.id] = [w for sentence in words for w in sentence]
            else:
                self._docs[p.id] = tokenize(text, self.stem)
        self._weights = None  # corpus statistics changed; rebuilt lazily (cheap: one pass)

    def remove(self, passage_ids: Sequence[str]) -> None:
        for pid in passage_ids:
            self._docs.pop(pid, None)
            self._sentence_words.pop(pid, None)
        self._weights = None

    def retrieve(self, question: str, k: int) -> list[tuple[str, float]]:
        if not self._docs:
            return []
        return top_k(*self.scores(question), k)

    def scores(self, question: str) -> tuple[list[str], np.ndarray]:
        """Every passage id (sorted) with its BM25 score for ``question``."""
        bm25_weights = self._fitted()
        counts: dict[int, int] = {}
        for tok in tokenize(question, self.stem):  # a repeated query word counts again, as in rank-bm25
            row = self._terms.get(tok)
            if row is not None:
                counts[row] = counts.get(row, 0) + 1
        if not counts:
            return self._ids, np.zeros(len(self._ids))
        rows = np.fromiter(counts, dtype=np.int64)
        weights = np.fromiter(counts.values(), dtype=np.float64)
        return self._ids, np.asarray(bm25_weights[rows].T @ weights).ravel()

    def coverage(self, question: str) -> tuple[list[str], np.ndarray]:
        """Every passage id (sorted) with the share of the question's distinct words (those in
        the corpus) that it holds, each word weighted by its IDF: a passage holding all of the
        question's rare words scores 1 however often it repeats them or however long it is, where
        BM25 rewards repeating one of them."""
        self._fitted()
        rows, weights = self._question_words(question)
        if not len(rows):
            return self._ids, np.zeros(len(self._ids))
        assert self._held is not None  # _fit sets it with the weights
        return self._ids, np.asarray(self._held[rows].T @ weights).ravel()

    def sentence_coverage(self, question: str) -> tuple[list[str], np.ndarray]:
        """Every passage id (sorted) with the ``coverage`` of its best sentence: a long passage
        that holds the question's words in one sentence says more than one that scatters them.
        Needs ``sentences``."""
        if not self.sentences:
            raise ValueError("sentence_coverage needs a BM25Retriever built with sentences=True")
        self._fitted()
        rows, weights = self._question_words(question)
        if not len(rows):
            return self._ids, np.zeros(len(self._ids))
        assert self._sentence_held is not None  # _fit sets it with the weights
        per_sentence = np.asarray(self._sentence_held[rows].T @ weights).ravel()
        return self._ids, np.maximum.reduceat(per_sentence, self._first_sentence)

    def _question_words(self, question: str) -> tuple[list[int], np.ndarray]:
        """The term rows of the question's distinct words in the corpus, with their IDF weights
        as shares of the whole (no rows where none weighs anything)."""
        rows = sorted({row for tok in tokenize(question, self.stem) if (row := self._terms.get(tok)) is not None})
        weights = self._idf[rows]
        if not rows or weights.sum() <= 0:
            return [], weights[:0]
        return rows, weights / weights.sum()

    def _fitted(self) -> sp.csr_matrix:
        """The term x document BM25 weights, fitted afresh after the passages changed."""
        if self._weights is None:
            self._fit()
        assert self._weights is not None  # _fit sets it
        return self._weights

    def _fit(self) -> None:
        self._ids = sorted(self._docs)
        # rank-bm25 divides by the mean length; an all-empty corpus would divide by zero.
        fitted = BM25Okapi([self._docs[i] or [""] for i in self._ids], k1=self.k1, b=self.b)
        self._terms = {t: n for n, t in enumerate(sorted(fitted.idf))}
        rows, cols, vals = [], [], []
        norm = self.k1 * (1 - self.b + self.b * np.asarray(fitted.doc_len) / fitted.avgdl)
        for doc, freqs in enumerate(fitted.doc_freqs):
            for tok, tf in freqs.items():
                rows.append(self._terms[tok])
                cols.append(doc)
                vals.append(fitted.idf[tok] * tf * (self.k1 + 1) / (tf + norm[doc]))
        self._weights = sp.csr_matrix((vals, (rows, cols)), shape=(len(self._terms), len(self._ids)))
        # BM25's own IDF is 0 for a word in half the documents; coverage weighs every word held.
        self._held = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=self._weights.shape)
        self._idf = np.log(len(self._ids) / np.maximum(np.bincount(rows, minlength=len(self._terms)), 1))
        if self.sentences:
            self._fit_sentences()

    def _fit_sentences(self) -> None:
        """Term x sentence: 1 where the sentence holds the term, sentences in passage id order;
        a passage without any counts one empty sentence, so that each has a first."""
        counts = [len(self._sentence_words[pid]) or 1 for pid in self._ids]
        self._first_sentence = np.cumsum([0, *counts[:-1]])
        rows, cols = [], []
        for pid, first in zip(self._ids, self._first_sentence):
            for n, sentence in enumerate(self._sentence_words[pid]):
                for tok in set(sentence):
                    rows.append(self._terms[tok])
                    cols.append(first + n)
        self._sentence_held = sp.csr_matrix((np.ones(len(rows)), (rows, cols)),
                                            shape=(len(self._terms), sum(counts)))


def split_sentences(text: str) -> list[str]:
    """``text``'s sentences: its lines, each cut where the chunker cuts sentences."""
    return [line[start:end] for line in text.splitlines() for start, end in sentence_spans(line)]
