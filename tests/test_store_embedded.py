import json
import os

import pytest

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
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]  # no temp left behind
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
    with pytest.raises(StoreError, match="cannot read"):
        EmbeddedStore(tmp_path / "x.json")
    (tmp_path / "y.json").write_text('{"hello": 1}')
    with pytest.raises(StoreError, match="not a graphmem graph"):
        EmbeddedStore(tmp_path / "y.json")


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
