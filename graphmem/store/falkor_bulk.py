"""The FalkorDB store's bulk load: triples and vectors sent as binary through ``GRAPH.BULK`` instead
of Cypher text, into staging nodes from which the batch's one write query makes triples and vector
nodes on the server.

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
The triples land likewise on ``(:GraphmemStagedFact)`` nodes, which the write query reads instead
of an ``UNWIND`` of rows (its Cypher text and the client's writing of it were the next cost).
While a load runs the vector indexes are dropped (``FalkorStore.bulk_load``), so no vector is
inserted into an index one by one; they are made once at the end, and the server fills them.

A load into a graph without facts goes further (``falkor_fresh``): its triples are sent as
relationships of the same ``GRAPH.BULK`` format between entity nodes whose ids the client holds
(``relationships``), so no Cypher reads or writes them at all.

The format (FalkorDB's ``GRAPH.BULK``, which its bulk loader speaks): per node section, the label
and the property names as NUL-terminated strings (with their count as a little-endian uint32),
then per node each property as a type byte and its value: 3 and a NUL-terminated string, 4 and a
little-endian int64, 2 and a little-endian double, 5 and an int64 length followed by the elements;
0 for a null, which the server leaves unset. A relationship section is the same, with the type for
the label and, before each relationship's properties, its source and target node ids (uint64).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

STAGED_PREFIX = "GraphmemStaged"  # staging label: the prefix and the vector label (FactVec, EpisodeVec)
STAGED_FACTS = "GraphmemStagedFact"  # a batch's triples (``bolt_layout.triple_row`` rows, no vectors)
FACT_KEYS = ("id", "s", "o", "relation", "valid_from", "valid_until", "sources", "retired_by", "added")
RELATIONSHIP_KEYS = ("id", "relation", "valid_from", "valid_until", "sources", "retired_by")  # a [:REL]'s
VECTOR_KEYS = ("id", "digest", "embedding")  # ``falkor_params.with_vector`` rows
_NULL, _BOOL, _DOUBLE, _STRING, _LONG, _ARRAY = range(6)
_NULL_VALUE, _STRING_TYPE, _LONG_TYPE, _ARRAY_TYPE = bytes([_NULL]), bytes([_STRING]), bytes([_LONG]), bytes([_ARRAY])
_ELEMENT = np.dtype([("type", "u1"), ("value", "<f8")])  # one array element: type byte, then the double


@dataclass(frozen=True)
class Staged:
    """A bulk write's staging nodes (``sections``: ``nodes`` of them under ``labels``, tagged
    ``batch``) and the one atomic query that turns them into what they stand for."""

    sections: list[bytes]
    nodes: int
    query: str
    labels: list[str]
    batch: str


def staged_label(label: str) -> str:
    return STAGED_PREFIX + label


class NotBulkSafe(ValueError):
    """A string holds a NUL, where the bulk format ends it: such a write goes as Cypher instead."""


def without_vectors(rows: list[dict]) -> list[dict]:
    """``rows`` as the Cypher part of a bulk write takes them: their vectors travel as binary."""
    return [{key: value for key, value in row.items() if key not in ("embedding", "scale", "digest")} for row in rows]


def encode(value: object) -> bytes:
    """One property value in the bulk format (None, bool, int, float, str, or a list of them)."""
    if isinstance(value, str):  # most values: tested first
        if "\0" in value:
            raise NotBulkSafe(value)
        return _STRING_TYPE + value.encode() + b"\0"
    if value is None:
        return _NULL_VALUE
    if isinstance(value, bool):
        return bytes([_BOOL, value])
    if isinstance(value, int):
        return _LONG_TYPE + struct.pack("<q", value)
    if isinstance(value, float):
        return bytes([_DOUBLE]) + struct.pack("<d", value)
    if isinstance(value, list):
        return _ARRAY_TYPE + struct.pack("<q", len(value)) + b"".join(map(encode, value))
    raise TypeError(f"cannot send {type(value).__name__} in a FalkorDB bulk insert")


def _header(label: str, keys: tuple[str, ...], tagged: bool = True) -> bytes:
    """A ``GRAPH.BULK`` section's header: label or type, property count and names (``keys``, then
    ``batch`` where ``tagged``)."""
    names = keys + ("batch",) if tagged else keys
    return label.encode() + b"\0" + struct.pack("<I", len(names)) + b"".join(k.encode() + b"\0" for k in names)


def _section(label: str, keys: tuple[str, ...], encoded_rows: list[bytes], tagged: bool = True) -> bytes:
    """A ``GRAPH.BULK`` section: its header (``_header``), then the rows."""
    return _header(label, keys, tagged) + b"".join(encoded_rows)


def staged_facts(rows: list[dict], batch: str) -> bytes:
    """Staging nodes of a batch's triples (``triple_row`` rows, vectors left out), tagged ``batch``."""
    tag = encode(batch)
    return _section(STAGED_FACTS, FACT_KEYS, [b"".join([encode(row["id"]), encode(row["s"]), encode(row["o"]),
                                                        encode(row["relation"]), encode(row["valid_from"]),
                                                        encode(row["valid_until"]), encode(row["sources"]),
                                                        encode(row["retired_by"]), encode(row.get("added")), tag])
                                              for row in rows])


def relationship_properties(rows: list[dict]) -> list[bytes]:
    """The properties of a ``[:REL]`` relationship per ``triple_row`` row, for ``relationships``
    (encoded before the endpoints' ids are known, so that a row that cannot travel in binary is
    found before anything is sent)."""
    return [b"".join([encode(row["id"]), encode(row["relation"]), encode(row["valid_from"]),
                      encode(row["valid_until"]), encode(row["sources"]), encode(row["retired_by"])]) for row in rows]


def relationships(properties: list[bytes], ends: list[tuple[int, int]]) -> bytes:
    """A ``GRAPH.BULK`` section of ``[:REL]`` relationships with ``properties``
    (``relationship_properties``), each from and to the node ids of its ``ends``."""
    return _section("REL", RELATIONSHIP_KEYS, [struct.pack("<QQ", *end) + props for end, props in zip(ends, properties)],
                    tagged=False)


def staged_vectors(label: str, rows: list[dict], batch: str) -> bytes:
    """Staging nodes of the vectors of ``rows`` (``falkor_params.with_vector`` rows; no vector: digest
    and embedding null) for vector nodes of ``label``, tagged ``batch``."""
    tag = encode(batch)
    prefixes = [encode(row["id"]) + (_NULL_VALUE + _NULL_VALUE if row["digest"] is None else encode(row["digest"]))
                for row in rows]
    vectors = [row for row in rows if row["digest"] is not None]
    header = _header(staged_label(label), VECTOR_KEYS)
    if len({len(row["embedding"]) for row in vectors}) > 1:  # vectors of several dimensions: one by one
        arrays = [encode((np.asarray(row["embedding"], dtype=np.float64) * row["scale"]).tolist()) for row in vectors]
    else:
        # The float32 values, exactly: numbers times a power of two (``exact_vector``) as doubles.
        values = np.stack([row["embedding"] for row in vectors]).reshape(len(vectors), -1).astype(np.float64) \
            * np.array([row["scale"] for row in vectors])[:, None] if vectors else np.empty((0, 0))
        head = _ARRAY_TYPE + struct.pack("<q", values.shape[1])
        if len(vectors) == len(rows) and len({len(prefix) for prefix in prefixes}) == 1:
            # One layout for every node (ids of one length, all with vectors): numpy writes them all.
            record = np.empty(len(rows), dtype=[("prefix", f"S{len(prefixes[0])}"), ("head", f"S{len(head)}"),
                                                ("elements", _ELEMENT, (values.shape[1],)), ("tag", f"S{len(tag)}")])
            record["prefix"], record["head"], record["tag"] = prefixes, head, tag
            record["elements"]["type"] = _DOUBLE
            record["elements"]["value"] = values
            return header + record.tobytes()
        elements = np.empty(values.shape, dtype=_ELEMENT)
        elements["type"] = _DOUBLE
        elements["value"] = values
        arrays = [head + e.tobytes() for e in elements]
    found = iter(arrays)
    return header + b"".join(prefix + (b"" if row["digest"] is None else next(found)) + tag
                             for prefix, row in zip(prefixes, rows))


# The clauses by which a bulk write reads its triples' endpoint names and rows from the staging
# nodes (``falkor_writes.triples_without_vectors``), and the stage that deletes those nodes.
STAGED_NAMES = f"MATCH (f:{STAGED_FACTS} {{batch: $batch}}) UNWIND [f.s, f.o] AS name WITH DISTINCT name"
STAGED_ROWS = f"MATCH (row:{STAGED_FACTS} {{batch: $batch}})"
UNSTAGE_FACTS = f"MATCH (f:{STAGED_FACTS} {{batch: $batch}}) DELETE f"


def unstage(label: str, replacing: bool = True) -> str:
    """The write stage that turns the staging nodes of ``$batch`` under ``label`` into vector nodes,
    as ``falkor_layout.write_vectors`` writes rows (kept where the digest is the same, else
    replaced; deleted where the row has no vector), and deletes them; not ``replacing``, where no
    vector node of their ids exists (``falkor_fresh``), it only creates them. Not counted as dead
    entries: a bulk load runs without vector indexes, which it makes afresh at its end."""
    create = f"CREATE (:{label} {{id: r.id, digest: r.digest, embedding: vecf32(r.embedding)}})"
    if not replacing:
        return (f"MATCH (r:{staged_label(label)} {{batch: $batch}}) "
                f"FOREACH (_ IN CASE WHEN r.digest IS NOT NULL THEN [1] ELSE [] END | {create}) DELETE r")
    return (f"MATCH (r:{staged_label(label)} {{batch: $batch}}) OPTIONAL MATCH (v:{label} {{id: r.id}}) "
            "WITH r, v, v IS NULL OR r.digest IS NULL OR v.digest <> r.digest AS replace "
            "FOREACH (old IN CASE WHEN replace AND v IS NOT NULL THEN [v] ELSE [] END | DELETE old) "
            f"FOREACH (_ IN CASE WHEN replace AND r.digest IS NOT NULL THEN [1] ELSE [] END | {create}) "
            "DELETE r")


def lists(rows: dict[str, list[str]], label: str) -> bytes:
    """A ``GRAPH.BULK`` node section of lists of newest facts (``falkor_recent``): name -> keys."""
    return _section(label, ("name", "keys"), [encode(name) + encode(keys) for name, keys in rows.items()],
                    tagged=False)


def drop_staged(label: str) -> str:
    """Deletes the staging nodes of ``$batch`` under ``label`` (a batch whose write failed)."""
    return f"MATCH (r:{label} {{batch: $batch}}) DELETE r"
