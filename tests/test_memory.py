"""Memory: what observing and adding facts does to the graph, on a scripted extractor and the hashing
embedder; and end to end on the real spaCy extractor and the real embedding model (slow)."""
import numpy as np
import pytest

from fakes import HashingEmbedder, ScriptedExtractor
from graphmem.errors import ConfigError
from graphmem.memory import PASSAGE_TOKENS, Memory
from graphmem.store.embedded import EmbeddedStore

ROOM_A = """-= Room A =-
You find yourself in a Room A. An ordinary one.

You notice a Golden locker.

There is an exit to the west.

There is a Key 1 on the floor."""
# What the real extractor reads in these texts (test_observe_extracts_links_and_updates checks it).
SCRIPT = {
    "You notice a Golden locker.": [("Golden locker", "in", "Room A")],
    "There is an exit to the west.": [("Room A", "has exit", "west")],
    "There is a Key 1 on the floor.": [("Key 1", "in", "Room A")],
    "You pick up the Key 1 from the ground.": [("Key 1", "in", "inventory")],
    "A red apple is on the wooden table.": [("red apple", "on", "wooden table")],
    "The red apple is on the wooden table.": [("red apple", "on", "wooden table")],
    "There is a knife in the drawer.": [("knife", "in", "drawer")],
    "The fridge is closed.": [("fridge", "is", "closed")],
}


def scripted(store=None, **settings) -> Memory:
    return Memory(store, embedder=HashingEmbedder(), extractor=ScriptedExtractor(SCRIPT), **settings)


@pytest.fixture()
def memory():
    return scripted()


def facts(mem):
    return sorted(tuple(t.as_list()) for t in mem.current())


@pytest.mark.slow
def test_observe_extracts_links_and_updates():
    memory = Memory()
    r0 = memory.observe(ROOM_A, step=0)
    assert ("key 1", "in", "room a") in facts(memory)
    assert ("room a", "has exit", "west") in facts(memory)
    assert set(r0.episode.triple_ids) == {t.id for t in r0.added}
    r1 = memory.observe("You pick up the Key 1 from the ground.", step=1)
    assert [t.as_list() for t in r1.added] == [["key 1", "in", "inventory"]]
    assert ("key 1", "in", "room a") not in facts(memory)
    history = memory.history("the Key 1")
    assert [(t.object, t.valid_from, t.valid_until) for t in history] == [("room a", 0, 1), ("inventory", 1, None)]
    assert r1.retired == [history[0].id]


def test_states_are_single_valued(memory):
    memory.add_triples([("fridge", "is", "closed"), ("fridge", "in", "kitchen")], step=0)
    memory.add_triples([("The Fridge", "is", "open")], step=3)
    assert ("fridge", "is", "open") in facts(memory)
    assert ("fridge", "is", "closed") not in facts(memory)
    assert ("fridge", "in", "kitchen") in facts(memory)  # another aspect: untouched
    old = [t for t in memory.history("fridge") if t.object == "closed"][0]
    assert old.valid_until == 3


def test_reobserving_a_fact_adds_a_source_not_a_triple(memory):
    memory.observe("A red apple is on the wooden table.", step=0, source_id="a")
    memory.observe("The red apple is on the wooden table.", step=1, source_id="b")
    ts = memory.current()
    assert len(ts) == 1 and ts[0].sources == ["a", "b"] and ts[0].valid_from == 0


def test_embeddings_computed_once_and_persisted(tmp_path):
    path = tmp_path / "mem.json"
    mem = scripted(EmbeddedStore(path))
    mem.observe(ROOM_A, step=0)
    mem.save()
    calls = mem.embedder.calls
    calls.clear()
    again = Memory(EmbeddedStore(path, create=False), embedder=mem.embedder)
    assert calls == []  # nothing re-embedded on load
    assert facts(again) == facts(mem)
    sub = again.recall("where is key 1?")
    assert calls == [["where is key 1?"]]  # one query embedding, never the graph
    assert sub.triples and sub.triples[0].as_list() == ["key 1", "in", "room a"]
    again.recall("where is key 1?")
    assert len(calls) == 1  # a repeated query is not embedded again


def test_forget_source_removes_only_its_facts(memory):
    memory.observe("A red apple is on the wooden table.", step=0, source_id="p1")
    memory.observe("There is a knife in the drawer. A red apple is on the wooden table.", step=0, source_id="p2")
    deleted = memory.forget("p2")
    assert len(deleted) == 1
    assert facts(memory) == [("red apple", "on", "wooden table")]
    assert memory.recall("knife drawer").triples == [] or all(
        "knife" not in t.text for t in memory.recall("knife drawer").triples)


def test_malformed_triples_are_dropped_not_fatal(memory):
    res = memory.add_triples([("a", "likes", "b"), ("", "x", "y"), ("solo",), ("c", "is", "c")], step=0)
    assert [t.as_list() for t in res.added] == [["a", "likes", "b"]]


@pytest.mark.slow
def test_empty_and_huge_observations():
    """The real parser reads a text far over its length limit in pieces."""
    memory = Memory()
    assert memory.observe("", step=0).added == []
    huge = "There is a knife in the drawer. " * 3000
    res = memory.observe(huge, step=1)
    assert [t.as_list() for t in res.added] == [["knife", "in", "drawer"]]
    assert memory.recall("   ").triples == []


def test_episode_embedding_kept(memory):
    r = memory.observe("The fridge is closed.", step=0)
    assert r.episode.embedding is not None
    assert abs(float(np.linalg.norm(r.episode.embedding)) - 1) < 1e-4


def test_bulk_add_with_precomputed_vectors(monkeypatch):
    from graphmem.errors import ConfigError
    from graphmem.normalize import ResolverConfig

    mem = scripted(resolver=ResolverConfig(use_fuzzy=False, use_embeddings=False))
    dim = mem.embedder.dim
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((3, dim)).astype(np.float32) * 5

    def no_embedding(texts):
        raise AssertionError(f"embedded {texts!r} although vectors were given")

    monkeypatch.setattr(mem.embedder, "encode", no_embedding)
    res = mem.add_triples([("a", "likes", "b"), ("The A", "likes", "b"), ("c", "likes", "d")], step=1,
                          source_id="s1", vectors=vecs)
    assert [t.as_list() for t in res.added] == [["a", "likes", "b"], ["c", "likes", "d"]]
    first = vecs[0] / np.linalg.norm(vecs[0])  # a fact given twice keeps its first row, normalised
    assert np.allclose(mem.store.get_triple(res.added[0].id).embedding, first, atol=1e-6)
    assert np.allclose(mem.triple_index.vector(res.added[1].id), vecs[2] / np.linalg.norm(vecs[2]), atol=1e-6)
    assert mem.store.get_episode("s1").triple_ids == [t.id for t in res.added]
    hit = mem.recall("q", query_vectors=first[None, :], depth=1, top_k=1)
    assert [t.as_list() for t in hit.triples] == [["a", "likes", "b"]]
    with pytest.raises(ConfigError, match="shape"):
        mem.add_triples([("x", "is", "y")], vectors=vecs)
    with pytest.raises(ConfigError, match="finite and non-zero"):
        mem.add_triples([("x", "is", "y")], vectors=np.zeros((1, dim)))
    with pytest.raises(ConfigError, match="query_vectors"):
        mem.recall(["q1", "q2"], query_vectors=first[None, :])
    assert len(mem.current()) == 2


def test_a_bulk_load_pauses_garbage_collection_and_restores_it():
    import gc

    memory = scripted(embed_episodes=False)
    with memory.bulk():
        assert not gc.isenabled()
        memory.add_triples([("apple", "in", "fridge")], vectors=np.ones((1, memory.embedder.dim)))
    assert gc.isenabled() and memory.stats()["triples"] == 1


def test_add_sources_does_what_add_triples_per_source_does():
    """One call for many sources: the same facts, histories, episodes and index as a call per
    source, with later sources confirming and retiring earlier ones of the batch."""
    from graphmem.normalize import ResolverConfig

    batch = [("s1", 1, [("key", "in", "box"), ("box", "in", "hall")]),
             ("s2", 2, [("key", "in", "hall"), ("box", "in", "hall")]),  # retires s1's key, confirms its box
             ("s3", 1, [("key", "in", "box")]),  # s1's retired fact again at its step: current again (and retires s2's)
             ("s4", 3, [("apple", "is", "red"), ("apple", "is", "red")])]
    names = ResolverConfig(use_fuzzy=False, use_embeddings=False)
    one, many = scripted(embed_episodes=False, resolver=names), scripted(embed_episodes=False, resolver=names)
    dim = one.embedder.dim
    vectors = np.random.default_rng(1).standard_normal((7, dim)).astype(np.float32)
    start, each = 0, []
    for source_id, step, facts in batch:
        each.append(one.add_triples(facts, step, source_id=source_id, vectors=vectors[start:start + len(facts)]))
        start += len(facts)
    together = many.add_sources(batch, vectors=vectors)

    def state(mem):
        triples = [(t.to_dict(), mem.triple_index.vector(t.id).tolist()) for t in mem.store.triples(current_only=False)]
        active, _ = mem.triple_index.active_scores(np.ones(dim, dtype=np.float32))
        return triples, [e.to_dict() for e in mem.store.episodes()], sorted(active)

    assert state(many) == state(one)
    assert [(len(r.added), len(r.confirmed), len(r.retired)) for r in together] == \
        [(len(r.added), len(r.confirmed), len(r.retired)) for r in each] == [(2, 0, 0), (1, 1, 1), (1, 0, 1), (1, 0, 0)]
    key_in_box = together[0].added[0].id
    assert key_in_box in state(many)[2] and many.store.get_triple(key_in_box).current
    with pytest.raises(ConfigError, match=r"shape \(7, "):
        many.add_sources(batch, vectors=vectors[:6])


def test_a_bulk_load_keeps_one_copy_of_each_vector():
    """The triples' vectors are the index's rows: the batch's normalised matrix is not kept."""
    mem = scripted(embed_episodes=False)
    vectors = np.random.default_rng(2).standard_normal((3, mem.embedder.dim)).astype(np.float32) * 5
    mem.add_sources([("s1", 1, [("a", "in", "b"), ("c", "in", "d")]), ("s2", 2, [("e", "on", "f")])], vectors=vectors)
    triples = mem.store.triples(current_only=False)
    assert len(triples) == 3
    for t in triples:
        assert np.shares_memory(t.embedding, mem.triple_index.matrix)
        assert np.allclose(np.linalg.norm(t.embedding), 1.0)
    assert np.allclose(mem.store.get_triple(triples[0].id).embedding, mem.triple_index.vector(triples[0].id))


def test_observe_links_the_episode_and_retires_what_a_new_fact_replaces(memory):
    r0 = memory.observe(ROOM_A, step=0, source_id="look")
    assert facts(memory) == [("golden locker", "in", "room a"), ("key 1", "in", "room a"),
                             ("room a", "has exit", "west")]
    assert r0.episode.id == "look" and set(r0.episode.triple_ids) == {t.id for t in r0.added}
    r1 = memory.observe("You pick up the Key 1 from the ground.", step=1)
    assert [t.as_list() for t in r1.added] == [["key 1", "in", "inventory"]]
    history = memory.history("the Key 1")
    assert [(t.object, t.valid_from, t.valid_until) for t in history] == [("room a", 0, 1), ("inventory", 1, None)]
    assert r1.retired == [history[0].id]
    assert memory.store.get_episode("look").triple_ids == r0.episode.triple_ids  # the past is kept
    # The extractor is shown the facts seen lately (current ones) as naming examples.
    assert ("key 1", "in", "room a") in [tuple(t.as_list()) for t in memory.extractor.contexts[-1]]


def test_observe_on_a_graph_of_pooled_fact_vectors_pools_them_from_the_passage():
    """A fact's vector is pooled from the words of the passage that state it (here the hashing
    embedder's span vector: the fact's stretch of the passage), not embedded from its own text."""
    mem = scripted(fact_vectors=PASSAGE_TOKENS)
    text = "There is a knife in the drawer."
    r = mem.observe(text, step=0)
    (knife,) = r.added
    (pooled,) = mem.embedder.encode_tokens([text]).pool(0, [[(11, 30)]])  # "knife in the drawer"
    assert np.allclose(mem.triple_index.vector(knife.id), pooled, atol=1e-6)
    assert not np.allclose(mem.triple_index.vector(knife.id), mem.embedder.encode([knife.text])[0], atol=1e-3)
