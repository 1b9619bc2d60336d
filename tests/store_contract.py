"""The GraphStore contract. Every backend's test module subclasses ``StoreContract`` and provides
``make_store()`` (a fresh, empty store), ``reopen(store)`` (close, then open the same data again) and
``open_again(store)`` (a new store on the same data, after ``store`` was closed by someone else).
"""
from __future__ import annotations

import numpy as np
import pytest

from graphmem.model import Episode, Triple
from graphmem.store.base import CypherError, GraphStore
from graphmem.store.embedded import EmbeddedStore


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

    def open_again(self, store: GraphStore) -> GraphStore:
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
        found = st.find_current_many([("red apple", "on", "floor"), ("red apple", "on", "table")])
        assert {fact: x.id for fact, x in found.items()} == {("red apple", "on", "table"): t.id}
        assert st.entities() == ["red apple", "table"]

    def test_add_is_upsert_by_id(self):
        st = self.make_store()
        t = T("a", "r", "b")
        st.add_triples([t])
        t2 = T("a", "r", "b", sources=("e1", "e2"))
        st.add_triples([t2])
        assert len(st.triples()) == 1
        assert st.get_triple(t.id).sources == ["e1", "e2"]

    def test_re_adding_keeps_the_entity_lists_right(self):
        """A fact told again (its sources grown, in place or as a copy) stays once in its entities'
        lists; one passed back retired leaves the current ones."""
        st = self.make_store()
        facts = [T("hub", "r", f"o{i}", step=i) for i in range(5)]
        st.add_triples(facts)
        again = st.get_triple(facts[2].id)
        again.sources.append("e2")
        st.add_triples([again, T("hub", "r", "o3", step=3, sources=("e1", "e3"))])
        order = [t.id for t in facts]
        assert [t.id for t in st.triples_of_entity("hub")] == order
        assert st.get_triple(facts[3].id).sources == ["e1", "e3"]
        gone = st.get_triple(facts[1].id)
        gone.valid_until = 7
        st.add_triples([gone])
        assert [t.id for t in st.triples_of_entity("hub")] == order[:1] + order[2:]
        assert [t.id for t in st.triples_of_entity("hub", current_only=False)] == order
        assert st.find_current("hub", "r", "o1") is None
        assert st.triple_ids_of_entities(["hub"])["hub"] == [order[4], order[3], order[2], order[0]]

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
        assert st.find_current_many([("apple", "on", "table")])[("apple", "on", "table")].id == again.id
        assert st.counts()["triples"] == 2 and st.counts()["current_triples"] == 1

    def test_a_retired_triple_keeps_the_source_that_retired_it_and_can_be_restored(self):
        st = self.make_store()
        a, b, c = T("apple", "on", "table"), T("pear", "on", "table"), T("plum", "on", "table")
        st.add_triples([a, b, c])
        assert st.retire([a.id], 3, by="e2") == [a.id] and st.retire([b.id], 4) == [b.id]
        assert st.retire([a.id], 5, by="e9") == []  # retired once: the first retiring source stays
        st = self.reopen(st)
        assert [t.id for t in st.retired_by_source("e2")] == [a.id]
        assert st.retired_by_source("e9") == [] and st.get_triple(b.id).retired_by is None
        assert st.get_triple(a.id).retired_by == "e2" and st.get_triple(c.id).retired_by is None
        back = st.get_triple(a.id)
        back.valid_until = back.retired_by = None
        st.add_triples([back])  # made current again by writing it back
        st = self.reopen(st)
        assert st.find_current("apple", "on", "table").id == a.id and st.retired_by_source("e2") == []

    def test_episodes(self):
        st = self.make_store()
        st.add_episode(Episode("ep2", 2, "second", ["t1"]))
        st.add_episode(Episode("ep1", 1, "first", [], title="T"))
        assert [e.id for e in st.episodes()] == ["ep1", "ep2"]
        assert st.get_episode("ep2").triple_ids == ["t1"]
        assert st.get_episode("ep1").title == "T"
        assert st.get_episode("nope") is None

    def test_set_episode_meta_replaces_the_meta_alone(self):
        st = self.make_store()
        fact = T("ulm", "on", "danube", sources=("c1",))
        st.add_triples([fact])
        chunk = Episode("c1", 2, "Ulm lies on the Danube.", [fact.id], title="rivers",
                        meta={"document": "rivers.md", "position": "0"})
        chunk.embedding = np.array([0.6, 0.8, 0.0], dtype=np.float32)
        st.add_episode(chunk)
        assert st.set_episode_meta("c1", {"document": "rivers.md", "position": "3"})
        assert not st.set_episode_meta("missing", {"position": "1"})
        st = self.reopen(st)
        got = st.get_episode("c1")
        assert got.meta == {"document": "rivers.md", "position": "3"}
        assert (got.step, got.text, got.title, got.triple_ids) == (2, chunk.text, "rivers", [fact.id])
        assert np.array_equal(got.embedding, chunk.embedding)
        assert st.get_episode("missing") is None and st.counts()["episodes"] == 1
        assert st.set_episode_meta("c1", {}) and st.get_episode("c1").meta == {}

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

    def test_memory_context_persists_on_exit(self):
        from fakes import HashingEmbedder
        from graphmem.memory import Memory

        st = self.make_store()
        with Memory(st, embedder=HashingEmbedder()) as memory:  # no save(): leaving the block must persist
            memory.add_triples([("rusty key", "in", "wooden box")], step=1)
        again = self.open_again(st)
        assert [t.as_list() for t in again.triples()] == [["rusty key", "in", "wooden box"]]
        assert again.meta()["profile"] == "text-game"
        assert again.get_triple(again.triples()[0].id).embedding is not None

    def test_save_to_a_graph_file(self, tmp_path):
        from graphmem.store.embedded import EmbeddedStore

        st = self.make_store()
        a = T("apple", "on", "table", vec=[0.6, 0.8, 0.0])
        st.add_triples([a, T("door", "is", "closed", sources=("e2",))])
        st.retire([a.id], 3)
        st.add_episode(Episode("e1", 0, "An apple is on the table.", [a.id]))
        st.set_meta("embedder", "m")
        st.save(tmp_path / "copy.json")
        copy = EmbeddedStore(tmp_path / "copy.json", create=False, readonly=True)
        assert [t.to_dict() for t in copy.triples(current_only=False)] == \
            [t.to_dict() for t in st.triples(current_only=False)]
        assert [e.to_dict() for e in copy.episodes()] == [e.to_dict() for e in st.episodes()]
        assert copy.meta() == {"embedder": "m"}

    # --- batch reads ---------------------------------------------------------------------------
    def test_batch_reads_keep_the_order_asked_and_skip_unknown_ids(self):
        st = self.make_store()
        a, b, c = T("a", "r", "b", step=2), T("b", "r", "c", step=1), T("x", "r", "y")
        st.add_triples([a, b, c])
        assert [t.id for t in st.get_triples([c.id, "nope", a.id, c.id])] == [c.id, a.id]
        assert st.get_triples([]) == []
        for i in (2, 1, 3):
            st.add_episode(Episode(f"e{i}", i, f"episode {i}", []))
        assert [e.id for e in st.get_episodes(["e3", "missing", "e1"])] == ["e3", "e1"]
        both = st.triples_of_entities(["b", "b", "nobody"])
        assert [t.id for t in both] == [t.id for t in sorted([a, b], key=lambda t: (t.valid_from, t.id))]
        st.retire([b.id], 5)
        assert [t.id for t in st.triples_of_entities(["b"])] == [a.id]
        assert {t.id for t in st.triples_of_entities(["b"], current_only=False)} == {a.id, b.id}

    def test_triple_ids_of_entities_newest_first_up_to_a_limit(self):
        st = self.make_store()
        ts = [T("hub", "r", f"o{i}", step=i % 3) for i in range(6)] + [T("x", "r", "hub", step=1)]
        st.add_triples(ts)
        st.retire([ts[5].id], 9)
        current = sorted((t for t in ts if t is not ts[5]), key=lambda t: (t.valid_from, t.id), reverse=True)
        got = st.triple_ids_of_entities(["hub", "nobody", "hub"], limit=3)
        assert list(got) == ["hub", "nobody"]
        assert got["hub"] == [t.id for t in current[:3]] and got["nobody"] == []
        assert st.triple_ids_of_entities(["hub"])["hub"] == [t.id for t in current]
        assert st.triple_ids_of_entities(["x"], limit=5) == {"x": [ts[6].id]}

    def test_triple_vectors_in_triple_order(self):
        st = self.make_store()
        assert st.triple_vectors() == ([], None)
        a = T("a", "r", "b", step=2, vec=[0.6, 0.8, 0.0])
        b = T("b", "r", "c", step=1, vec=[0.0, 0.6, 0.8])
        st.add_triples([a, b, T("c", "r", "d")])
        st = self.reopen(st)
        ids, matrix = st.triple_vectors()
        assert ids == [b.id, a.id]
        assert np.array_equal(matrix, np.array([[0.0, 0.6, 0.8], [0.6, 0.8, 0.0]], dtype=np.float32))

    def test_attachments_are_kept_or_dropped_never_altered(self):
        # Every store answers the attachment calls: a graph archive keeps the blob, others drop it.
        st = self.make_store()
        assert st.readonly is False and st.attachment("ann") is None
        st.set_attachment("ann", "fp1", lambda fh: fh.write(b"\x01\x02"))
        kept = st.attachment("ann")
        assert kept is None or (kept[0] == "fp1" and bytes(kept[1]) == b"\x01\x02")

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


def sample_graph(path) -> EmbeddedStore:
    """A small graph file with what a transfer must carry: retired facts, facts and episodes with
    and without vectors, an episode with metadata, and graph metadata."""
    rng = np.random.default_rng(7)
    st = EmbeddedStore(path)
    ts = [Triple(f"thing {i}", "in", f"room {i % 5}", valid_from=i, sources=[f"e{i}", "seed"])
          for i in range(40)]
    for t in ts[::2]:
        t.embedding = rng.standard_normal(384).astype(np.float32)
    ts.append(Triple("door", "is", "open", valid_from=3))  # no sources, no embedding
    st.add_triples(ts)
    st.retire([ts[1].id, ts[4].id], 50)
    for i in range(5):
        ep = Episode(f"e{i}", i, f"Step {i}: you see things.", [ts[i].id], title=f"s{i}",
                     meta={"document": "d.md"} if i == 2 else None)
        ep.embedding = rng.standard_normal(384).astype(np.float32) if i % 2 else None
        st.add_episode(ep)
    st.set_meta("embedder", "all-MiniLM-L6-v2")
    st.set_meta("step", 50)
    st.flush()
    return st
