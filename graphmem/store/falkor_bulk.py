"""The FalkorDB store's bulk load: vectors sent as binary through ``GRAPH.BULK`` instead of Cypher
text, into staging nodes that one Cypher stage turns into vector nodes on the server.

Why: a vector in a Cypher parameter is 384 numbers of text that the client writes and the server
parses, about 23 MB per 5,000 facts, which took most of a batched write (measured on the 2-core
machine: 0.8 s to write the text and 1.1 s to parse it, per 5,000 facts), and each vector node
written under a vector index is inserted into the HNSW graph there and then (~0.5-1 ms each).
``GRAPH.BULK`` takes nodes as packed binary (9 bytes a number), written by numpy and read by the
server without parsing (0.1 s per 5,000). It makes nodes only, so the vectors land on staging
nodes (``(:GraphmemStagedFactVec {id, digest, batch, embedding})``, the embedding a list of
doubles: the bulk format has no vector type) and the batch's write query turns them into vector
nodes exactly as ``falkor_layout.write_vectors`` writes them (a node is kept where its digest is
the same, else replaced), converting each list with ``vecf32`` on the server, and deletes them.
While a load runs the vector indexes are dropped (``FalkorStore.bulk_load``), so no vector is
inserted into an index one by one; they are made once at the end, and the server fills them.

The format (FalkorDB's ``GRAPH.BULK``, which its bulk loader speaks): per node section, the label
and the property names as NUL-terminated strings (with their count as a little-endian uint32),
then per node each property as a type byte and its value: 3 and a NUL-terminated string, 5 and an
int64 length followed by the elements (each 2 and a little-endian double); 0 for a null, which the
server leaves unset.
"""
from __future__ import annotations

import struct

import numpy as np

STAGED_PREFIX = "GraphmemStaged"  # staging label: the prefix and the vector label (FactVec, EpisodeVec)
_NULL, _DOUBLE, _STRING, _ARRAY = b"\x00", 2, b"\x03", b"\x05"
_ELEMENT = np.dtype([("type", "u1"), ("value", "<f8")])  # one array element: type byte, then the double
PROPERTIES = ("id", "digest", "batch", "embedding")


def staged_label(label: str) -> str:
    return STAGED_PREFIX + label


def bulk_safe(rows: list[dict]) -> bool:
    """Whether every id of ``rows`` can travel in the bulk format (its strings end at a NUL)."""
    return not any("\0" in row["id"] for row in rows)


def _string(value: str) -> bytes:
    return _STRING + value.encode() + b"\0"


def staged_nodes(label: str, rows: list[dict], batch: str) -> bytes:
    """One ``GRAPH.BULK`` node section: a staging node of ``label`` per row (``falkor_params.with_vector``
    rows: ``id``, ``digest``, ``embedding`` as numbers times ``scale``; no vector: digest and
    embedding null), tagged with ``batch``."""
    head = staged_label(label).encode() + b"\0" + struct.pack("<I", len(PROPERTIES)) + \
        b"".join(name.encode() + b"\0" for name in PROPERTIES)
    parts = [head]
    tag = _string(batch)
    for row in rows:
        parts.append(_string(row["id"]))
        if row["digest"] is None:
            parts += [_NULL, tag, _NULL]
            continue
        values = np.empty(len(row["embedding"]), dtype=_ELEMENT)
        values["type"] = _DOUBLE
        # The float32 values, exactly: numbers times a power of two (``exact_vector``) as doubles.
        values["value"] = np.asarray(row["embedding"], dtype=np.float64) * row["scale"]
        parts += [_string(row["digest"]), tag, _ARRAY + struct.pack("<q", len(values)), values.tobytes()]
    return b"".join(parts)


def unstage(label: str) -> str:
    """The write stage that turns the staging nodes of ``$batch`` under ``label`` into vector nodes,
    as ``falkor_layout.write_vectors`` writes rows (kept where the digest is the same, else
    replaced; deleted where the row has no vector), and deletes them. Not counted as dead entries:
    a bulk load runs without vector indexes, which it makes afresh at its end."""
    return (f"MATCH (r:{staged_label(label)} {{batch: $batch}}) OPTIONAL MATCH (v:{label} {{id: r.id}}) "
            "WITH r, v, v IS NULL OR r.digest IS NULL OR v.digest <> r.digest AS replace "
            "FOREACH (old IN CASE WHEN replace AND v IS NOT NULL THEN [v] ELSE [] END | DELETE old) "
            "FOREACH (_ IN CASE WHEN replace AND r.digest IS NOT NULL THEN [1] ELSE [] END | "
            f"CREATE (:{label} {{id: r.id, digest: r.digest, embedding: vecf32(r.embedding)}})) "
            "DELETE r")


def drop_staged(label: str) -> str:
    """Deletes the staging nodes of ``$batch`` under ``label`` (a batch whose write failed)."""
    return f"MATCH (r:{staged_label(label)} {{batch: $batch}}) DELETE r"
