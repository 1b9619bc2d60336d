"""The number format the encoder computes in: float32 (the default), or bfloat16 on a CPU that
computes it natively (AVX512-BF16 or AMX), where MiniLM encodes LoCoMo's dev turns ~1.9x faster
(scripts/bench_conv.py) with vectors within 1e-4 cosine of float32's.

bfloat16 runs under torch's autocast: matrix products in bfloat16, normalisation and softmax in
float32, which is what keeps the vectors that close (bfloat16 weights throughout: 2e-3)."""
from __future__ import annotations

import functools
import os
from contextlib import nullcontext
from typing import ContextManager

from ..errors import ConfigError

PRECISIONS = ("f32", "bf16")


@functools.lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 products natively (Linux's CPU flags; False elsewhere):
    without it oneDNN emulates them, slower than float32."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def checked_precision(precision: str | None, device: str) -> str:
    """``precision`` (None: GRAPHMEM_EMBED_PRECISION, else f32), refused where it would not pay."""
    chosen = precision or os.environ.get("GRAPHMEM_EMBED_PRECISION") or "f32"
    if chosen not in PRECISIONS:
        raise ConfigError(f"unknown embedding precision {chosen!r} (GRAPHMEM_EMBED_PRECISION?): "
                          f"choose from {', '.join(PRECISIONS)}")
    if chosen == "bf16" and device == "cpu" and not native_bf16():
        raise ConfigError("this CPU has no native bfloat16 (avx512_bf16 or amx_bf16), where bf16 encoding "
                          "is slower than f32: use --embed-precision f32")
    return chosen


def computing_in(precision: str, device: str) -> ContextManager[None]:
    """Where the encoder's forward passes run (autocast is per thread: enter it in each worker)."""
    if precision != "bf16":
        return nullcontext()
    import torch

    return torch.autocast(device.split(":")[0], dtype=torch.bfloat16)  # "cuda:1" -> "cuda"
