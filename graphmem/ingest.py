"""Ingestion's threads and vectors: texts parsed into facts beside their encoding, batch by batch.

The engine's only threads outside the encoder live here: a parser thread that runs a batch ahead
of the encoder (``pipeline``), and the pool that keeps several requests of a per-text extractor (an
LLM) in flight (``extract_all``). What they compute reaches the writer as plain values.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence, TypeVar

import numpy as np

from .embedders.batching import reserved_core
from .embedders.sentence_transformer import Embedder, TokenEmbedder, TokenEmbeddings
from .extract.base import Extractor, RawTriple
from .extract.spans import fact_spans
from .model import embedded_text

B = TypeVar("B")
P = TypeVar("P")
E = TypeVar("E")
Passage = tuple[str, str, str]  # (source_id, title, text)

EXTRACT_WORKERS = 4  # requests in flight at once for an extractor that waits on each (an LLM)
# Passages per parse/encode batch. Larger batches encode in better length batches and hand over
# between the parser and the encoder less often: 1,890 MuSiQue passages built at 0.55x / 0.68x /
# 0.74x / 0.72x the bare embedder's rate with 64 / 256 / 512 / 1024 (docs/benchmarks.md: indexing
# speed).
BATCH_PASSAGES = 512


def extract_all(extractor: Extractor, texts: list[str], workers: int = EXTRACT_WORKERS) -> list[list[RawTriple]]:
    """Each text's raw facts, in order: in one call for an extractor that batches (spaCy), else
    ``workers`` texts at once (per-text extractors wait on I/O)."""
    many = getattr(extractor, "extract_many", None)
    if many is not None:
        return list(many(texts))
    if workers <= 1 or len(texts) <= 1:
        return [extractor.extract(t) for t in texts]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(extractor.extract, texts))


def pipeline(batches: Sequence[B], parse: Callable[[B], P], encode: Callable[[B], E],
             write: Callable[[B, P, E], None]) -> None:
    """``write(batch, parse(batch), encode(batch))`` for each batch in order, with the parse on a
    thread of its own so that neither the parser nor the encoder waits for the other.

    A batch is encoded here while it is parsed, and the next batch is parsed as soon as this one
    is; queuing one batch ahead bounds the memory the parses hold. The encoder's length batches run
    one per core, so the parser shares a core with one of them; an encoder on torch's threads
    instead leaves the parser a core while it parses (``batching.reserved_core``), and takes every
    core again once the parse is done."""
    def parse_beside(batch: B) -> P:
        with reserved_core():
            return parse(batch)

    if not batches:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract") as ahead:
        parsing = ahead.submit(parse_beside, batches[0])
        for n, batch in enumerate(batches):
            parsed = parsing
            if n + 1 < len(batches):
                parsing = ahead.submit(parse_beside, batches[n + 1])
            encoded = encode(batch)
            write(batch, parsed.result(), encoded)


@dataclass
class EncodedPassages:
    """The vectors a batch of passages needs before its facts are known: each passage's vector
    (None: none wanted, or a text to embed later) and, for facts pooled from passage tokens, the
    token embeddings of the passages with text (``pooled``: their positions in the batch)."""

    episode_vectors: list[np.ndarray | None]
    tokens: TokenEmbeddings | None = None
    pooled: Sequence[int] = ()
    with_titles: bool = True  # the titles were encoded before the texts (``embedded_text``)

    def fact_vectors(self, passages: Sequence[Passage], raws: Sequence[Sequence[RawTriple]]
                     ) -> list[list[np.ndarray | None] | None]:
        """A vector per extracted fact pooled from its passage's tokens (None for a fact whose
        names are not found in the text); None for a passage whose facts embed their own text."""
        out: list[list[np.ndarray | None] | None] = [None] * len(passages)
        for k, i in enumerate(self.pooled):
            assert self.tokens is not None  # set whenever passages are pooled
            _, title, text = passages[i]
            offset = len(title) + 1 if title and self.with_titles else 0
            out[i] = self.tokens.pool(k, fact_spans(text, raws[i], offset))
        return out


def encode_passages(embedder: Embedder, passages: Sequence[Passage], known: Mapping[str, np.ndarray],
                    pool_facts: bool, embed_episodes: bool, with_titles: bool = True) -> EncodedPassages:
    """``known``: passage vectors already computed with this embedder, by source id. With
    ``pool_facts`` every passage with text goes through the model (its facts need its tokens).
    ``with_titles``: each title is encoded before its text (see ``embedded_text``)."""
    vectors: list[np.ndarray | None] = [known.get(sid) for sid, _, _ in passages]
    if pool_facts:
        assert isinstance(embedder, TokenEmbedder)  # Indexes chooses pooled fact vectors only for one
        todo = [i for i, (_, _, text) in enumerate(passages) if text]
        tokens = embedder.encode_tokens([embedded_text(title, text, with_titles)
                                         for _, title, text in (passages[i] for i in todo)])
        if embed_episodes:
            for k, i in enumerate(todo):
                if vectors[i] is None:
                    vectors[i] = tokens.vectors[k]
        return EncodedPassages(vectors, tokens, todo, with_titles)
    if embed_episodes:
        todo = [i for i, v in enumerate(vectors) if v is None and passages[i][2]]
        for i, v in zip(todo, embedder.encode([embedded_text(passages[i][1], passages[i][2], with_titles)
                                               for i in todo])):
            vectors[i] = v
    return EncodedPassages(vectors)
