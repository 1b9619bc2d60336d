"""Associative retrieval: seeds by similarity, breadth-first expansion by depth and width, episodes.

The hashing embedder stands in for the model: a triple is similar to a query when they share words."""
import pytest

from fakes import HashingEmbedder
from graphmem.memory import Memory
from graphmem.retrieve import RecallConfig


def memory(**settings) -> Memory:
    return Memory(embedder=HashingEmbedder(), **settings)


@pytest.fixture(scope="module")
def chain():
    # A chain of facts: only the first one is similar to the query; the rest are reachable by hops.
    mem = memory(recall_config=RecallConfig(top_k=1, threshold=-1.0))
    mem.add_triples([("golden key", "in", "cyan locker")], step=0, source_id="e0", text="e0")
    mem.add_triples([("cyan locker", "in", "room f")], step=1, source_id="e1", text="e1")
    mem.add_triples([("room f", "is east of", "room e")], step=2, source_id="e2", text="e2")
    mem.add_triples([("room e", "has exit", "south")], step=3, source_id="e3", text="e3")
    return mem


def texts(sub):
    return [t.text for t in sub.triples]


def test_depth_controls_hops(chain):
    q = "where is the golden key?"
    assert texts(chain.recall(q, depth=1)) == ["golden key in cyan locker"]
    assert texts(chain.recall(q, depth=2)) == ["golden key in cyan locker", "cyan locker in room f"]
    assert texts(chain.recall(q, depth=3))[-1] == "room f is east of room e"
    assert len(chain.recall(q, depth=4).triples) == 4


def test_width_limits_expansion():
    mem = memory(recall_config=RecallConfig(top_k=1, threshold=-1.0))
    mem.add_triples([("kitchen", "has exit", "north")], step=0)
    mem.add_triples([(f"item {i}", "in", "kitchen") for i in range(10)], step=1)
    sub = mem.recall("kitchen exit north", depth=2, width=3)
    assert len(sub.triples) == 4 and sub.triples[0].text == "kitchen has exit north"


def test_threshold_drops_unrelated(chain):
    assert chain.recall("quantum chromodynamics lecture", threshold=0.5).triples == []


def test_order_is_deterministic(chain):
    runs = [texts(chain.recall(["golden key", "room e"], depth=3)) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]


def test_retired_facts_are_not_recalled():
    mem = memory(recall_config=RecallConfig(threshold=-1.0))
    mem.add_triples([("apple", "on", "table")], step=0)
    mem.add_triples([("apple", "in", "inventory")], step=1)
    assert texts(mem.recall("apple")) == ["apple in inventory"]


def test_episodes_ranked_by_share_of_retrieved_triples():
    mem = memory(recall_config=RecallConfig(top_k=3, depth=1, threshold=0.3))
    mem.add_triples([("knife", "on", "table"), ("fork", "on", "table")], step=0, source_id="both", text="b")
    mem.add_triples([("knife", "on", "table"), ("sofa", "in", "living room"), ("tv", "in", "living room"),
                     ("lamp", "in", "living room")], step=1, source_id="mixed", text="m")
    sub = mem.recall(["knife on table", "fork on table"])
    ids = [e.episode.id for e in sub.episodes]
    # "both": 2 of 2 retrieved -> log 2; "mixed": 1 of 4 -> log(4)/4.
    assert ids[0] == "both" and sub.episodes[0].hits == 2
    assert "mixed" in ids and sub.episodes[0].score > sub.episodes[ids.index("mixed")].score


def test_a_hub_is_expanded_from_its_newest_and_its_nearest_triples(tmp_path):
    import numpy as np

    from graphmem.normalize import ResolverConfig

    settings = dict(resolver=ResolverConfig(use_fuzzy=False, use_embeddings=False),
                    recall_config=RecallConfig(top_k=1, depth=2, width=2, threshold=-1.0),
                    embedder=HashingEmbedder())
    mem = Memory(**settings)
    dim = mem.embedder.dim

    def vec(sim, axis):  # cosine `sim` with the query (axis 0), orthogonal otherwise
        v = np.zeros((1, dim), dtype=np.float32)
        v[0, 0], v[0, axis] = sim, np.sqrt(1 - sim * sim)
        return v

    sims = [0.9, 0.8] + [0.1 + 0.01 * i for i in range(2, 20)]  # the oldest two are the nearest
    for i, s in enumerate(sims):
        mem.add_triples([(f"item {i}", "in", "kitchen")], step=i, vectors=vec(s, 2 + i))
    mem.add_triples([("kitchen", "has exit", "north")], step=20, vectors=vec(1.0, 1))
    query = vec(1.0, 1)

    def check(mem):
        assert texts(mem.recall("q", query_vectors=query, hub_scan=100)) == \
            ["kitchen has exit north", "item 0 in kitchen", "item 1 in kitchen"]  # all 21 scanned
        # Only the 5 newest are scanned, but the query's 3 nearest triples are candidates too.
        assert texts(mem.recall("q", query_vectors=query, hub_scan=5, hub_pool=3)) == \
            ["kitchen has exit north", "item 0 in kitchen", "item 1 in kitchen"]
        assert texts(mem.recall("q", query_vectors=query, hub_scan=5, hub_pool=1)) == \
            ["kitchen has exit north", "item 19 in kitchen", "item 18 in kitchen"]

    check(mem)
    mem.store.save(tmp_path / "hub.gmem")
    opened = Memory(str(tmp_path / "hub.gmem"), **settings)
    assert opened.store.row_view() is not None  # candidates are read as the file's rows
    check(opened)
    opened.add_triples([("cat", "in", "garden")], step=21, vectors=vec(0.0, 30))
    assert opened.store.row_view() is None  # written: back to ids
    check(opened)
