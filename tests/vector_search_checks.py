"""Checks of a store's vector search on its server (``GraphStore.supports_vector_search``) and of a
memory on it, run by the tests of each server that has one (FalkorDB; Neo4j where one is given)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from fakes import HashingEmbedder
from graphmem.memory import Memory
from graphmem.model import Episode, Triple
from graphmem.normalize import ResolverConfig
from graphmem.store.base import GraphStore

DIM = 64
CANONICAL = ResolverConfig(use_fuzzy=False, use_embeddings=False)  # synthetic names are canonical


def unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def check_vector_search(st: GraphStore) -> None:
    """Nearest current facts past retired ones, scores as cosines, episodes, counts."""
    assert st.supports_vector_search and st.vector_search("triples", unit_rows(1, 8, 0), 5) == [[]]
    vecs = unit_rows(60, 8, 1)
    facts = [Triple(f"e{i % 7}", "r", f"x{i}", valid_from=i) for i in range(60)]
    for t, v in zip(facts, vecs):
        t.embedding = v
    st.add_triples(facts)
    query = vecs[:2] + 0.01
    exact = [np.argsort(-(vecs @ q)) for q in query]
    # Retire the 20 nearest of the first query: the search must look past them.
    st.retire([facts[i].id for i in exact[0][:20]], 99)
    found = st.vector_search("triples", query, 5)
    want = [[facts[i].id for i in order if i not in set(exact[0][:20])][:5] for order in exact]
    assert [[tid for tid, _ in f] for f in found] == want
    score = dict(found[1])[want[1][0]]
    assert score == pytest.approx(float(vecs[list(t.id for t in facts).index(want[1][0])] @ query[1]
                                        / np.linalg.norm(query[1])), abs=1e-5)
    assert st.vector_count("triples") == 40
    ep = Episode("p1", 0, "text", [])
    ep.embedding = vecs[3]
    st.add_episodes([ep, Episode("p2", 0, "no vector", [])])
    assert st.vector_search("episodes", vecs[3:4], 3)[0][0][0] == "p1" and st.vector_count("episodes") == 1
    ids, scores = st.vector_scores("episodes", vecs[3])
    assert ids == ["p1"] and scores[0] == pytest.approx(1.0, abs=1e-5)


def check_neighbour_scores(st: GraphStore) -> None:
    """Recall's expansion: an entity's newest current facts plus the pool, scored exactly."""
    vecs = unit_rows(12, 8, 2)
    facts = [Triple("hub", "r", f"x{i}", valid_from=i) for i in range(10)] + \
        [Triple("y", "r", "hub", valid_from=3), Triple("lone", "r", "z")]
    for t, v in zip(facts, vecs):
        t.embedding = v
    st.add_triples(facts)
    st.retire([facts[9].id], 20)
    queries = vecs[:2]
    got = st.neighbour_scores(["hub", "lone", "nobody"], queries, limit=4, pool=[facts[0].id, facts[11].id])
    assert list(got) == ["hub", "lone", "nobody"] and got["nobody"] == []
    # The 4 newest current (x8, x7, x6, the y fact and x5 share steps: by valid_from then id), plus x0
    # from the pool; the lone fact's own entity has it whatever the pool.
    current = sorted((t for t in facts[:11] if t is not facts[9]), key=lambda t: (t.valid_from, t.id), reverse=True)
    assert {tid for tid, _ in got["hub"]} == {t.id for t in current[:4]} | {facts[0].id}
    for tid, score in got["hub"] + got["lone"]:
        i = [t.id for t in facts].index(tid)
        assert score == pytest.approx(float((queries @ vecs[i]).max()), abs=1e-5)
    # Only those scoring at least min_score travel back.
    cut = sorted(score for _, score in got["hub"])[2]
    above = st.neighbour_scores(["hub", "lone", "nobody"], queries, limit=4, pool=[facts[0].id, facts[11].id],
                                min_score=cut)
    assert sorted(above["hub"]) == sorted((tid, score) for tid, score in got["hub"] if score >= cut)
    assert len(above["hub"]) == len(got["hub"]) - 2


def memory_on(spec) -> Memory:
    return Memory(spec, embedder=HashingEmbedder(dim=DIM), resolver=CANONICAL, embed_episodes=False)


def check_two_clients(open_memory: Callable[[], Memory]) -> None:
    """A fact, a retirement and a forgetting by one client are recalled by another on its next call."""
    reader, writer = open_memory(), open_memory()
    assert reader.recall("rusty key").triples == []
    writer.add_triples([("rusty key", "in", "wooden box")], step=1, source_id="e1")
    assert [t.as_list() for t in reader.recall("rusty key").triples] == [["rusty key", "in", "wooden box"]]
    # A retirement and a forgetting by one are seen by the other as well.
    writer.add_triples([("rusty key", "in", "inventory")], step=2, source_id="e2")
    assert [t.as_list() for t in reader.recall("rusty key").triples] == [["rusty key", "in", "inventory"]]
    writer.forget("e2")
    assert [t.as_list() for t in reader.recall("rusty key").triples] == [["rusty key", "in", "wooden box"]]
    for m in (reader, writer):
        m.close()
