"""Episode metadata (a conversation turn's speaker, session, date): written by observe and
observe_many, kept by every store through a save and a reopen, absent from files and JSON outputs
when an episode has none, and refused when it is not strings."""
import json
import zipfile

import pytest

from bolt_server import arcadedb_server, bolt_store_factory  # noqa: F401 - fixtures
from fakes import HashingEmbedder, ScriptedExtractor
from graphmem.errors import ConfigError
from graphmem.memory import Memory
from graphmem.model import Episode
from graphmem.store.base import StoreError
from graphmem.store.embedded import EmbeddedStore
from graphmem.store.transfer import export_graph, import_graph

SCRIPT = {
    "Ana moved to Oslo.": [("Ana", "lives in", "Oslo")],
    "Ben has a dog.": [("Ben", "has", "dog")],
    "Ana likes tea.": [("Ana", "likes", "tea")],
}
TURN = {"speaker": "Ana", "session": "3", "turn": "D3:7", "time": "1:56 pm on 8 May, 2023 \u00e9"}


def scripted(store=None) -> Memory:
    return Memory(store, embedder=HashingEmbedder(), extractor=ScriptedExtractor(SCRIPT))


def metas(store) -> dict:
    return {e.id: e.meta for e in store.episodes()}


@pytest.mark.parametrize("name", ["m.gmem", "m.json"])
def test_meta_survives_observe_save_and_load(tmp_path, name):
    with scripted(tmp_path / name) as memory:
        memory.observe("Ana moved to Oslo.", step=0, source_id="t1", meta=TURN)
        memory.observe("Ben has a dog.", step=1, source_id="t2")
        memory.observe("Ana moved to Oslo.", step=2, source_id="t1", meta={"speaker": "someone else"})
        memory.save()
    with scripted(tmp_path / name) as again:
        # The re-observed episode kept its first meta; the one given none has none.
        assert metas(again.store) == {"t1": TURN, "t2": {}}
        recalled = again.recall(["Where does Ana live?", "Who has a dog?"]).to_dict()["episodes"]
        assert {e["id"]: e.get("meta") for e in recalled} == {"t1": TURN, "t2": None}


def test_observe_many_takes_three_and_four_tuples(tmp_path):
    path = tmp_path / "m.gmem"
    with scripted(path) as memory:
        memory.observe_many([("t1", "", "Ana moved to Oslo.", TURN),
                             ("t2", "", "Ben has a dog."),
                             ("t3", "", "Ana likes tea.", None)], batch_size=2)
        memory.save()
    assert metas(EmbeddedStore(path, readonly=True)) == {"t1": TURN, "t2": {}, "t3": {}}


def test_bad_meta_is_refused_before_anything_is_written():
    memory = scripted()
    with pytest.raises(ConfigError, match="strings to strings"):
        memory.observe_many([("t1", "", "Ana moved to Oslo."), ("t2", "", "Ben has a dog.", {"turn": 7})])
    with pytest.raises(ConfigError, match="strings to strings"):
        memory.observe("Ana likes tea.", step=0, meta={"speaker": None})
    with pytest.raises(ConfigError, match="not 2-tuples"):
        memory.observe_many([("t1", "Ana moved to Oslo.")])
    assert memory.stats()["episodes"] == 0 and memory.stats()["triples"] == 0


def test_from_dict_reads_meta_and_rejects_what_is_not_strings():
    ep = Episode("e1", 4, "Ana moved to Oslo.", ["t1"], meta=dict(TURN))
    assert ep.to_dict()["meta"] == TURN and Episode.from_dict(ep.to_dict()) == ep
    assert "meta" not in Episode("e2", 0, "x").to_dict()  # old graph files stay as they were
    with pytest.raises(ValueError, match="'meta' must map strings to strings"):
        Episode.from_dict({"id": "e1", "meta": {"turn": 7}})
    with pytest.raises(ValueError, match="'meta' has the wrong type"):
        Episode.from_dict({"id": "e1", "meta": ["speaker", "Ana"]})


def _episode_rows(path) -> list:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("episodes.json"))


def test_archive_rows_stay_five_long_without_meta_and_both_lengths_load(tmp_path):
    st = EmbeddedStore(tmp_path / "g.gmem")
    st.add_episode(Episode("old", 0, "no meta", [], title="T"))
    st.add_episode(Episode("new", 1, "with meta", [], meta=dict(TURN)))
    st.flush()
    assert _episode_rows(tmp_path / "g.gmem") == [["old", 0, "T", "no meta", -1],
                                                   ["new", 1, "", "with meta", -1, TURN]]
    again = EmbeddedStore(tmp_path / "g.gmem", readonly=True)
    assert metas(again) == {"old": {}, "new": TURN}


def test_archive_refuses_a_meta_that_is_not_strings(tmp_path):
    st = EmbeddedStore(tmp_path / "g.gmem")
    st.add_episode(Episode("bad", 0, "x", [], meta={"turn": 7}))  # as a foreign writer might
    st.flush()
    with pytest.raises(StoreError, match="episode record 0 is malformed"):
        EmbeddedStore(tmp_path / "g.gmem", readonly=True)


@pytest.mark.slow  # a real ArcadeDB server
def test_meta_round_trips_through_a_bolt_store(tmp_path, bolt_store_factory):  # noqa: F811
    st = EmbeddedStore(tmp_path / "a.json")
    st.add_episode(Episode("t1", 0, "Ana moved to Oslo.", [], meta=dict(TURN)))
    st.add_episode(Episode("t2", 1, "Ben has a dog.", []))
    st.flush()
    database = bolt_store_factory().database
    export_graph(tmp_path / "a.json", bolt_store_factory(database))  # closes the store it wrote to
    server = bolt_store_factory(database)
    assert metas(server) == {"t1": TURN, "t2": {}}
    assert server.cypher("MATCH (e:Episode {id: 't1'}) RETURN e.meta AS meta")[0]["meta"] == json.dumps(
        TURN, ensure_ascii=False)
    import_graph(bolt_store_factory(database), tmp_path / "b.json")
    assert EmbeddedStore(tmp_path / "b.json").to_dict() == EmbeddedStore(tmp_path / "a.json").to_dict()
