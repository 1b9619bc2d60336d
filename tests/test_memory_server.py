"""A memory on a graph server: on FalkorDB the server is the memory (vector search and the expansion
run there, nothing is loaded on open, every client sees every write on its next call); on ArcadeDB
(no vector indexes) the client-side indexes are the fallback, and their staleness is the documented
limit."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from bolt_server import arcadedb_server  # noqa: F401 - fixture
from falkor_server import falkor_server  # noqa: F401 - fixture
from graphmem.memory import Memory
from graphmem.store import open_store
from graphmem.vectors.server_index import ServerVectorIndex
from graphmem.vectors.vector_index import VectorIndex
from vector_search_checks import DIM, check_two_clients, memory_on

pytestmark = pytest.mark.slow  # real servers



@pytest.fixture
def falkor_uri(falkor_server):  # noqa: F811
    return f"{falkor_server.uri}/{falkor_server.fresh_graph('mem')}"


def synthetic(n: int, seed: int = 0) -> tuple[list[tuple[str, int, list]], np.ndarray, np.ndarray]:
    """(sources of 10 facts, their vectors, query vectors near some facts): entities in topics, so
    facts have near neighbours as text embeddings do."""
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((20, DIM))
    entity = topics[rng.integers(0, 20, n // 4)] + 0.5 * rng.standard_normal((n // 4, DIM))
    subj, obj = rng.integers(0, n // 4, n), rng.integers(0, n // 4, n)
    vecs = entity[subj] + entity[obj] + 0.3 * rng.standard_normal((n, DIM))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    facts = [(f"entity {a}", f"relation {i % 7}", f"entity {b}") for i, (a, b) in enumerate(zip(subj, obj))]
    sources = [(f"s{i // 10}", i // 10, facts[i:i + 10]) for i in range(0, n, 10)]
    queries = vecs[rng.integers(0, n, 30)] + 0.4 * rng.standard_normal((30, DIM)).astype(np.float32)
    return sources, vecs, (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)


def test_the_server_path_agrees_with_the_file_store(falkor_uri, tmp_path):
    sources, vecs, queries = synthetic(2000)
    file_memory, server_memory = memory_on(str(tmp_path / "g.json")), memory_on(falkor_uri)
    for memory in (file_memory, server_memory):
        memory.add_sources(sources, vectors=vecs)
    reopened = memory_on(falkor_uri)
    assert isinstance(reopened.triple_index, ServerVectorIndex)
    assert isinstance(file_memory.triple_index, VectorIndex)
    overlap, same = [], 0
    for q in queries:
        exact = {tid for tid, _ in file_memory.triple_index.search(q, 10)}
        served = {tid for tid, _ in reopened.triple_index.search(q, 10)}
        overlap.append(len(exact & served) / 10)
        want = [t.id for t in file_memory.recall("q", query_vectors=q[None, :]).triples]
        got = [t.id for t in reopened.recall("q", query_vectors=q[None, :]).triples]
        same += got == want
    assert np.mean(overlap) >= 0.98
    assert same >= 0.9 * len(queries), f"recall agreed on {same} of {len(queries)} queries"
    # A past step is scored with the facts' own vectors, read with them.
    assert [t.id for t in reopened.recall("q", query_vectors=queries[:1], at=50).triples] == \
        [t.id for t in file_memory.recall("q", query_vectors=queries[:1], at=50).triples]
    for memory in (file_memory, server_memory, reopened):
        memory.close()


def test_opening_reads_metadata_only(falkor_uri):
    sources, vecs, _ = synthetic(400)
    with memory_on(falkor_uri) as memory:
        memory.add_sources(sources[:4], vectors=vecs[:40])
    store = open_store(falkor_uri)
    memory = memory_on(store)
    small = store.queries
    memory.add_sources(sources[4:], vectors=vecs[40:])
    again = memory_on(open_store(falkor_uri))
    assert again.store.queries <= small  # ten times the facts, no more queries: nothing is downloaded
    assert len(again.triple_index) == again.stats()["current_triples"] > 350
    for m in (memory, again):
        m.close()


def test_facts_written_without_vectors_are_embedded_on_open_and_then_no_longer_looked_for(falkor_uri):
    from graphmem.model import Triple

    store = open_store(falkor_uri)
    fact = Triple("rusty key", "in", "wooden box", valid_from=1, sources=["e1"])
    store.add_triples([fact])
    assert [t.id for t in store.triples_without_vectors()] == [fact.id]
    memory = memory_on(store)
    assert store.get_triple(fact.id).embedding is not None
    assert [t.as_list() for t in memory.recall("rusty key").triples] == [["rusty key", "in", "wooden box"]]
    # The mark is gone: the next open reads no triple (one metadata read answers the question).
    before = store.queries
    assert store.triples_without_vectors() == [] and store.queries == before + 1
    memory.close()


def tricky_sources() -> list[tuple[str, int, list]]:
    """Sources whose facts later ones retire, tell again and confirm, one source written twice,
    then many plain ones."""
    sources = [
        ("t1", 1, [("rusty key", "in", "wooden box"), ("wooden box", "in", "hall")]),
        ("t2", 2, [("rusty key", "in", "drawer")]),  # retires the key in the box
        ("t3", 3, [("rusty key", "in", "wooden box"), ("lamp", "in", "hall")]),  # the box again: a new triple
        ("t1", 4, [("lamp", "in", "hall"), ("cat", "observation", "is asleep")]),  # t1 again: confirms the lamp
        ("t4", 5, [("wooden box", "in", "hall"), ("rusty key", "in", "wooden box")]),  # confirms both
    ]
    plain, _, _ = synthetic(300, seed=4)
    return sources + [(f"p{i}", 10 + step, facts) for i, (_, step, facts) in enumerate(plain)]


@pytest.mark.parametrize("bulk", [False, True], ids=["batched", "bulk-load"])
def test_batched_writes_on_a_server_give_the_file_store_one_by_one(falkor_uri, tmp_path, monkeypatch, bulk):
    # Inside a bulk load (FalkorDB: triples and vectors sent as binary staging nodes, no vector
    # index meanwhile) the writes give the same graph, vectors included.
    import contextlib

    import graphmem.writer
    from graphmem.store.embedded import EmbeddedStore

    sources = tricky_sources()
    file_memory = memory_on(str(tmp_path / "file.json"))
    file_results = [file_memory.add_sources([source])[0] for source in sources]  # one by one
    file_memory.close()
    monkeypatch.setattr(graphmem.writer, "BATCH_FACTS", 25)  # batches split between sources that meet
    server_memory = memory_on(falkor_uri)
    assert server_memory.store.batches_writes
    with server_memory.store.bulk_load(wait=True) if bulk else contextlib.nullcontext():
        server_results = server_memory.add_sources(sources)
        assert not bulk or server_memory.store.vector_indexes() == []  # made once, at the end

    def summary(results):  # (a file store hands out its own episodes, which later writes change)
        return [(r.episode.id, [t.id for t in r.added], [t.id for t in r.confirmed], r.retired) for r in results]

    assert summary(server_results) == summary(file_results)
    server_memory.store.save(tmp_path / "server.json")
    server_memory.close()
    served, written = EmbeddedStore(tmp_path / "server.json").to_dict(), EmbeddedStore(tmp_path / "file.json").to_dict()
    assert served == written
    assert any(t["valid_until"] is not None for t in written["triples"])  # the corpus did retire facts


def test_a_batch_of_sources_is_three_round_trips(falkor_uri):
    sources = tricky_sources()
    memory = memory_on(falkor_uri)
    memory.add_sources(sources[:5])  # makes the indexes, reads the known entities
    before = memory.store.queries
    memory.add_sources(sources[5:45])  # 40 sources, 400 facts: one batch
    # Their facts' current copies and their episodes read at once, then one write (no fact of
    # theirs can retire another: no entity's facts are read).
    assert memory.store.queries - before == 3
    before = memory.store.queries
    memory.add_sources([("t5", 50, [("rusty key", "in", "hall")]), ("t6", 51, [("lamp", "in", "kitchen")])])
    assert memory.store.queries - before == 4  # and the facts of the entities whose place changes
    assert [t.as_list() for t in memory.current() if t.subject == "rusty key"] == [["rusty key", "in", "hall"]]
    memory.close()


def test_a_write_by_one_client_is_recalled_by_another_on_its_next_call(falkor_uri):
    check_two_clients(lambda: memory_on(falkor_uri))


def test_on_a_server_without_vector_indexes_a_client_sees_writes_after_reopening(arcadedb_server):  # noqa: F811
    from graphmem.store.bolt import BoltStore
    from graphmem.testing.arcadedb import PASSWORD, USER

    database = arcadedb_server.fresh_database("mem")

    def open_memory() -> Memory:
        return memory_on(BoltStore(arcadedb_server.uri, USER, PASSWORD, database))

    reader, writer = open_memory(), open_memory()
    assert isinstance(reader.triple_index, VectorIndex)  # the fallback: vectors loaded on open
    writer.add_triples([("rusty key", "in", "wooden box")], step=1, source_id="e1")
    assert reader.recall("rusty key").triples == []  # the documented limit: its index is stale
    reader.close()
    reader = open_memory()
    assert [t.as_list() for t in reader.recall("rusty key").triples] == [["rusty key", "in", "wooden box"]]
    for m in (reader, writer):
        m.close()


def test_build_and_ask_a_corpus_graph_on_falkordb(falkor_uri, capsys):
    import json
    from pathlib import Path

    from graphmem.cli import main

    sample = Path(__file__).resolve().parents[1] / "examples" / "sample_corpus.json"
    assert main(["build", str(sample), "--store", falkor_uri]) == 0
    assert json.loads(capsys.readouterr().out)["graph"] == falkor_uri
    assert main(["ask", "--store", falkor_uri, "Who designed the Eiffel Tower?", "--no-answer", "--json"]) == 0
    passages = json.loads(capsys.readouterr().out)["passages"]
    assert passages[0]["title"] == "Eiffel Tower"  # the passages' vectors scored on the server
    assert main(["cypher", "--store", falkor_uri, "--json",
                 "MATCH (:Entity {name: 'eiffel tower'})-[r:REL]->(o) RETURN o.name AS o ORDER BY o"]) == 0
    assert {"o": "paris"} in json.loads(capsys.readouterr().out)


def test_reindex_on_request_from_a_memory_and_from_the_command(falkor_uri, tmp_path, capsys):
    import json

    from graphmem.cli import main

    sources, vecs, queries = synthetic(400)
    memory = memory_on(falkor_uri)
    memory.add_sources(sources, vectors=vecs)
    deleted = memory.forget(["s0", "s1"])  # 20 of 400 facts: below the share, the index is kept
    assert len(deleted) == 20 and memory.store.dead_vectors() == {"triples": 20, "episodes": 0}
    assert memory.reindex() == {"triples": 20, "episodes": 0}
    assert memory.store.dead_vectors() == {"triples": 0, "episodes": 0}
    before = memory.store.exact_scans
    for query in queries:
        memory.recall("q", query_vectors=query[None, :])
    assert memory.store.exact_scans == before  # the rebuilt index answers whole
    memory.forget(["s2"])
    memory.close()
    assert main(["reindex", "--store", falkor_uri]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"graph": falkor_uri, "namespace": "default", "dead_entries_dropped": {"triples": 10, "episodes": 0}}
    with memory_on(str(tmp_path / "g.json")) as on_file:
        assert on_file.reindex() == {}  # a file store's indexes are built by each memory that opens it


def interleaved(monkeypatch, first: Memory, then: Callable[[], object]) -> Callable[[list], object]:
    """``first.add_sources`` with ``then`` (another client's whole write) run between its batch's
    reads and its write: the window a batch leaves other clients (``write_buffer``)."""
    from graphmem.write_buffer import WriteBuffer

    flush, pending = WriteBuffer.flush, [then]

    def flush_after_the_other(buffer: WriteBuffer) -> None:
        if pending:
            pending.pop()()
        flush(buffer)

    monkeypatch.setattr(WriteBuffer, "flush", flush_after_the_other)
    return first.add_sources


def places(memory: Memory, thing: str) -> list[tuple[str, list[str]]]:
    return sorted((t.object, t.sources) for t in memory.current() if t.subject == thing)


def test_two_clients_batches_that_confirm_one_fact_both_count(falkor_uri, monkeypatch):
    a, b = memory_on(falkor_uri), memory_on(falkor_uri)
    a.add_sources([("s0", 1, [("rusty key", "in", "wooden box")])])
    interleaved(monkeypatch, a, lambda: b.add_sources([("b1", 2, [("rusty key", "in", "wooden box")])]))(
        [("a1", 2, [("rusty key", "in", "wooden box")])])
    assert places(b, "rusty key") == [("wooden box", ["s0", "b1", "a1"])]  # b1 was lost before: written over
    for m in (a, b):
        m.close()


def test_a_batch_confirming_a_fact_another_client_retired_leaves_it_retired(falkor_uri, monkeypatch):
    # As if the confirmation came first; before, the batch's copy made it current again beside
    # the place that retired it.
    a, b = memory_on(falkor_uri), memory_on(falkor_uri)
    a.add_sources([("s0", 1, [("lamp", "in", "kitchen")])])
    interleaved(monkeypatch, a, lambda: b.add_sources([("b2", 3, [("lamp", "in", "hall")])]))(
        [("a2", 3, [("lamp", "in", "kitchen")])])
    assert places(b, "lamp") == [("hall", ["b2"])]
    assert [t.sources for t in b.store.triples(current_only=False) if t.object == "kitchen"] == [["s0", "a2"]]
    for m in (a, b):
        m.close()


def test_two_clients_batches_that_each_move_a_thing_leave_both_places_current(falkor_uri, monkeypatch):
    # The documented limit (docs/servers.md): neither batch read the other's new fact, so neither
    # retired it; the next write about the thing retires both but the newest.
    a, b = memory_on(falkor_uri), memory_on(falkor_uri)
    a.add_sources([("s0", 1, [("rusty key", "in", "wooden box")])])
    interleaved(monkeypatch, a, lambda: b.add_sources([("b1", 2, [("rusty key", "in", "hall")])]))(
        [("a1", 2, [("rusty key", "in", "kitchen")])])
    assert places(b, "rusty key") == [("hall", ["b1"]), ("kitchen", ["a1"])]
    a.add_sources([("a2", 3, [("rusty key", "in", "attic")])])
    assert places(b, "rusty key") == [("attic", ["a2"])]
    for m in (a, b):
        m.close()
