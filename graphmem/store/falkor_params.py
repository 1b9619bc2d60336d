"""Query parameters as FalkorDB takes them: a ``CYPHER name=value ...`` header before the query, in
Cypher literal syntax. Written here rather than by the client's ``stringify_param_value``, which
makes one recursive call per number: a batch of 2,000 facts carries 768,000 of them (2 s there,
a tenth of that here, measured). Floats are written with ``repr``, which reads back as the same
double; a float32 vector (a numpy array) with 9 significant digits, which read back as the same
float32 (``vecf32``). A vector that is written in bulk travels as whole numbers and a power of two
instead (``exact_vector``): Python writes integers twice as fast as floats (measured), and the
server's product of the two is the float32 written, bit for bit."""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np


def params_header(params: dict[str, Any] | None) -> str:
    if not params:
        return ""
    return "CYPHER " + " ".join(f"{name}={literal(value)}" for name, value in params.items()) + " "


def literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, np.ndarray):  # a vector: the bulk of a write
        if value.dtype.kind == "i":
            return "[" + ",".join(map(str, value.ravel().tolist())) + "]"
        return "[" + ",".join(map("{:.9g}".format, value.astype(np.float32, copy=False).ravel().tolist())) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(literal, value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"`{key}`:{literal(v)}" for key, v in value.items()) + "}"
    raise TypeError(f"cannot send {type(value).__name__} as a FalkorDB query parameter")


def exact_vector(vector: np.ndarray) -> tuple[np.ndarray, float]:
    """(numbers, scale) whose products are ``vector``'s float32 values exactly: whole numbers and a
    power of two where every value fits (a float32 is a 24-bit integer times a power of two, so one
    common power makes them all integers, below 2**62 unless the values span a huge range), else
    the float32 values themselves and 1.0."""
    values = np.asarray(vector, dtype=np.float32).ravel()
    nonzero = values[values != 0]
    if not len(nonzero) or not np.isfinite(nonzero).all():
        return values, 1.0
    exponents = np.frexp(nonzero)[1]
    shift = int(24 - exponents.min())  # makes the smallest value's 24 mantissa bits whole
    if int(exponents.max()) + shift > 62:
        return values, 1.0
    return np.ldexp(values.astype(np.float64), shift).astype(np.int64), float(np.ldexp(1.0, -shift))


def with_vector(row: dict, embedding: np.ndarray | None, text: bool = True) -> dict:
    """``row`` with its vector as numbers and a scale (``exact_vector``), which ``literal`` writes
    fast and the writes multiply back exactly, and its ``digest`` (a hash of the float32 values:
    ``falkor_layout``); ``scale`` is 1.0 and ``digest`` None where there is no vector. ``text``:
    False keeps the float32 values, scale 1.0 (a bulk write sends them as binary: ``falkor_bulk``)."""
    if embedding is None:
        row["embedding"], row["scale"], row["digest"] = None, 1.0, None
        return row
    values = np.asarray(embedding, dtype=np.float32).ravel()
    row["embedding"], row["scale"] = exact_vector(values) if text else (values, 1.0)
    row["digest"] = hashlib.blake2b(values.tobytes(), digest_size=8).hexdigest()
    return row
