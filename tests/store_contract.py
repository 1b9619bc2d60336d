"""The GraphStore contract. Every backend's test module subclasses ``StoreContract`` and provides
``make_store()`` (a fresh, empty store) and ``reopen(store)`` (close, then open the same data again).
"""
from __future__ import annotations

import numpy as np
import pytest

from graphmem.model import Episode, Triple
from graphmem.store.base import CypherError, GraphStore


def T(s, r, o, step=0, sources=("e1",), vec=None):
    t = Triple(s, r, o, valid_from=step, sources=list(sources))
    if vec is not None:
        t.embedding = np.asarray(vec, dtype=np.float32)
    return t


class StoreContract:
    def make_store(self) -> GraphStore:
        raise NotImplementedError

    def reopen(self, store: GraphStore) -> GraphStore:
        raise NotImplementedError

    # --- basics --------------------------------------------------------------------------------
    def test_is_a_graph_store(self):
        assert isinstance(self.make_store(), GraphStore)

    def test_add_and_get(self):
        st = self.make_store()
        t = T("red apple", "on", "table")
        st.add_triples([t])
        got = st.get_triple(t.id)
        assert got is not None and got.as_list() == ["red apple", "on", "table"]
        assert got.sources == ["e1"] and got.valid_until is None
        assert st.find_current("red apple", "on", "table").id == t.id
        assert st.find_current("red apple", "on", "floor") is None
        assert st.entities() == ["red apple", "table"]

    def test_add_is_upsert_by_id(self):
        st = self.make_store()
        t = T("a", "r", "b")
        st.add_triples([t])
        t2 = T("a", "r", "b", sources=("e1", "e2"))
        st.add_triples([t2])
        assert len(st.triples()) == 1
        assert st.get_triple(t.id).sources == ["e1", "e2"]

    def test_ordering_is_by_step_then_id(self):
        st = self.make_store()
        ts = [T("x", "r", f"o{i}", step=3 - i % 3) for i in range(9)]
        st.add_triples(ts)
        want = sorted(ts, key=lambda t: (t.valid_from, t.id))
        assert [t.id for t in st.triples()] == [t.id for t in want]

    def test_triples_of_entity_both_directions(self):
        st = self.make_store()
        st.add_triples([T("apple", "on", "table"), T("table", "in", "kitchen"), T("knife", "in", "drawer")])
        rels = sorted(t.as_list()[1] for t in st.triples_of_entity("table"))
        assert rels == ["in", "on"]
        assert st.triples_of_entity("nothing") == []

    def test_retire_keeps_history(self):
        st = self.make_store()
        old = T("apple", "on", "table", step=1)
        st.add_triples([old])
        assert st.retire([old.id], 5) == [old.id]
        assert st.retire([old.id], 6) == []  # already retired
        assert st.triples() == []
        hist = st.triples(current_only=False)
        assert len(hist) == 1 and hist[0].valid_until == 5
        assert st.find_current("apple", "on", "table") is None
        assert st.triples_of_entity("apple") == []
        assert [t.valid_until for t in st.triples_of_entity("apple", current_only=False)] == [5]
        # The fact made true again is a new triple with its own validity.
        again = T("apple", "on", "table", step=9)
        st.add_triples([again])
        assert again.id != old.id
        assert st.find_current("apple", "on", "table").id == again.id
        assert st.counts()["triples"] == 2 and st.counts()["current_triples"] == 1

    def test_episodes(self):
        st = self.make_store()
        st.add_episode(Episode("ep2", 2, "second", ["t1"]))
        st.add_episode(Episode("ep1", 1, "first", [], title="T"))
        assert [e.id for e in st.episodes()] == ["ep1", "ep2"]
        assert st.get_episode("ep2").triple_ids == ["t1"]
        assert st.get_episode("ep1").title == "T"
        assert st.get_episode("nope") is None

    def test_delete_source_removes_only_what_it_alone_supported(self):
        st = self.make_store()
        shared = T("apple", "on", "table", sources=("p1", "p2"))
        alone = T("knife", "in", "drawer", sources=("p1",))
        other = T("fork", "in", "drawer", sources=("p2",))
        st.add_triples([shared, alone, other])
        st.add_episode(Episode("p1", 0, "x", [shared.id, alone.id]))
        st.add_episode(Episode("p2", 0, "y", [shared.id, other.id]))
        assert st.delete_source("p1") == [alone.id]
        assert st.get_triple(alone.id) is None
        assert st.get_triple(shared.id).sources == ["p2"]
        assert st.get_episode("p1") is None
        assert "knife" not in st.entities() and "drawer" in st.entities()
        assert st.counts() == {"triples": 2, "current_triples": 2, "entities": 4, "episodes": 1}

    def test_meta(self):
        st = self.make_store()
        st.set_meta("embedder", "m")
        st.set_meta("step", 3)
        assert st.meta() == {"embedder": "m", "step": 3}

    # --- persistence ---------------------------------------------------------------------------
    def test_round_trip_is_identical(self):
        st = self.make_store()
        a = T("apple", "on", "table", step=1, vec=[0.6, 0.8, 0.0])
        b = T("apple", "in", "inventory", step=4, sources=("e4",), vec=[0.0, 0.6, 0.8])
        c = T("door", "is", "closed", step=2, sources=("e2", "e3"))
        st.add_triples([a, b, c])
        st.retire([a.id], 4)
        ep = Episode("e4", 4, "You take the apple.", [b.id], title="step 4")
        ep.embedding = np.array([1.0, 0.0, 0.0], dtype=np.float32)
        st.add_episode(ep)
        st.set_meta("embedder", "m")
        before = ([t.to_dict() for t in st.triples(current_only=False)], [e.to_dict() for e in st.episodes()])
        st2 = self.reopen(st)
        after = ([t.to_dict() for t in st2.triples(current_only=False)], [e.to_dict() for e in st2.episodes()])
        assert before == after
        assert np.array_equal(st2.get_triple(b.id).embedding, np.array([0.0, 0.6, 0.8], dtype=np.float32))
        assert st2.get_triple(c.id).embedding is None
        assert np.array_equal(st2.get_episode("e4").embedding, ep.embedding)
        assert st2.find_current("apple", "in", "inventory").id == b.id
        assert st2.find_current("apple", "on", "table") is None
        assert st2.meta() == {"embedder": "m"}
        assert st2.counts() == st.counts()

    # --- cypher --------------------------------------------------------------------------------
    def test_cypher_read(self):
        st = self.make_store()
        st.add_triples([T("apple", "on", "table"), T("table", "in", "kitchen")])
        rows = st.cypher("MATCH (a)-[r]->(b) WHERE b.name = 'kitchen' RETURN a.name, r.relation")
        assert rows == [{"a.name": "table", "r.relation": "in"}]

    def test_cypher_write_refused(self):
        st = self.make_store()
        with pytest.raises(CypherError):
            st.cypher("CREATE (n {name: 'x'})")
        assert st.entities() == []

    def test_cypher_syntax_error(self):
        st = self.make_store()
        with pytest.raises(CypherError):
            st.cypher("MATCH (a RETURN a")
