import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes import HashingEmbedder, ScriptedExtractor
from graphmem.model import Triple
from graphmem.store.base import StoreError
from graphmem.store.embedded import EmbeddedStore
from store_contract import StoreContract, T


class TestEmbeddedStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    def make_store(self):
        return EmbeddedStore(self.tmp / f"g{len(os.listdir(self.tmp))}.json")

    def reopen(self, store):
        store.flush()
        store.close()
        return EmbeddedStore(store.path, create=False)

    def open_again(self, store):
        return EmbeddedStore(store.path, create=False)


@pytest.fixture()
def saved_then_changed(tmp_path):
    """A store saved with one triple, then given a second one not yet saved."""
    path = tmp_path / "g.json"
    st = EmbeddedStore(path)
    st.add_triples([T("apple", "on", "table")])
    st.flush()
    good = path.read_bytes()
    st.add_triples([T("knife", "in", "drawer")])
    return path, st, good


def test_crash_during_save_keeps_old_file(saved_then_changed, tmp_path, monkeypatch):
    path, st, good = saved_then_changed

    def torn_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", torn_write)
    with pytest.raises(OSError):
        st.flush()
    assert path.read_bytes() == good
    # No temp left behind; the writer's lock stays until close().
    assert sorted(p.name for p in tmp_path.iterdir()) == [".g.json.lock", "g.json"]
    monkeypatch.undo()
    assert len(EmbeddedStore(path).triples()) == 1


def test_crash_mid_serialisation_keeps_old_file(saved_then_changed, monkeypatch):
    path, st, good = saved_then_changed
    real_dump = json.dump

    def dump_then_die(obj, fh, **kw):
        fh.write('{"format": "graphmem-graph", "trip')
        raise KeyboardInterrupt

    monkeypatch.setattr(json, "dump", dump_then_die)
    with pytest.raises(KeyboardInterrupt):
        st.flush()
    monkeypatch.setattr(json, "dump", real_dump)
    assert path.read_bytes() == good


def test_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="no graph file"):
        EmbeddedStore(tmp_path / "missing.json", create=False)
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        EmbeddedStore(tmp_path / "x.json")
    (tmp_path / "y.json").write_text('{"hello": 1}')
    with pytest.raises(StoreError, match="not a graphmem graph"):
        EmbeddedStore(tmp_path / "y.json")


GOOD_TRIPLE = {"id": "t1", "subject": "a", "relation": "is", "object": "b", "valid_from": 0,
               "valid_until": None, "sources": []}


@pytest.mark.parametrize("doc,needle", [
    ({"version": "1"}, "unknown graph format version '1'"),
    ({"version": None}, "unknown graph format version None"),
    ({"version": 99}, "newer graphmem (format version 99"),
    ({"triples": [{"id": "t1", "subject": "a", "object": "b"}]}, "without 'relation'"),
    ({"triples": [{**GOOD_TRIPLE, "valid_from": "yesterday"}]}, "'valid_from' has the wrong type"),
    ({"triples": [{**GOOD_TRIPLE, "sources": "e1"}]}, "'sources' has the wrong type"),
    ({"triples": "all of them"}, "'triples' must be a list"),
    ({"episodes": [{"step": 1}]}, "without 'id'"),
    ({"triples": [GOOD_TRIPLE], "vectors": {"triples": {"dim": 2, "ids": ["t1"], "data": "!!"}}}, "bad vector data"),
    ({"triples": [GOOD_TRIPLE], "vectors": {"triples": {"dim": 0, "ids": ["t1"], "data": ""}}}, "positive integer 'dim'"),
    ({"triples": [GOOD_TRIPLE], "vectors": {"triples": {"dim": 1, "ids": ["t1", "t2"], "data": "AACAPw=="}}},
     "2 ids but 1 vectors"),
    ({"meta": [1]}, "'meta' must be objects"),
])
def test_malformed_graph_files_are_store_errors(tmp_path, doc, needle):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"format": "graphmem-graph", "version": 1, **doc}))
    with pytest.raises(StoreError, match=re.escape(needle)):
        EmbeddedStore(path)
    assert not list(tmp_path.glob(".*.lock"))  # a refused file leaves no lock behind


def test_graph_files_with_a_bom_or_deep_nesting(tmp_path):
    path = tmp_path / "g.json"
    st = EmbeddedStore(path)
    st.add_triples([T("apple", "on", "table")])
    st.close()
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # saved again by a Windows editor
    assert len(EmbeddedStore(path, readonly=True).triples()) == 1
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(StoreError, match="too deeply"):
        EmbeddedStore(path)


def test_close_saves_pending_changes(tmp_path):
    from graphmem.memory import Memory

    path = tmp_path / "m.json"
    with Memory(str(path), embedder=HashingEmbedder()) as m:
        m.add_triples([("a", "is", "b")], step=0)
    assert [t.as_list() for t in EmbeddedStore(path, readonly=True).triples()] == [["a", "is", "b"]]
    st = EmbeddedStore(path)
    st.add_triples([T("c", "in", "d")])
    st.close()
    assert len(EmbeddedStore(path, readonly=True).triples()) == 2
    reader = EmbeddedStore(path, readonly=True)  # a reader never writes, not even on close
    reader.add_triples([T("e", "in", "f")])
    reader.close()
    assert len(EmbeddedStore(path, readonly=True).triples()) == 2
    with pytest.raises(StoreError, match="read-only"):
        reader.flush()


WRITER = """
import sys, time
sys.path.insert(0, {root!r})
from graphmem.store.embedded import EmbeddedStore
st = EmbeddedStore({path!r})
open({ready!r}, "w").close()
time.sleep(60)
"""


def test_a_second_writer_fails_clearly_while_readers_go_on(tmp_path):
    from graphmem.util.filelock import LockedError

    path, ready = tmp_path / "g.json", tmp_path / "ready"
    EmbeddedStore(path).close()
    assert not (tmp_path / ".g.json.lock").exists()  # released and cleaned up
    root = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=root, path=str(path), ready=str(ready))])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists()
        with pytest.raises(LockedError, match=f"another graphmem process \\(pid {proc.pid}\\)"):
            EmbeddedStore(path)
        assert EmbeddedStore(path, readonly=True).triples() == []
    finally:
        proc.kill()
        proc.wait()
    EmbeddedStore(path).close()  # the lock of a killed writer is gone with it


def test_cypher_validity_and_variable_length(tmp_path):
    st = EmbeddedStore()
    old = Triple("apple", "on", "table", valid_from=1)
    st.add_triples([old, Triple("table", "in", "kitchen", valid_from=1)])
    st.retire([old.id], 3)
    rows = st.cypher("MATCH (a)-[r]->(b) WHERE r.valid_until IS NULL RETURN a.name, b.name")
    assert rows == [{"a.name": "table", "b.name": "kitchen"}]
    rows = st.cypher("MATCH (a)-[r*1..2]->(b) WHERE a.name = 'apple' RETURN b.name")
    assert sorted(r["b.name"] for r in rows) == ["kitchen", "table"]


def test_saved_file_is_readable_by_others(tmp_path):
    st = EmbeddedStore(tmp_path / "g.json")
    st.add_triples([T("a", "r", "b")])
    st.flush()
    assert (tmp_path / "g.json").stat().st_mode & 0o044  # not mkstemp's 0600


def test_memory_on_a_path_persists_on_exit(tmp_path):
    from graphmem.memory import Memory

    path = tmp_path / "m.json"
    key = "A rusty key lies on the wooden table."
    embedder, extractor = HashingEmbedder(), ScriptedExtractor({key: [("rusty key", "on", "wooden table")]})
    with Memory(str(path), embedder=embedder, extractor=extractor) as memory:
        memory.observe(f"-= Kitchen =-\n{key}", step=0)
        memory.add_triples([("apple", "in", "fridge")], step=1)
    with Memory(str(path), embedder=embedder) as memory:
        assert ["apple", "in", "fridge"] in [t.as_list() for t in memory.current()]
        assert memory.stats()["episodes"] == 2


class TestArchiveStore(TestEmbeddedStore):
    """The same contract on the binary graph archive (any file name but *.json)."""

    def make_store(self):
        return EmbeddedStore(self.tmp / f"g{len(os.listdir(self.tmp))}.gmem")


# Writes in any order of steps, re-adds and retirements, on a new store and on one opened from an
# archive (whose lists were built whole): each entity's lists stay in (valid_from, id) order.
_writes = st.lists(st.tuples(st.sampled_from(["add", "add", "add", "retire"]), st.integers(0, 4),
                             st.integers(0, 4), st.integers(0, 3)), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=_writes, after=_writes)
def test_entity_lists_stay_in_time_order_whatever_the_order_of_writes(tmp_path_factory, before, after):
    path = tmp_path_factory.mktemp("g") / "g.gmem"
    st_ = EmbeddedStore(path)
    _apply(st_, before)
    st_.close()
    st_ = EmbeddedStore(path)  # the archive, when the first writes made one
    _apply(st_, after)
    every = st_.triples(current_only=False)
    for name in st_.entities():
        for current_only in (False, True):
            want = [t.id for t in every if name in (t.subject, t.object) and (t.current or not current_only)]
            assert [t.id for t in st_.triples_of_entity(name, current_only)] == want, (name, current_only)
    st_.close()


def _apply(store: EmbeddedStore, writes) -> None:
    for kind, a, b, step in writes:
        fact = Triple(f"e{a}", "r", f"e{b}", valid_from=step)
        if kind == "add":
            store.add_triples([fact])
        else:
            store.retire([fact.id], step + 1)
