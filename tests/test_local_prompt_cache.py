"""The local model's RAM prompt cache counts all of each saved state, so its cap holds
(graphmem.llm.local: llama-cpp-python's own count left out the token and logit arrays)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

llama_cpp = pytest.importorskip("llama_cpp", reason="the local backend's cache needs llama-cpp-python")

from graphmem.llm.local import _bounded_ram_cache, state_bytes  # noqa: E402


def fake_state(context_bytes: int, logits: int) -> SimpleNamespace:
    """A saved state as llama-cpp-python makes it: context bytes and the arrays saved beside them."""
    return SimpleNamespace(llama_state_size=context_bytes, input_ids=np.zeros(100, dtype=np.intc),
                           scores=np.zeros((logits, 1000), dtype=np.single), n_tokens=100)


def test_a_state_counts_its_arrays_as_well_as_its_context():
    state = fake_state(1_000, 10)
    assert state_bytes(state) == 1_000 + 100 * 4 + 10 * 1000 * 4


def test_the_cache_keeps_under_its_capacity_by_the_states_real_size():
    cache = _bounded_ram_cache(llama_cpp, capacity_bytes=1 << 20)  # 1 MB
    for i in range(10):  # each state: ~1 KB of context (all llama-cpp-python counted) + 400 KB of logits
        cache[(i, i + 1)] = fake_state(1_000, 100)
    assert cache.cache_size <= 1 << 20
    assert len(cache.cache_state) == 2  # the two most recent fit; llama-cpp-python's count kept all ten
    assert (9, 10) in cache and (0, 1) not in cache
