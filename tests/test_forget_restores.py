"""Forgetting a source makes current again the facts its write retired: "You take the knife from the
table" retired "knife on table", so without that observation the knife is back on the table; unless
a fact current now still rules it out. The link from a retired fact to its retiring source survives
both graph file formats; graphs written before it load and restore nothing. Real spaCy extraction
and the real embedding model throughout."""
import json
import zipfile
from dataclasses import replace

import pytest

from graphmem import Memory
from graphmem.cli import main
from graphmem.dialogue import Turn, remember_turns, with_listeners
from graphmem.profiles import DIALOGUE
from graphmem.service import GraphService
from graphmem.store.archive_format import RETIRED_BY
from graphmem.store.embedded import EmbeddedStore

KITCHEN = "-= Kitchen =-\nYou are in a kitchen. There is a table. On the table you see a knife."
TAKE = "You take the knife from the table."
ON_TABLE = ("knife", "on", "table")


def where(memory: Memory, thing: str) -> set[tuple[str, str, str]]:
    return {(t.subject, t.relation, t.object) for t in memory.history(thing) if t.current}


def played(memory: Memory, *texts: str) -> list[str]:
    """Observe the texts as steps 0, 1, ...; the episode ids."""
    return [memory.observe(text, step).episode.id for step, text in enumerate(texts)]


def test_forgetting_taking_the_knife_puts_it_back_on_the_table():
    memory = Memory(None)
    _, take = played(memory, KITCHEN, TAKE)
    assert where(memory, "knife") == {("knife", "in", "inventory")}
    table_fact = next(t for t in memory.history("knife") if t.as_list() == list(ON_TABLE))
    assert table_fact.retired_by == take and table_fact.to_dict()["retired_by"] == take

    done = memory.forget_report(take)
    assert done.restored == [table_fact.id] and len(done.deleted) == 1
    assert where(memory, "knife") == {ON_TABLE}
    back = memory.store.get_triple(table_fact.id)
    assert back.current and back.retired_by is None and "retired_by" not in back.to_dict()
    assert ("knife", "on", "table") in {tuple(t.as_list()) for t in memory.recall("where is the knife?").triples}


def test_a_fact_a_later_episode_rules_out_stays_retired_until_that_one_is_forgotten():
    memory = Memory(None)
    _, take, put = played(memory, KITCHEN, TAKE, "You put the knife on the counter.")
    assert memory.forget(take)  # the plain form still answers the deleted ids
    assert where(memory, "knife") == {("knife", "on", "counter")}  # not on the table too
    table_fact = next(t for t in memory.history("knife") if t.as_list() == list(ON_TABLE))
    assert not table_fact.current and table_fact.retired_by == put  # the counter keeps it retired now
    assert memory.forget_report(put).restored == [table_fact.id]
    assert where(memory, "knife") == {ON_TABLE}


def test_the_same_fact_told_again_later_is_not_restored_beside_it():
    memory = Memory(None)
    _, take, back = played(memory, KITCHEN, TAKE, "You put the knife on the table.")
    assert memory.forget_report(take).restored == []
    assert [t.valid_from for t in memory.history("knife") if t.current] == [2]  # one current copy
    assert memory.forget_report(back).restored  # the first one returns once the later one is gone
    assert [t.valid_from for t in memory.history("knife") if t.current] == [0]


def test_forgetting_the_move_brings_the_old_home_back_in_a_conversation():
    memory = Memory(None, profile=DIALOGUE)
    remember_turns(memory, with_listeners([
        Turn("Ana", "I live in Denver.", session="1", time="2023-01-05", id="D1:1"),
        Turn("Ana", "Big news: I moved to Boston last month!", session="2", time="2023-06-01", id="D2:1"),
    ]))
    homes = lambda: {t.object for t in memory.history("ana") if t.current}  # noqa: E731
    assert homes() == {"boston"}
    done = memory.forget_report("D2:1")
    assert homes() == {"denver"} and len(done.restored) == 1


@pytest.mark.parametrize("name", ["game.gmem", "game.json"])
def test_a_reopened_graph_file_keeps_which_source_retired_a_fact(tmp_path, name):
    path = tmp_path / name
    with Memory(path) as memory:
        _, take = played(memory, KITCHEN, TAKE)
    with Memory(path) as memory:
        assert [t.retired_by for t in memory.history("knife") if not t.current] == [take]
        assert len(memory.forget_report(take).restored) == 1
    with Memory(path) as memory:
        assert where(memory, "knife") == {ON_TABLE}
    if name.endswith(".gmem"):  # nothing retired by a source any more: the optional entry is gone
        assert RETIRED_BY not in zipfile.ZipFile(path).namelist()


@pytest.mark.parametrize("name", ["old.gmem", "old.json"])
def test_a_graph_written_before_the_link_loads_and_restores_nothing(tmp_path, name):
    path = tmp_path / name
    with Memory(path) as memory:
        _, take = played(memory, KITCHEN, TAKE)
        memory.store.add_triples([replace(t, retired_by=None) for t in memory.store.triples(current_only=False)])
    if name.endswith(".json"):
        assert "retired_by" not in json.loads(path.read_text())["triples"][0]
    else:
        assert RETIRED_BY not in zipfile.ZipFile(path).namelist()
    with Memory(path) as memory:
        assert memory.forget_report(take).restored == []
        assert where(memory, "knife") == set()  # as before: the knife is nowhere


def test_the_cli_and_the_service_say_what_forget_restored(tmp_path, capsys):
    path = tmp_path / "game.gmem"
    with Memory(path) as memory:
        _, take = played(memory, KITCHEN, TAKE)
    assert main(["forget", "--graph", str(path), take]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["triples_deleted"] == 1 and out["triples_restored"] == 1

    service = GraphService(EmbeddedStore(tmp_path / "served.gmem"))
    try:
        service.observe(KITCHEN, 0)
        taken = service.observe(TAKE, 1)
        answer = service.forget(taken["episode"])
    finally:
        service.close()
    assert answer["restored"] == taken["retired"] and answer["triples_deleted"] == 1
