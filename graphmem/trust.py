"""How much a source is trusted: episode meta "trust", a number in [0, 1] (1 when not given).

A corpus graph weighs a passage by its trust when it ranks (``graphmem.rag.graph``): an upload
nobody vouches for (``graphmem add --trust 0.3``) can still be found, but a crafted passage that
restates a question word for word no longer outranks the trusted passages that answer it. The
value is kept as a string, as all episode meta is, and checked on every write, so a graph never
holds a trust that retrieval cannot read.
"""
from __future__ import annotations

import math
from typing import Mapping

from .errors import ConfigError

TRUST = "trust"  # episode meta: the source's trust, a number in [0, 1]
FULL_TRUST = 1.0


def parse_trust(value: object) -> float:
    """``value`` (a number or its text) as a trust in [0, 1]; ConfigError saying why otherwise."""
    if isinstance(value, bool):
        raise ConfigError(f"trust must be a number in [0, 1], got {value!r}")
    try:
        trust = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"trust must be a number in [0, 1], got {value!r:.60}") from None
    if not (math.isfinite(trust) and 0.0 <= trust <= 1.0):
        raise ConfigError(f"trust must be a number in [0, 1], got {value!r:.60}")
    return trust


def trust_of(meta: Mapping[str, str] | None) -> float:
    """The trust an episode's meta gives its source (full trust when it says none)."""
    if not meta or TRUST not in meta:
        return FULL_TRUST
    return parse_trust(meta[TRUST])


def with_trust(meta: Mapping[str, str] | None, trust: float) -> dict[str, str]:
    """``meta`` with its trust set to ``trust`` (validated)."""
    return {**(meta or {}), TRUST: repr(parse_trust(trust))}
