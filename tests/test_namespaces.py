"""Namespaces of a graph file: the store contract in a namespace beside a default namespace (and
another) full of the same names and ids, names, files, listing; and a graph file shared by stores
that write one at a time (``shared``), each seeing the other's writes."""
from __future__ import annotations

import json
import os

import pytest

from graphmem.model import Episode
from graphmem.store import open_store
from graphmem.store.base import StoreError
from graphmem.store.embedded import EmbeddedStore
from graphmem.store.namespaces import NamespaceError, checked_namespace, label_suffix, namespace_file
from store_contract import StoreContract, T


def fill_with_lookalikes(store) -> None:
    """The names, ids, episodes and metadata the contract's tests write, in another namespace: a
    store that leaks across namespaces fails the contract's exact answers."""
    facts = [T("apple", "on", "table"), T("a", "r", "b"), T("hub", "r", "o1", step=1), T("knife", "in", "drawer"),
             T("b", "r", "c", step=1), T("x", "r", "hub", step=1), T("rusty key", "in", "wooden box", step=1)]
    store.add_triples(facts)
    store.add_episodes([Episode(e, 0, f"lookalike {e}", [facts[0].id]) for e in ("e1", "e4", "p1", "p2")])
    store.set_meta("embedder", "lookalike")
    store.set_meta("profile", "documents")
    store.flush()


class TestNamespacedGraphFile(StoreContract):
    """Namespace ``a`` of a memory whose default namespace and namespace ``b`` hold lookalikes."""

    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    def make_store(self):
        root = self.tmp / f"m{len(os.listdir(self.tmp))}.json"
        for namespace in ("default", "b"):
            with EmbeddedStore(root, namespace=namespace) as other:
                fill_with_lookalikes(other)
        return EmbeddedStore(root, namespace="a")

    def reopen(self, store):
        store.flush()
        store.close()
        return EmbeddedStore(store.root, namespace="a", create=False)

    def open_again(self, store):
        return EmbeddedStore(store.root, namespace="a", create=False)


class TestNamespacedArchive(TestNamespacedGraphFile):
    def make_store(self):
        store = super().make_store()
        store.close()
        return EmbeddedStore(store.root.with_suffix(".gmem"), namespace="a")


def test_a_namespace_is_a_file_of_its_own_beside_the_memory(tmp_path):
    root = tmp_path / "memory.json"
    with EmbeddedStore(root) as default:
        default.add_triples([T("knife", "on", "table")])
    with open_store(root, namespace="work") as work:
        work.add_triples([T("knife", "in", "drawer")])
        assert work.path == tmp_path / "memory.json.namespaces" / "work.json"
        assert work.namespaces() == ["default"]  # a namespace is there once saved
    assert work.namespaces() == ["default", "work"]
    # The memory's file is what it always was: a graph file that any graphmem reads as it is.
    assert [t["object"] for t in json.loads(root.read_text())["triples"]] == ["table"]
    assert [t.object for t in EmbeddedStore(root, readonly=True).triples()] == ["table"]
    assert [t.object for t in EmbeddedStore(root, readonly=True, namespace="work").triples()] == ["drawer"]
    with pytest.raises(StoreError, match="no namespace 'home' in"):
        EmbeddedStore(root, namespace="home", create=False)
    assert EmbeddedStore(root, readonly=True).namespaces() == ["default", "work"]  # no file for home


def test_the_same_passage_in_two_namespaces_is_two_episodes(tmp_path):
    """One id, one episode per namespace: forgetting it in one leaves the other's."""
    root = tmp_path / "m.gmem"
    for namespace in ("a", "b"):
        with EmbeddedStore(root, namespace=namespace) as store:
            fact = T("knife", "on", "table", sources=("p1",))
            store.add_triples([fact])
            store.add_episode(Episode("p1", 0, "A knife is on the table.", [fact.id]))
    with EmbeddedStore(root, namespace="a") as a:
        assert a.delete_source("p1") == [fact.id]
    b = EmbeddedStore(root, namespace="b", readonly=True)
    assert b.get_episode("p1") is not None and b.get_triple(fact.id) is not None


@pytest.mark.parametrize("name", ["", "A", "a b", "../x", "-a", "a" * 65, "é", None, 3])
def test_bad_namespace_names_are_refused(tmp_path, name):
    with pytest.raises(NamespaceError, match="lowercase letters, digits"):
        checked_namespace(name)
    with pytest.raises(NamespaceError):
        EmbeddedStore(tmp_path / "m.json", namespace=name)


def test_names_map_to_distinct_files_and_labels():
    names = ["a", "a-b", "a_b", "a_2db", "a_5fb", "0", "default"]
    assert len({label_suffix(n) for n in names}) == len(names)
    assert label_suffix("default") == "" and label_suffix("a-b") == "__a_2db"
    assert len({namespace_file("m.gmem", n) for n in names}) == len(names)


# --- a graph file shared by processes ----------------------------------------------------------
def test_shared_stores_write_one_at_a_time_and_see_each_others_writes(tmp_path):
    path = tmp_path / "m.json"
    one, two = EmbeddedStore(path, shared=True), EmbeddedStore(path, shared=True)
    with one.writing():
        one.add_triples([T("knife", "on", "table")])
        one.flush()
    assert two.stale() and not one.stale()
    two.add_triples([T("fork", "on", "table")])
    with two.writing(), pytest.raises(StoreError, match="written by another process since it was read"):
        two.flush()  # would overwrite one's write
    two.reload()
    assert not two.stale()
    with two.writing():
        two.add_triples([T("fork", "on", "table")])
        two.flush()
    assert one.stale()
    one.reload()
    assert sorted(t.subject for t in one.triples()) == ["fork", "knife"]


def test_a_shared_store_saves_only_inside_writing(tmp_path):
    store = EmbeddedStore(tmp_path / "m.json", shared=True)
    store.add_triples([T("knife", "on", "table")])
    with pytest.raises(StoreError, match="inside writing"):
        store.flush()
    store.close()  # drops what was not written inside writing()
    assert not (tmp_path / "m.json").exists()


def test_a_shared_write_waits_for_a_writer_that_holds_the_file_then_fails_clearly(tmp_path):
    import subprocess
    import sys
    import time
    from pathlib import Path

    from graphmem.util.filelock import LockedError

    path, ready = tmp_path / "m.json", tmp_path / "ready"
    root = str(Path(__file__).resolve().parents[1])
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
sys.path.insert(0, {root!r})
from graphmem.store.embedded import EmbeddedStore
st = EmbeddedStore({str(path)!r})
open({str(ready)!r}, "w").close()
time.sleep(60)
"""])
    try:
        while not ready.exists():
            assert holder.poll() is None
            time.sleep(0.05)
        shared = EmbeddedStore(path, shared=True)  # opening waits for nobody
        with pytest.raises(LockedError, match=rf"pid {holder.pid}\) \(waited 0.2 s\)"):
            with shared.writing(wait=0.2):
                pass
    finally:
        holder.kill()
        holder.wait()
    with shared.writing(wait=5):  # the holder is gone, and its lock with it
        shared.add_triples([T("knife", "on", "table")])
        shared.flush()
    assert len(EmbeddedStore(path, readonly=True).triples()) == 1


# --- a namespace as records --------------------------------------------------------------------
def test_pages_of_records_give_every_record_once_in_order():
    from graphmem.store.records import page, records

    store = EmbeddedStore()
    store.add_triples([T(f"s{i}", "r", "o", step=i) for i in range(7)])
    store.add_episodes([Episode(f"e{i}", i, "text") for i in range(4)])
    everything = list(records(store))
    assert [r["kind"] for r in everything] == ["namespace"] + ["triple"] * 7 + ["episode"] * 4
    for limit in range(1, 14):
        got, offset = [], 0
        while offset is not None:
            part, offset = page(store, offset, limit)
            assert 0 < len(part) <= limit
            got += part
        assert got == everything


def test_records_round_trip_with_vectors_and_refuse_what_is_malformed(tmp_path):
    from graphmem.store.records import import_records, read_jsonl, write_jsonl

    source = EmbeddedStore(tmp_path / "m.gmem", namespace="a")
    fact = T("knife", "on", "table", sources=("e1",), vec=[0.6, 0.8, 0.0])
    source.add_triples([fact, T("fork", "on", "table")])
    source.retire([fact.id], 3, by="e2")
    source.add_episode(Episode("e1", 0, "A knife.", [fact.id], meta={"speaker": "Ann"}))
    source.set_meta("embedder", "m")
    write_jsonl(source, tmp_path / "a.jsonl", vectors=True)
    target = EmbeddedStore(tmp_path / "m.gmem", namespace="b")
    assert import_records(target, read_jsonl(tmp_path / "a.jsonl")) == {"triples": 2, "episodes": 1}
    assert [t.to_dict() for t in target.triples(current_only=False)] == \
        [t.to_dict() for t in source.triples(current_only=False)]
    assert target.get_triple(fact.id).embedding.tolist() == pytest.approx([0.6, 0.8, 0.0])
    assert target.get_episode("e1").meta == {"speaker": "Ann"} and target.meta() == {"embedder": "m"}
    lines = read_jsonl(tmp_path / "a.jsonl")
    with pytest.raises(StoreError, match="already holds"):
        import_records(target, lines)
    other = EmbeddedStore(tmp_path / "m.gmem", namespace="c")
    other.add_triples([T("x", "r", "y")])
    other.set_meta("embedder", "another")
    with pytest.raises(StoreError, match="embedder: 'another', the export's 'm'"):
        import_records(other, lines, merge=True)
    for bad, needle in ((lines[1:2] + lines[:1], "record 2: the header comes first"),
                        ([{"kind": "fact"}], "'kind' must be"),
                        ([{**lines[1], "vector": "%%%"}], "base64"),
                        ([{**lines[0], "version": 9}], "version 9")):
        with pytest.raises(StoreError, match=needle):
            import_records(EmbeddedStore(), bad)
