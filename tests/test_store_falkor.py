"""The GraphStore contract, the round trip and namespaces against a real FalkorDB server."""
from __future__ import annotations

import numpy as np
import pytest

from falkor_server import falkor_server  # noqa: F401 - fixture
from graphmem.model import Episode, Triple
from graphmem.store import falkor_recent, open_store
from graphmem.store.base import CypherError, StoreError
from graphmem.store.embedded import EmbeddedStore
from graphmem.store.falkor import FalkorStore
from graphmem.store.transfer import export_graph, import_graph
from store_contract import StoreContract, sample_graph
from vector_search_checks import check_neighbour_scores, check_vector_search, unit_rows

pytestmark = pytest.mark.slow  # a real FalkorDB server


@pytest.fixture
def falkor_store_factory(falkor_server):  # noqa: F811
    """Factory of FalkorStores, each on a brand-new graph unless named; all closed after the test."""
    opened = []

    def make(graph: str | None = None, namespace: str = "default") -> FalkorStore:
        store = open_store(f"{falkor_server.uri}/{graph or falkor_server.fresh_graph()}", namespace=namespace)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


class TestFalkorStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _server(self, falkor_store_factory):
        self.make = falkor_store_factory

    def make_store(self):
        return self.make()

    def reopen(self, store):
        # A new connection to the same graph; the old one stays open (the contract compares).
        store.flush()
        return self.make(store.base_graph)

    def open_again(self, store):
        return self.make(store.base_graph)


def test_round_trip_file_to_server_to_file_is_identical(tmp_path, falkor_store_factory):
    original = sample_graph(tmp_path / "a.json")
    server_store = falkor_store_factory()
    assert export_graph(tmp_path / "a.json", server_store) == original.counts()
    again = falkor_store_factory(server_store.base_graph)
    import_graph(again, tmp_path / "b.json")
    copy = EmbeddedStore(tmp_path / "b.json", create=False, readonly=True)
    assert [t.to_dict() for t in copy.triples(current_only=False)] == \
        [t.to_dict() for t in original.triples(current_only=False)]
    assert [e.to_dict() for e in copy.episodes()] == [e.to_dict() for e in original.episodes()]
    assert copy.meta() == original.meta()
    for t in original.triples(current_only=False):
        if t.embedding is not None:  # float32 vectors come back bit for bit
            assert np.array_equal(copy.get_triple(t.id).embedding, t.embedding)


def test_namespaces_are_graphs_of_their_own(falkor_store_factory):
    default = falkor_store_factory()
    other = default.open_namespace("team_a-1")
    assert other.graph == default.base_graph + "__team_5fa_2d1"
    default.add_triples([Triple("apple", "on", "table")])
    other.add_triples([Triple("pear", "in", "bowl")])
    assert [t.subject for t in default.triples()] == ["apple"]
    assert [t.subject for t in other.triples()] == ["pear"]
    assert default.namespaces() == ["default", "team_a-1"]
    # Cypher reads the namespace's own graph only.
    assert other.cypher("MATCH (n:Entity) RETURN n.name AS name ORDER BY name") == \
        [{"name": "bowl"}, {"name": "pear"}]
    other.close()
    assert default.counts()["triples"] == 1  # the shared connection stays open


def test_cypher_is_bounded_and_read_only_on_the_server(falkor_store_factory):
    from graphmem.store.cypher_limits import CypherLimits

    st = falkor_store_factory()
    st.add_triples([Triple(f"t{i}", "in", "box") for i in range(5)])
    with pytest.raises(CypherError, match="more than 3 rows"):
        st.cypher("MATCH (n:Entity) RETURN n.name", limits=CypherLimits(max_rows=3))
    # Nodes, relationships and paths come back as their properties, in walk order.
    rel = st.cypher("MATCH ()-[r:REL]->() WHERE startNode(r).name = 't0' RETURN r")[0]["r"]
    assert rel["relation"] == "in" and rel["valid_from"] == 0
    assert st.cypher("MATCH p=(a)-[r:REL]->(b) WHERE a.name = 't0' RETURN p")[0]["p"] == [{"name": "t0"}, rel,
                                                                                         {"name": "box"}]
    with pytest.raises(CypherError):
        st.cypher("CREATE (:Entity {name: 'x'})")  # refused before it is sent
    assert st.cypher("CREATE (:Entity {name: 'x'})", write=True) == []
    assert "x" in {r["n.name"] for r in st.cypher("MATCH (n:Entity) RETURN n.name")}


def test_bad_uris_and_dead_servers_say_what_to_fix():
    from graphmem.testing.arcadedb import free_port

    with pytest.raises(StoreError, match="falkor://HOST:PORT"):
        open_store("falkor://")
    with pytest.raises(StoreError, match="did not answer"):
        open_store(f"falkor://127.0.0.1:{free_port()}")


def test_a_server_still_loading_its_data_says_so(falkor_store_factory):
    from redis.exceptions import BusyLoadingError

    st = falkor_store_factory()

    def loading():  # what redis-py raises while the server replays its files after a restart
        raise BusyLoadingError("Redis is loading the dataset in memory")

    with pytest.raises(StoreError, match="still loading its data from disk while reading"):
        st._conn._call(loading, "reading")


# --- vector search on the server ---------------------------------------------------------------
def test_vector_search_finds_current_facts_and_episodes_only(falkor_store_factory):
    check_vector_search(falkor_store_factory())


def test_neighbour_scores_match_exact_scores_newest_first_plus_the_pool(falkor_store_factory):
    check_neighbour_scores(falkor_store_factory())


def test_exact_vector_multiplies_back_to_the_float32_values():
    from graphmem.store.falkor_params import exact_vector

    rng = np.random.default_rng(3)
    for vector in (rng.standard_normal(384).astype(np.float32), np.array([0.0, 1e-30, -3.5], dtype=np.float32),
                   np.array([1e-38, 1e30], dtype=np.float32), np.zeros(4, dtype=np.float32)):
        numbers, scale = exact_vector(vector)
        assert np.array_equal((numbers.astype(np.float64) * scale).astype(np.float32), vector)
    numbers, _ = exact_vector(rng.standard_normal(8).astype(np.float32))
    assert numbers.dtype.kind == "i"  # the fast form where the values allow it


def test_scoring_over_vectors_of_another_dimension_is_refused_clearly(falkor_server):  # noqa: F811
    st = FalkorStore(falkor_server.uri, graph=falkor_server.fresh_graph("dims"))
    ours, theirs = Episode("p1", 0, "ours", []), Episode("p2", 0, "another embedder's", [])
    ours.embedding = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    theirs.embedding = np.array([1.0, 0.0], dtype=np.float32)
    st.add_episodes([ours, theirs])
    with pytest.raises(CypherError, match="another dimension.*--embedder"):
        st.vector_scores("episodes", np.array([1.0, 0.0, 0.0], dtype=np.float32))
    st.close()


# --- the vector index stays whole (vectors on nodes written once) ------------------------------
def raw_index_answer(st: FalkorStore, label: str, query: np.ndarray, k: int) -> int:
    """How many entries the server's vector index over ``label`` gives for ``k`` asked (read
    directly: the Cypher guard lets no procedure it does not know through)."""
    return st._read(f"CALL db.idx.vector.queryNodes('{label}', 'embedding', $k, vecf32($q)) YIELD node "
                    "RETURN count(node) AS n", "asking the index", k=k, q=query.tolist())[0]["n"]


def test_a_search_for_n_finds_n_current_facts_after_every_fact_changed(falkor_store_factory):
    # FalkorDB 4.16 keeps a dead entry in a vector index for every change of an indexed entity,
    # which still takes a place in a search's answer: vectors on triples thinned every search.
    st = falkor_store_factory()
    n = 60
    vecs = unit_rows(2 * n, 8, 4)
    facts = [Triple(f"e{i}", "r", f"x{i}", valid_from=i, sources=["s0"]) for i in range(2 * n)]
    for t, v in zip(facts, vecs):
        t.embedding = v
    st.add_triples(facts)
    confirmed, retired = facts[::2], facts[1::2]
    for t in confirmed:  # a confirmation writes the triple again with its new source
        t.sources.append("s1")
    st.add_triples(confirmed)
    assert st.retire([t.id for t in retired], 200) == [t.id for t in retired]
    query = vecs[0] + 0.05
    before = st.queries
    found = st.vector_search("triples", query[None, :], n)[0]
    assert sorted(tid for tid, _ in found) == sorted(t.id for t in confirmed)
    assert st.queries == before + 1  # one answer held them all: nothing was asked again
    assert raw_index_answer(st, "FactVec", query, 2 * n) == 2 * n  # no entry went dead
    assert [t.sources for t in st.get_triples([confirmed[0].id])] == [["s0", "s1"]]
    assert np.array_equal(st.get_triple(retired[0].id).embedding, vecs[1])  # a retired fact keeps its vector


def test_a_changed_vector_replaces_its_node_and_forgotten_ones_never_shorten_a_search(falkor_store_factory):
    st = falkor_store_factory()
    vecs = unit_rows(40, 8, 5)
    facts = [Triple(f"e{i}", "r", f"x{i}", valid_from=i, sources=[f"s{i % 2}"]) for i in range(40)]
    for t, v in zip(facts, vecs):
        t.embedding = v
    st.add_triples(facts)
    moved = facts[0]
    moved.embedding = vecs[1] * -1.0
    st.add_triples([moved])  # the same triple with another vector
    assert st.dead_vectors() == {"triples": 1, "episodes": 0}  # its old node's entry is dead
    assert st.cypher("MATCH (v:FactVec) RETURN count(v) AS n") == [{"n": 40}]
    assert np.array_equal(st.get_triple(moved.id).embedding, moved.embedding)
    assert st.vector_search("triples", moved.embedding[None, :], 1)[0][0][0] == moved.id
    # Deleting half the facts leaves dead entries in the index: the search still finds k, exactly.
    assert len(st.delete_source("s1")) == 20
    kept = [t for t in facts if t.sources == ["s0"]]
    query = vecs[3] + 0.1
    exact = sorted(kept, key=lambda t: -float(t.embedding @ query))
    found = st.vector_search("triples", query[None, :], 15)[0]
    assert [tid for tid, _ in found] == [t.id for t in exact[:15]]
    assert st.vector_count("triples") == 20 and st.cypher("MATCH (v:FactVec) RETURN count(v) AS n") == [{"n": 20}]


def test_a_search_refused_while_the_index_filled_is_asked_again_once_it_is_ready(falkor_store_factory, monkeypatch):
    # The server refuses a search of an index it is filling; when it finishes before the store
    # asks whether it is ready, the search is asked again (under load this race failed a search).
    st = falkor_store_factory()
    vecs = unit_rows(20, 8, 3)
    facts = [Triple(f"e{i}", "r", f"x{i}", valid_from=i) for i in range(20)]
    for t, v in zip(facts, vecs):
        t.embedding = v
    st.add_triples(facts)
    st.wait_for_vector_indexes()
    read, refusals = st._read, []

    def refused_once(query, doing, **params):
        if doing.startswith("searching") and not refusals:
            refusals.append(doing)
            raise CypherError("FalkorDB rejected a query: Invalid arguments for procedure 'db.idx.vector.queryNodes'")
        return read(query, doing, **params)

    monkeypatch.setattr(st, "_read", refused_once)
    scans = st.exact_scans
    assert st.vector_search("triples", vecs[4][None, :], 1)[0][0][0] == facts[4].id
    assert refusals and st.exact_scans == scans  # the index answered the second time


def test_forgotten_vectors_are_counted_on_the_server_and_past_a_tenth_the_index_is_rebuilt(falkor_store_factory):
    # Each deleted vector node leaves a dead entry in FalkorDB's index, which takes a place in a
    # search's answer until the index is rebuilt; a search left short by them scans every vector.
    st = falkor_store_factory()
    vecs = unit_rows(200, 16, 7)
    vecs[::20] = vecs[0] + 0.05 * unit_rows(10, 16, 8)  # s0's ten facts: the query's nearest
    facts = [Triple(f"e{i}", "r", f"x{i}", valid_from=i, sources=[f"s{i % 20}"]) for i in range(200)]
    for t, v in zip(facts, vecs):
        t.embedding = v / np.linalg.norm(v)
    st.add_triples(facts)
    query = vecs[0]
    assert len(st.delete_source("s0")) == 10
    other = falkor_store_factory(st.base_graph)  # another client reads the count the server keeps
    assert st.dead_vectors() == other.dead_vectors() == {"triples": 10, "episodes": 0}  # 10 of 190 live: kept
    assert raw_index_answer(st, "FactVec", query, 40) < 40
    scans = st.exact_scans
    assert len(st.vector_search("triples", query[None, :], 5)[0]) == 5
    assert st.exact_scans == scans + 1  # the index gave no live entry of the 10 asked: a scan answered

    for i in range(1, 10):  # half the facts forgotten, by the other client
        other.delete_source(f"s{i}")
        other.wait_for_vector_indexes()  # known race, docs/servers.md: a forget while a rebuilt index fills can keep its count
        assert st.dead_vectors()["triples"] <= 0.1 * (190 - 10 * i)  # rebuilt whenever past a tenth
    assert st.dead_vectors()["triples"] == 0  # the last forget passed the share (20 dead, 100 live)
    st.wait_for_vector_indexes()
    kept = [t for t in facts if int(t.sources[0][1:]) >= 10]
    exact = sorted(kept, key=lambda t: -float(t.embedding @ query))
    before, scans = st.queries, st.exact_scans
    found = st.vector_search("triples", query[None, :], 50)[0]
    assert [tid for tid, _ in found] == [t.id for t in exact[:50]]
    assert st.queries == before + 1 and st.exact_scans == scans  # the index answered, whole
    assert raw_index_answer(st, "FactVec", query, 100) == 100


def write_first_layout(st: FalkorStore, facts: list[Triple], episode: Episode) -> None:
    """``facts`` and ``episode`` as the FalkorDB store wrote them before vector nodes: each vector on
    its relationship or episode node, in vector indexes over those."""
    dim = len(facts[0].embedding)
    for pattern in ("()-[x:REL]-()", "(x:Episode)"):
        st.cypher(f"CREATE VECTOR INDEX FOR {pattern} ON (x.embedding) OPTIONS {{dimension: {dim}, "
                  "similarityFunction: 'cosine'}", write=True)
    rows = [{"s": t.subject, "o": t.object, "id": t.id, "from": t.valid_from, "until": t.valid_until,
             "v": t.embedding.tolist()} for t in facts]
    st.cypher("UNWIND $rows AS row MERGE (s:Entity {name: row.s}) MERGE (o:Entity {name: row.o}) "
              "CREATE (s)-[:REL {id: row.id, relation: 'r', valid_from: row.from, valid_until: row.until, "
              "sources: ['s0'], embedding: vecf32(row.v)}]->(o)", {"rows": rows}, write=True)
    st.cypher("CREATE (:Episode {id: $id, step: 0, text: 'old', title: '', triple_ids: [], embedding: vecf32($v)})",
              {"id": episode.id, "v": episode.embedding.tolist()}, write=True)


def test_a_graph_in_the_first_layout_is_moved_to_vector_nodes_on_open(falkor_store_factory, monkeypatch):
    from graphmem.store import falkor_migration

    monkeypatch.setattr(falkor_migration, "BATCH", 7)  # several batches
    old = falkor_store_factory()
    vecs = unit_rows(30, 8, 6)
    facts = [Triple(f"e{i}", "r", f"x{i}", valid_from=i, valid_until=50 if i < 10 else None) for i in range(30)]
    for t, v in zip(facts, vecs):
        t.embedding = v
    episode = Episode("p1", 0, "old", [])
    episode.embedding = vecs[0]
    write_first_layout(old, facts, episode)

    st = falkor_store_factory(old.base_graph)  # opening moves the vectors
    assert sorted(st.vector_indexes()) == [("NODE", "EpisodeVec", 8), ("NODE", "FactVec", 8)]
    assert st.cypher("MATCH ()-[r:REL]->() WHERE r.embedding IS NOT NULL RETURN count(r) AS n") == [{"n": 0}]
    for t in st.triples(current_only=False):
        assert np.array_equal(t.embedding, vecs[int(t.subject[1:])])
    query = vecs[12] + 0.05
    exact = sorted(facts[10:], key=lambda t: -float(t.embedding @ query))
    assert [tid for tid, _ in st.vector_search("triples", query[None, :], 5)[0]] == [t.id for t in exact[:5]]
    assert st.vector_search("episodes", vecs[:1], 1)[0][0][0] == "p1"
    assert raw_index_answer(st, "FactVec", query, 30) == 30
    assert falkor_migration.migrate_vectors_to_nodes(st) == 0  # done once


# --- bulk loads: vectors in binary, indexes made once at the end --------------------------------
def test_a_dropped_vector_index_is_gone_and_a_rebuilt_one_there_when_the_call_returns(falkor_store_factory):
    # FalkorDB answers a DROP before the index is gone (seen on about one fresh graph in thirty),
    # and a CREATE meanwhile is refused as "already indexed": a rebuild then left no index at all.
    vectors = unit_rows(10, 384, 3)
    for _ in range(40):
        st = falkor_store_factory()
        facts = [Triple(f"e{i}", "r", f"x{i}", sources=["s"]) for i in range(10)]
        for t, v in zip(facts, vectors):
            t.embedding = v
        st.add_triples(facts)
        st._drop_vector_index("triples")
        assert ("NODE", "FactVec", 384) not in st.vector_indexes()
        st._create_vector_index("triples", 384)
        st.reindex_vectors(wait=False)
        assert ("NODE", "FactVec", 384) in st.vector_indexes()
        st.close()


def exact_ids(facts: list[Triple], query: np.ndarray, k: int) -> list[str]:
    return [t.id for t in sorted(facts, key=lambda t: -float(t.embedding @ query))[:k]]


def test_a_bulk_load_writes_what_batched_writes_do_and_searches_exactly_until_its_index_is_ready(
        falkor_store_factory):
    st = falkor_store_factory()
    dim, n = 384, 2000  # enough vectors that the server is still filling the index when asked
    vecs = unit_rows(n + 1, dim, 9)
    facts = [Triple(f"e{i % 50}", "r", f"x{i}", valid_from=i, sources=[f"s{i // 10}"]) for i in range(n)]
    for t, v in zip(facts, vecs):
        t.embedding = v
    st.add_triples(facts[:10])  # written before: the load drops its index, keeps or replaces its vectors
    before = st.get_triple(facts[0].id).embedding
    facts[1].embedding = vecs[n]  # a changed vector
    bare = Triple("bare", "r", "fact", sources=["s0"])  # no vector: still marked for the open to embed
    query = vecs[5] + 0.3 * vecs[7]
    with st.bulk_load() as loading:
        assert loading is st and st.vector_indexes() == []
        for start in range(0, n, 500):
            batch = facts[start:start + 500]
            episodes = [Episode(f"s{i}", i, f"passage {i}", [t.id for t in batch if t.sources == [f"s{i}"]])
                        for i in range(start // 10, (start + 500) // 10)]
            for ep in episodes:
                ep.embedding = vecs[int(ep.id[1:])]
            st.write_batch(batch + ([bare] if start == 0 else []), episodes)
        scans = st.exact_scans
        assert [tid for tid, _ in st.vector_search("triples", query[None, :], 10)[0]] == exact_ids(facts, query, 10)
        assert st.exact_scans == scans + 1  # no index meanwhile: a scan answered
        other = falkor_store_factory(st.base_graph)  # another client sees the load as it goes
        assert [tid for tid, _ in other.vector_search("triples", query[None, :], 10)[0]] == exact_ids(facts, query, 10)
    assert not st.vector_indexes_ready()  # the server fills the new index in the background...
    scans = st.exact_scans
    assert [tid for tid, _ in st.vector_search("triples", query[None, :], 10)[0]] == exact_ids(facts, query, 10)
    assert st.exact_scans == scans + 1  # ...and refuses searches of it meanwhile: a scan answered
    st.wait_for_vector_indexes()
    assert st.vector_indexes_ready()
    assert sorted(st.vector_indexes()) == [("NODE", "EpisodeVec", dim), ("NODE", "FactVec", dim)]
    before_queries, scans = st.queries, st.exact_scans
    assert [tid for tid, _ in st.vector_search("triples", query[None, :], 10)[0]] == exact_ids(facts, query, 10)
    assert st.queries == before_queries + 1 and st.exact_scans == scans  # the index answered
    assert st.vector_search("episodes", vecs[42:43], 1)[0][0][0] == "s42"
    # Every vector went in once, bit for bit; no staging node is left; nothing is counted dead.
    assert st.cypher("MATCH (v:FactVec) RETURN count(v) AS n") == [{"n": n}]
    assert st.cypher("MATCH (v) WHERE v:GraphmemStagedFactVec OR v:GraphmemStagedEpisodeVec "
                     "RETURN count(v) AS n") == [{"n": 0}]
    assert np.array_equal(st.get_triple(facts[0].id).embedding, before)
    assert np.array_equal(st.get_triple(facts[1].id).embedding, vecs[n])
    assert np.array_equal(st.get_episode("s7").embedding, vecs[7])
    assert st.dead_vectors() == {"triples": 0, "episodes": 0}
    assert [t.id for t in st.triples_without_vectors()] == [bare.id]
    assert st.counts()["triples"] == n + 1 and st.counts()["episodes"] == n // 10



def test_a_big_records_import_is_a_bulk_load_and_gives_the_same_graph(tmp_path, falkor_store_factory, monkeypatch):
    from graphmem.store import records

    monkeypatch.setattr(records, "BULK_FROM", 2)  # a bulk load from two triples on
    original = sample_graph(tmp_path / "a.json")
    records.write_jsonl(original, tmp_path / "a.jsonl", vectors=True)
    target = falkor_store_factory()
    loads = []
    monkeypatch.setattr(FalkorStore, "bulk_load", lambda self, real=FalkorStore.bulk_load: loads.append(1) or real(self))
    done = records.import_records(target, records.read_jsonl(tmp_path / "a.jsonl"))
    assert loads == [1] and done["triples"] == len(original.triples(current_only=False))
    target.wait_for_vector_indexes()
    assert [t.to_dict() for t in target.triples(current_only=False)] == \
        [t.to_dict() for t in original.triples(current_only=False)]
    assert [e.to_dict() for e in target.episodes()] == [e.to_dict() for e in original.episodes()]
    for t in original.triples(current_only=False):
        if t.embedding is not None:
            assert np.array_equal(target.get_triple(t.id).embedding, t.embedding)


@pytest.mark.parametrize("into", ["a graph with facts", "a graph without facts"])
def test_a_bulk_write_the_server_refuses_leaves_neither_facts_nor_staging_nodes(falkor_store_factory, monkeypatch,
                                                                                into):
    from graphmem.store import falkor_bulk, falkor_fresh

    st = falkor_store_factory()
    facts = [Triple(f"e{i}", "r", f"x{i}") for i in range(21)]
    for t, v in zip(facts, unit_rows(21, 8, 11)):
        t.embedding = v
    if into == "a graph with facts":
        st.add_triples(facts[20:])
    nodes = st.cypher("MATCH (n) RETURN count(n) AS n")
    with st.bulk_load():
        monkeypatch.setattr(falkor_bulk, "UNSTAGE_FACTS", "MATCH (f) RETURN nosuchfunction(f)")  # the query fails
        monkeypatch.setattr(falkor_fresh, "NAME_IDS", "MATCH (f) RETURN nosuchfunction(f)")  # ...whichever way
        with pytest.raises(CypherError):
            st.add_triples(facts[:20])
            st.flush()  # into a graph without facts, a batch's failure is raised by the next call
        monkeypatch.undo()
        assert st.cypher("MATCH (n) RETURN count(n) AS n") == nodes  # the staging nodes were dropped
        st.add_triples(facts[:20])  # and the same batch goes in again
    n = 21 if into == "a graph with facts" else 20
    assert st.counts()["triples"] == n and st.cypher("MATCH (v:FactVec) RETURN count(v) AS n") == [{"n": n}]


def test_a_bulk_load_whose_staging_nodes_the_server_cannot_read_writes_the_rest_as_cypher(
        falkor_store_factory, monkeypatch, caplog):
    # FalkorDB 4.16 refused, after some batches of the writer's, to read staging nodes it held
    # (docs/servers.md, Limits); the refusal is made here, as the server words it.
    st = falkor_store_factory()
    facts = [Triple(f"e{i % 5}", "r", f"x{i}", valid_from=i, sources=[f"s{i}"]) for i in range(31)]
    for t, v in zip(facts, unit_rows(31, 8, 16)):
        t.embedding = v
    st.add_triples(facts[30:])  # a graph with facts: the staged way
    real, refused = FalkorStore._write, []

    def refuse_once(self, query, doing, **params):
        if not refused and "GraphmemStagedFact " in query:  # the first staged batch's query
            refused.append(1)
            raise CypherError(f"FalkorDB rejected a query while {doing}: Attempted to access undefined attribute")
        return real(self, query, doing, **params)

    monkeypatch.setattr(FalkorStore, "_write", refuse_once)
    with caplog.at_level("WARNING", logger="graphmem.store.falkor"), st.bulk_load():
        for start in (0, 10, 20):
            st.write_batch(facts[start:start + 10], [Episode(f"s{start}", start, "text", [facts[start].id])])
    assert st.staging_fallbacks == 3  # the refused batch and the two after it, as Cypher
    assert sum("could not read this bulk load's staging nodes" in r.message for r in caplog.records) == 1
    st.wait_for_vector_indexes()
    assert sorted(t.id for t in st.triples()) == sorted(t.id for t in facts)
    for t in facts:
        assert np.array_equal(st.get_triple(t.id).embedding, t.embedding)
    assert [e.id for e in st.episodes()] == ["s0", "s10", "s20"]
    assert sorted(listed_ids(st, "e0")) == sorted(t.id for t in facts if t.subject == "e0")  # listed by the writes
    with st.bulk_load():  # the next load tries the staged way again
        st.add_triples(facts[:1])
    assert st.staging_fallbacks == 3


def test_a_bulk_load_into_a_graph_without_facts_sends_triples_as_relationships_and_gives_the_same_graph(
        falkor_store_factory, monkeypatch):
    from graphmem.store import falkor_bulk

    vecs = unit_rows(40, 16, 12)
    facts = [Triple(f"e{i % 7}", f"r{i % 3}", f"x{i % 11}", valid_from=i, sources=[f"s{i // 4}", "all"])
             for i in range(30)]
    facts.append(Triple("loop", "r", "loop", valid_from=3, valid_until=5, retired_by="s1", sources=["s1"]))
    for t, v in zip(facts, vecs):
        t.embedding = v
    bare = Triple("bare", "r", "fact", sources=["s0"])  # no vector: marked for the open to embed
    again = Triple(facts[3].subject, facts[3].relation, facts[3].object, valid_from=3, valid_until=9, sources=["s9"])
    again.embedding = vecs[39]  # an id the load wrote already: replaced, the staged way
    episodes = [Episode(f"s{i}", i, f"passage {i}", [t.id for t in facts if f"s{i}" in t.sources]) for i in range(8)]
    for ep, v in zip(episodes, vecs[31:]):
        ep.embedding = v
    batches = [(facts[:12] + [bare], episodes[:3]), (facts[12:], episodes[3:]), ([again], [])]
    batched, loaded = falkor_store_factory(), falkor_store_factory()
    for triples, eps in batches:
        batched.write_batch(triples, eps)
    batched.retire([facts[20].id], 50)
    sent = []
    monkeypatch.setattr(falkor_bulk, "relationships", lambda *a, real=falkor_bulk.relationships: sent.append(1) or real(*a))
    with loaded.bulk_load():
        for triples, eps in batches:
            loaded.write_batch(triples, eps)
        loaded.retire([facts[20].id], 50)  # its entities' lists are then made by Cypher
    assert sent == [1, 1]  # the first two batches as relationships; the third replaced an id it wrote
    loaded.wait_for_vector_indexes()
    for st in (batched, loaded):
        st.triples_by_id = {t.id: t for t in st.triples(current_only=False)}
    assert sorted(loaded.triples_by_id) == sorted(batched.triples_by_id)
    for tid, t in batched.triples_by_id.items():
        mine = loaded.triples_by_id[tid]
        assert mine.to_dict() == t.to_dict()
        assert (mine.embedding is None and t.embedding is None) or np.array_equal(mine.embedding, t.embedding)
    assert [e.to_dict() for e in loaded.episodes()] == [e.to_dict() for e in batched.episodes()]
    # The same lists (writes leave an empty one where a load's end makes none).
    lists = "MATCH (l:GraphmemRecent) WHERE size(l.keys) > 0 RETURN l.name AS name, l.keys AS keys ORDER BY name"
    assert loaded.cypher(lists) == batched.cypher(lists)
    entities = "MATCH (e:Entity) RETURN e.name AS name ORDER BY name"
    assert loaded.cypher(entities) == batched.cypher(entities)  # one node per name, none left over
    assert [t.id for t in loaded.triples_without_vectors()] == [bare.id]
    query = vecs[5] + 0.2 * vecs[8]
    assert loaded.vector_search("triples", query[None, :], 5) == batched.vector_search("triples", query[None, :], 5)
    assert loaded.cypher("MATCH (n) WHERE n:GraphmemStagedFactVec OR n:GraphmemStagedEpisodeVec OR "
                         "n:GraphmemStagedFact RETURN count(n) AS n") == [{"n": 0}]


def test_a_load_into_an_empty_graph_raises_a_refused_batch_later_and_loads_again_the_staged_way(
        falkor_store_factory, monkeypatch):
    from graphmem.store import falkor_connection

    st = falkor_store_factory()
    facts = [Triple(f"e{i % 4}", "r", f"x{i}", valid_from=i, sources=[f"s{i}"]) for i in range(30)]
    for t, v in zip(facts, unit_rows(30, 8, 14)):
        t.embedding = v
    real, refused = falkor_connection._bulk_command, []

    def refuse_first_relationships(graph, nodes, node_count, relationships, relationship_count):
        if relationship_count and not refused:
            refused.append(1)
            return ("GRAPH.QUERY", graph, "RETURN nosuchfunction(1)")
        return real(graph, nodes, node_count, relationships, relationship_count)

    monkeypatch.setattr(falkor_connection, "_bulk_command", refuse_first_relationships)
    with pytest.raises(CypherError, match="their relationships"):
        with st.bulk_load():
            for start in (0, 10, 20):
                st.add_triples(facts[start:start + 10])  # sent without waiting: the refusal comes later
    assert refused == [1]
    assert not {t.id for t in facts[:10]} & {t.id for t in st.triples()}  # the refused batch wrote no fact
    assert sorted(st.vector_indexes()) == [("NODE", "FactVec", 8)]  # the indexes were made all the same
    with st.bulk_load():  # loaded again: a graph with facts now, so the staged way, replacing by id
        for start in (0, 10, 20):
            st.add_triples(facts[start:start + 10])
    assert sorted(t.id for t in st.triples()) == sorted(t.id for t in facts)
    assert st.cypher("MATCH (v:FactVec) RETURN count(v) AS n") == [{"n": 30}]
    assert st.cypher("MATCH (e:Entity) RETURN count(e) AS n") == [{"n": 34}]
    assert st.cypher("MATCH (n) WHERE n:GraphmemStagedFactVec OR n:GraphmemStagedFact RETURN count(n) AS n") == \
        [{"n": 0}]


def test_a_bulk_load_stops_sending_relationships_once_an_entity_may_be_deleted(falkor_store_factory, monkeypatch):
    from graphmem.store import falkor_bulk

    st = falkor_store_factory()
    facts = [Triple(f"e{i}", "r", f"x{i}", sources=[f"s{i}"]) for i in range(6)]
    for t, v in zip(facts, unit_rows(6, 8, 13)):
        t.embedding = v
    sent = []
    monkeypatch.setattr(falkor_bulk, "relationships", lambda *a, real=falkor_bulk.relationships: sent.append(1) or real(*a))
    with st.bulk_load():
        st.add_triples(facts[:2])
        st.delete_source("s0")  # e0 and x0 deleted: their node ids may be handed out again
        st.add_triples(facts[2:4])
    assert sent == [1]
    with st.bulk_load():  # a graph with facts: the staged way
        st.add_triples(facts[4:])
    assert sent == [1]
    assert sorted(t.id for t in st.triples()) == sorted(t.id for t in facts[1:])
    assert st.cypher("MATCH (s:Entity)-[r:REL]->(o:Entity) RETURN count(r) AS n") == [{"n": 5}]


def listed_ids(st: FalkorStore, name: str) -> list[str]:
    """The fact ids of ``name``'s list of newest current facts, in its order."""
    found = st.cypher("MATCH (l:GraphmemRecent {name: $name}) RETURN l.keys AS keys", {"name": name})
    return [key[falkor_recent.KEY_ID_AT:] for key in found[0]["keys"]] if found else []


def test_a_hubs_expansion_reads_its_list_of_newest_facts_and_gives_what_the_walk_gives(falkor_store_factory):
    st = falkor_store_factory()
    st.recent_facts = 6  # a hub from 6 facts written, not 1024
    vecs = unit_rows(40, 16, 5)
    facts = [Triple("hub", "r", f"x{i}", valid_from=i // 2) for i in range(30)] + \
        [Triple(f"y{i}", "r", "hub", valid_from=20) for i in range(3)] + [Triple("lone", "r", "z", valid_from=1)]
    for t, v in zip(facts, vecs):
        t.embedding = v
    for start in range(0, len(facts), 7):  # in step order, several writes
        st.add_triples(sorted(facts[start:start + 7], key=lambda t: t.valid_from))
    listed = listed_ids(st, "hub")
    assert listed == [t.id for t in sorted(facts[:33], key=lambda t: (t.valid_from, t.id))][-6:]
    queries, pool = vecs[30:32] + vecs[:2], [facts[0].id, facts[33].id]
    walk = super(FalkorStore, st).neighbour_scores
    names = ["hub", "lone", "nobody"]

    def agree(limit: int) -> dict:
        got = st.neighbour_scores(names, queries, limit, pool)
        want = walk(names, queries, limit, pool)
        assert {n: sorted((t, round(x, 5)) for t, x in got[n]) for n in got} == \
            {n: sorted((t, round(x, 5)) for t, x in want[n]) for n in want}
        return got

    got = agree(3)
    assert facts[0].id in {tid for tid, _ in got["hub"]}  # the pool's old fact joins the newest
    # The hub's candidates come from its list: a list naming its oldest facts gives those.
    keys = "MATCH (l:GraphmemRecent {name: 'hub'}) RETURN l.keys AS keys"
    kept = st.cypher(keys)[0]["keys"]
    oldest = [falkor_recent.key_of(t.valid_from, t.id) for t in facts[:3]]
    st.cypher("MATCH (l:GraphmemRecent {name: 'hub'}) SET l.keys = $keys", {"keys": oldest}, write=True)
    assert {tid for tid, _ in st.neighbour_scores(["hub"], queries, 3, [])["hub"]} == {t.id for t in facts[:3]}
    st.cypher("MATCH (l:GraphmemRecent {name: 'hub'}) SET l.keys = $keys", {"keys": kept}, write=True)
    # A retired fact leaves the list, so the hub's newest current facts are still the walk's.
    st.retire([listed[-1]], 40)
    assert listed_ids(st, "hub") == listed[:-1]
    agree(3)
    # Most of the list retired: fewer than limit facts listed, so the hub is walked.
    st.retire(listed[:-3], 40)
    assert listed_ids(st, "hub") == listed[-3:-1]
    agree(3)
    # An entity forgotten with its last fact takes its list along.
    st.add_triples([Triple("gone", "r", "soon", sources=["s9"])])
    assert st.cypher("MATCH (l:GraphmemRecent) WHERE l.name IN ['gone', 'soon'] RETURN count(l) AS n") == [{"n": 2}]
    st.delete_source("s9")
    assert st.cypher("MATCH (l:GraphmemRecent) WHERE l.name IN ['gone', 'soon'] RETURN count(l) AS n") == [{"n": 0}]
    assert st.cypher("MATCH (l:GraphmemRecent {name: 'hub'}) RETURN count(l) AS n") == [{"n": 1}]


def test_every_write_keeps_the_lists_of_newest_current_facts(falkor_store_factory):
    st = falkor_store_factory()
    a, b, c = (Triple("hub", "r", x, valid_from=step, sources=[f"s{step}"]) for step, x in ((1, "a"), (2, "b"), (3, "c")))
    st.add_triples([c, a])
    st.add_triples([b])
    assert listed_ids(st, "hub") == [a.id, c.id, b.id] and listed_ids(st, "a") == [a.id]
    st.retire([a.id], 4)
    assert listed_ids(st, "hub") == [c.id, b.id] and listed_ids(st, "a") == []
    # Passed back current (a write that undoes the retirement): listed again, at the end.
    back = st.get_triple(a.id)
    back.valid_until = back.retired_by = None
    st.add_triples([back])
    assert listed_ids(st, "hub") == [c.id, b.id, a.id]
    # A batch's decision on a triple it read, where another client retired it meanwhile: it stays
    # retired, so it is not listed.
    st.retire([b.id], 6)
    st.write_batch([Triple("hub", "r", "b", valid_from=2, sources=["s2", "s7"])], [], read_sources={b.id: ["s2"]})
    assert st.get_triple(b.id).valid_until == 6 and listed_ids(st, "hub") == [c.id, a.id]
    # A deleted source's triples leave the lists of the entities that stay.
    st.add_triples([Triple("hub", "r", "d", valid_from=8, sources=["s8"]), Triple("c", "r", "e", valid_from=8, sources=["s8"])])
    st.delete_source("s8")
    assert listed_ids(st, "hub") == [c.id, a.id] and listed_ids(st, "c") == [c.id]
    assert st.cypher("MATCH (l:GraphmemRecent) WHERE l.name IN ['d', 'e'] RETURN count(l) AS n") == [{"n": 0}]


def test_a_bulk_load_lists_each_entitys_newest_facts_once_at_its_end(falkor_store_factory):
    facts = [Triple("hub", "r", f"x{i}", valid_from=i // 3) for i in range(25)] + [Triple("x3", "r", "x3", valid_from=9)]
    for t, v in zip(facts, unit_rows(len(facts), 16, 8)):
        t.embedding = v
    batched, loaded = falkor_store_factory(), falkor_store_factory()
    lists = "MATCH (l:GraphmemRecent) RETURN l.name AS name, l.keys AS keys ORDER BY name"
    for st in (batched, loaded):
        st.recent_facts = 6
    batched.add_triples(facts[:10])
    batched.add_triples(facts[10:])
    with loaded.bulk_load():
        loaded.write_batch(facts[:10], [])
        assert loaded.cypher(lists) == []  # not per batch
        loaded.write_batch(facts[10:], [])
    # Written in step order, the lists are the ones per-write appending gives (a self-loop listed once).
    assert loaded.cypher(lists) == batched.cypher(lists)
    assert listed_ids(loaded, "hub") == [t.id for t in sorted(facts[:25], key=lambda t: (t.valid_from, t.id))][-6:]


def test_a_load_into_an_empty_graph_whose_server_goes_away_raises_a_store_error(tmp_path):
    from graphmem.testing.falkordb import FalkorServer

    server = FalkorServer(tmp_path / "falkordb")
    server.start()
    try:
        st = FalkorStore(f"{server.uri.rstrip('/')}/gone")
        facts = [Triple(f"e{i}", "r", f"x{i}") for i in range(40)]
        for t, v in zip(facts, unit_rows(40, 8, 15)):
            t.embedding = v
        with pytest.raises(StoreError, match="FalkorDB server"):
            with st.bulk_load():
                st.add_triples(facts[:20])  # sent without waiting
                server.proc.kill()
                server.proc.wait()
                st.add_triples(facts[20:])
    finally:
        server.stop()
