"""Episode metadata (a conversation turn's speaker, session, date): kept by every store through a
save and a reopen, absent from files when an episode has none, and refused when it is not strings."""
import json
import zipfile

import pytest

from bolt_server import arcadedb_server, bolt_store_factory  # noqa: F401 - fixtures
from graphmem.model import Episode
from graphmem.store.base import StoreError
from graphmem.store.embedded import EmbeddedStore
from graphmem.store.transfer import export_graph, import_graph

TURN = {"speaker": "Ana", "session": "3", "turn": "D3:7", "time": "1:56 pm on 8 May, 2023 \u00e9"}


def metas(store) -> dict:
    return {e.id: e.meta for e in store.episodes()}


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
