"""The binary graph archive: round trips, memory-mapped vectors, atomic saves, clear errors for
damaged files, migration from JSON, and the ANN index kept with the graph."""
import os
import zipfile

import numpy as np
import pytest

from graphmem.memory import Memory
from graphmem.model import Episode, Triple
from graphmem.normalize import ResolverConfig
from graphmem.store.archive import ArchiveReader
from graphmem.store.base import StoreError
from graphmem.store.embedded import EmbeddedStore


def graph(path, n=40, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    st = EmbeddedStore(path)
    triples = []
    for i in range(n):
        t = Triple(f"thing {i % 7}", f"rel {i % 3}", f"place {i % 5}", valid_from=i // 4,
                   sources=[f"e{i // 4}", "shared"][: 1 + i % 2])
        if i % 5:
            t.embedding = rng.standard_normal(dim).astype(np.float32)
        triples.append(t)
    st.add_triples(triples)
    st.retire([triples[3].id, triples[8].id], 20)
    for j in range(n // 4):
        ep = Episode(f"e{j}", j, f"text {j} \u00e9", [t.id for t in triples[4 * j:4 * j + 4]], title=f"T{j}")
        if j % 2:
            ep.embedding = rng.standard_normal(dim).astype(np.float32)
        st.add_episode(ep)
    st.set_meta("embedder", "m")
    st.set_meta("nested", {"a": [1, 2]})
    return st


def dump(st):
    return ([(t.to_dict(), None if t.embedding is None else t.embedding.tolist())
             for t in st.triples(current_only=False)],
            [(e.to_dict(), None if e.embedding is None else e.embedding.tolist()) for e in st.episodes()],
            st.meta(), st.counts())


def test_archive_round_trip_equals_json_round_trip(tmp_path):
    st = graph(tmp_path / "g.gmem")
    st.save(tmp_path / "g.json")
    st.close()
    archive = EmbeddedStore(tmp_path / "g.gmem", readonly=True)
    assert zipfile.is_zipfile(tmp_path / "g.gmem") and not zipfile.is_zipfile(tmp_path / "g.json")
    assert dump(archive) == dump(EmbeddedStore(tmp_path / "g.json", readonly=True))
    assert dump(archive) == dump(graph(None))


def test_vectors_are_memory_mapped_and_aligned(tmp_path):
    graph(tmp_path / "g.gmem").close()
    st = EmbeddedStore(tmp_path / "g.gmem", readonly=True)
    ids, matrix = st.triple_vectors()
    assert len(ids) == 32 and matrix.shape == (32, 8)
    assert not matrix.flags.writeable and not matrix.flags.owndata  # a view of the file, no copy
    assert st.get_triple(ids[0]).embedding.base is not None
    reader = ArchiveReader(tmp_path / "g.gmem")
    for name in ("triple_vectors.npy", "episode_vectors.npy", "triples.npy"):
        start, _ = reader.span(name)
        assert start % 64 == 0
    reader.close()
    st.add_triples([Triple("new", "r", "thing", valid_from=99)])
    assert st.triple_vectors()[1].flags.writeable  # changed: stacked afresh


def test_equal_graphs_give_equal_files(tmp_path):
    graph(tmp_path / "a.gmem").close()
    graph(tmp_path / "b.gmem").close()
    assert (tmp_path / "a.gmem").read_bytes() == (tmp_path / "b.gmem").read_bytes()


def test_saving_over_its_own_file_while_mapped(tmp_path):
    path = tmp_path / "g.gmem"
    graph(path).close()
    st = EmbeddedStore(path)
    before = dump(st)
    st.add_triples([Triple("late", "r", "fact", valid_from=50)])
    st.flush()  # the old file is still mapped: its vectors must survive the rename
    st.close()
    after = EmbeddedStore(path, readonly=True)
    assert dump(after)[0][:-1] == before[0] and after.counts()["triples"] == before[3]["triples"] + 1


def test_crash_during_archive_save_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "g.gmem"
    graph(path).close()
    good = path.read_bytes()
    st = EmbeddedStore(path)
    st.add_triples([Triple("x", "r", "y")])

    def fail(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        st.flush()
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == [".g.gmem.lock", "g.gmem"]


def test_damaged_archives_are_store_errors(tmp_path):
    path = tmp_path / "g.gmem"
    graph(path).close()
    data = path.read_bytes()
    (tmp_path / "cut.gmem").write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="not a valid graphmem graph archive"):
        EmbeddedStore(tmp_path / "cut.gmem")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "zipped.gmem", "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(StoreError, match="compressed"):
        EmbeddedStore(tmp_path / "zipped.gmem")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "lacking.gmem", "w") as dst:
        for info in src.infolist():
            if info.filename != "strings.json":
                dst.writestr(info, src.read(info.filename))
    with pytest.raises(StoreError, match="strings.json is missing"):
        EmbeddedStore(tmp_path / "lacking.gmem")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "short.gmem", "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info, b'["only one"]' if info.filename == "strings.json" else body)
    with pytest.raises(StoreError, match="refers to strings the table lacks"):
        EmbeddedStore(tmp_path / "short.gmem")
    assert not list(tmp_path.glob(".*.lock"))


def test_import_migrates_a_json_graph_to_an_archive(tmp_path):
    from graphmem.cli import main

    graph(tmp_path / "old.json").close()
    assert main(["import", "--from", str(tmp_path / "old.json"), "--graph", str(tmp_path / "new.gmem")]) == 0
    assert zipfile.is_zipfile(tmp_path / "new.gmem")
    assert dump(EmbeddedStore(tmp_path / "new.gmem", readonly=True)) == \
        dump(EmbeddedStore(tmp_path / "old.json", readonly=True))
    assert main(["import", "--from", str(tmp_path / "missing.json"), "--out", str(tmp_path / "x.gmem")]) == 2
    assert not (tmp_path / "x.gmem").exists()


@pytest.mark.slow
def test_memory_keeps_its_ann_index_in_the_archive(tmp_path, monkeypatch):
    from graphmem.vectors import ann
    from graphmem.vectors.vector_index import VectorIndex

    rng = np.random.default_rng(1)
    path = tmp_path / "m.gmem"
    monkeypatch.setattr("graphmem.vectors.vector_index.ANN_THRESHOLD", 300)
    memory = Memory(str(path))
    dim = memory.embedder.dim
    vecs = rng.standard_normal((400, dim)).astype(np.float32)
    for i in range(0, 400, 10):
        memory.add_triples([(f"node {j}", "links", f"node {j + 1}") for j in range(i, i + 10)],
                           step=i, source_id=f"s{i}", vectors=vecs[i:i + 10])
    query = vecs[17] + 0.1 * rng.standard_normal(dim).astype(np.float32)
    want = memory.triple_index.search(query, 5)
    memory.close()
    assert "attachments/triple-ann" in ArchiveReader(path)

    def no_rebuild(*a, **k):
        raise AssertionError("the saved ANN index should have been used")

    monkeypatch.setattr(ann.ANNIndex, "build", no_rebuild)
    again = Memory(str(path), embedder=memory.embedder)
    assert isinstance(again.triple_index, VectorIndex) and again.triple_index.search(query, 5) == want
    again.add_triples([("node 999", "links", "node 0")], step=999)  # a change: the ANN is carried on
    again.close()
    assert "attachments/triple-ann" in ArchiveReader(path)


@pytest.mark.slow
def test_an_ann_built_at_save_follows_the_file_order(tmp_path, monkeypatch):
    monkeypatch.setattr("graphmem.vectors.vector_index.ANN_THRESHOLD", 300)
    path = tmp_path / "m.gmem"
    with Memory(str(path)) as memory:
        vecs = np.random.default_rng(2).standard_normal((400, memory.embedder.dim)).astype(np.float32)
        for i in range(0, 400, 10):  # within a step, ids are not in insertion order
            memory.add_triples([(f"node {j}", "links", f"node {j + 1}") for j in range(i, i + 10)],
                               step=i, source_id=f"s{i}", vectors=vecs[i:i + 10])
    again = Memory(str(path), embedder=memory.embedder)
    # Labels are the file's rows as they are (by time, then id): no id lookups on open.
    assert np.array_equal(again.triple_index._ann_rows, np.arange(400))
    assert again.triple_index.search(vecs[17], 1)[0][0] == memory.triple_index.search(vecs[17], 1)[0][0]
    again.close()


def test_vectors_of_two_dimensions_are_refused_and_the_old_file_stays(tmp_path):
    path = tmp_path / "g.gmem"
    graph(path).close()
    good = path.read_bytes()
    st = EmbeddedStore(path)
    odd = Triple("odd", "r", "one", valid_from=99)
    odd.embedding = np.ones(3, dtype=np.float32)
    st.add_triples([odd])
    with pytest.raises(StoreError, match="one graph holds vectors of one embedder"):
        st.flush()
    assert path.read_bytes() == good and not list(tmp_path.glob(".g.gmem.*.tmp"))


def reads(st):
    """Everything a reader can ask a store, in a comparable form."""
    entities = st.entities()
    return {
        "triples": [t.to_dict() for t in st.triples(current_only=False)],
        "current": [t.id for t in st.triples()],
        "by_id": [t.to_dict() for t in st.get_triples(["missing"] + [t.id for t in st.triples(False)][::-1])],
        "of_entity": {e: ([t.id for t in st.triples_of_entity(e)],
                          [t.id for t in st.triples_of_entity(e, current_only=False)]) for e in entities + ["nobody"]},
        "ids_of": [st.triple_ids_of_entities(entities + ["nobody"], limit=lim) for lim in (None, 0, 1, 2)],
        "entities": entities,
        "retired": sorted(st.retired_triple_ids()),
        "vector_ids": st.triple_vectors()[0],
        "counts": st.counts(),
        "cypher": st.cypher("MATCH (a)-[r]->(b) RETURN a.name, r.relation, b.name, r.valid_until"),
    }


def test_an_opened_archive_answers_reads_from_its_columns_like_a_graph_read_whole(tmp_path):
    graph(tmp_path / "g.gmem").close()
    graph(tmp_path / "g.json").close()
    lazy, whole = EmbeddedStore(tmp_path / "g.gmem"), EmbeddedStore(tmp_path / "g.json")
    first = lazy.get_triple(whole.triples()[0].id)
    assert lazy.row_view() is not None and len(lazy.row_view()._made) == 1  # one row made, on demand
    assert reads(lazy) == reads(whole)
    assert lazy.row_view() is not None  # reads never index the whole graph as objects
    # The first write indexes the triples as objects; the ones handed out stay the same objects.
    for st in (lazy, whole):
        st.retire([st.triples()[0].id], 30)
        st.add_triples([Triple("thing 1", "rel 9", "place 9", valid_from=31, sources=["e9"])])
        st.delete_source("e2")
    assert lazy.row_view() is None and lazy.get_triple(first.id) is first
    assert reads(lazy) == reads(whole)
    lazy.close()
    whole.close()
    assert dump(EmbeddedStore(tmp_path / "g.gmem", readonly=True)) == \
        dump(EmbeddedStore(tmp_path / "g.json", readonly=True))


def test_opening_a_memory_makes_no_triple_objects(tmp_path):
    with Memory(str(tmp_path / "m.gmem"), resolver=ResolverConfig(use_fuzzy=False, use_embeddings=False)) as m:
        m.add_triples([("apple", "in", "fridge"), ("fridge", "in", "kitchen")], step=0,
                      vectors=np.eye(2, m.embedder.dim, dtype=np.float32))
        m.add_triples([("apple", "on", "table")], step=1, vectors=np.eye(1, m.embedder.dim, 2, dtype=np.float32))
    with Memory(EmbeddedStore(tmp_path / "m.gmem", readonly=True)) as m:
        assert m.store.row_view() is not None and not m.store.row_view()._made
        assert m.triple_index.n_active == 2  # the retired fact's vector is kept, not searched
        found = m.recall("apple", query_vectors=np.eye(1, m.embedder.dim, 2, dtype=np.float32))
        assert [t.as_list() for t in found.triples][0] == ["apple", "on", "table"]


def test_an_attachment_asked_for_after_close_is_a_clear_error(tmp_path):
    path = tmp_path / "m.gmem"
    st = EmbeddedStore(path)
    st.set_attachment("blob", "fp1", lambda out: out.write(b"abc"))
    st.close()
    again = EmbeddedStore(path)
    assert bytes(again.attachment("blob")[1]) == b"abc"
    again.close()
    with pytest.raises(StoreError, match="attachment 'blob': the store's file is closed"):
        again.attachment("blob")
