"""Stand-ins for the two models, for tests of the logic around them (memory, update, retrieval,
stores): no model to load, the same answer every run, and a result a reader can predict.

Tests of the models themselves, or of what the engine makes of real text end to end, use the real
ones (and are marked ``slow``).
"""
from __future__ import annotations

import hashlib
import re
from typing import Mapping, Sequence

import numpy as np

from graphmem.extract.base import RawTriple
from graphmem.futures import resolved
from graphmem.model import Triple

WORD = re.compile(r"\w+")
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")  # as graphmem.extract.patterns cuts sentences


class HashingEmbedder:
    """Bag-of-words vectors, each word hashed to signed units on ``AXES_PER_WORD`` of ``dim`` axes:
    texts that share words are similar, texts that share none are near orthogonal (two words meet
    on all their axes, and so look alike, about never: single-word names are compared this way by
    the entity resolver). Has ``graphmem.embed.Embedder``'s interface, plus
    ``encode_spans`` as ``SentenceTransformerEmbedder`` has it (a span's vector: the words of the
    text it covers)."""

    AXES_PER_WORD = 4

    def __init__(self, dim: int = 512, name: str = "hashing-test"):
        self.dim = dim
        self.name = name
        self.calls: list[list[str]] = []  # the texts of each encode call, for tests that count them

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._vector(WORD.findall(text.lower()))
        return out

    def encode_spans(self, texts: Sequence[str], spans) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """``encode(texts)`` and one vector per item of ``spans[i]`` (character ranges in text i,
        or None): the words the ranges cover; None where they cover no word. ``spans`` may be a
        Future, as the real embedder allows."""
        vectors = self.encode(texts)
        pooled = []
        for text, items in zip(texts, resolved(spans)):
            row = []
            for ranges in items:
                words = [w for start, end in ranges or () for w in WORD.findall(text[start:end].lower())]
                row.append(self._vector(words) if words else None)
            pooled.append(row)
        return vectors, pooled

    def _vector(self, words: Sequence[str]) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in words:
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=4 * self.AXES_PER_WORD).digest()
            for i in range(self.AXES_PER_WORD):
                h = int.from_bytes(digest[4 * i:4 * i + 4], "little")
                v[(h >> 1) % self.dim] += 1.0 if h & 1 else -1.0
        norm = float(np.linalg.norm(v))
        if norm == 0:  # no words, or words that cancel out: any fixed unit vector will do
            v[0], norm = 1.0, 1.0
        return v / norm


class ScriptedExtractor:
    """The triples each sentence of a text states, looked up in ``script`` (sentence as written,
    without surrounding spaces -> triples); a sentence the script lacks states nothing. Has the
    ``graphmem.extract.base.Extractor`` interface; records each text and context it was given."""

    name = "scripted"

    def __init__(self, script: Mapping[str, Sequence[RawTriple]]):
        self.script = dict(script)
        self.texts: list[str] = []
        self.contexts: list[list[Triple]] = []

    def extract(self, text: str, context: Sequence[Triple] = ()) -> list[RawTriple]:
        self.texts.append(text)
        self.contexts.append(list(context))
        found = [t for sentence in SENTENCE.findall(text) for t in self.script.get(sentence.strip(), ())]
        return list(dict.fromkeys(found))  # a fact stated twice is one fact, as the real extractor says
