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
from graphmem.model import Triple

WORD = re.compile(r"\w+")
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")  # as graphmem.extract.patterns cuts sentences


class HashingEmbedder:
    """Bag-of-words vectors, each word hashed to signed units on ``AXES_PER_WORD`` of ``dim`` axes:
    texts that share words are similar, texts that share none are near orthogonal (two words meet
    on all their axes, and so look alike, about never: single-word names are compared this way by
    the entity resolver). Has ``graphmem.embedders.sentence_transformer.Embedder``'s interface, plus
    ``encode_tokens`` as ``SentenceTransformerEmbedder`` has it (a span's vector: the words of the
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

    def encode_tokens(self, texts: Sequence[str]) -> "HashedTokens":
        """``encode(texts)``, with spans of each text pooled later as the real embedder's
        ``TokenEmbeddings`` pools them (here: the words the spans cover)."""
        return HashedTokens(self, list(texts), self.encode(texts))

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


class HashedTokens:
    """``HashingEmbedder.encode_tokens``'s result: ``vectors``, and ``pool(i, spans)`` giving one
    vector per item of ``spans`` (character ranges in text i, or None), None where no word is covered."""

    def __init__(self, embedder: HashingEmbedder, texts: list[str], vectors: np.ndarray):
        self.embedder, self.texts, self.vectors = embedder, texts, vectors

    def pool(self, i: int, spans) -> list[np.ndarray | None]:
        out = []
        for ranges in spans:
            words = [w for start, end in ranges or () for w in WORD.findall(self.texts[i][start:end].lower())]
            out.append(self.embedder._vector(words) if words else None)
        return out


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
