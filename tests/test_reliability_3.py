"""Issue 28, the third reliability sweep: bad steps and texts refused before anything is written, a
failed service write that leaves the graph as it was, a memory's failed save kept pending or
discarded, a closed memory that neither writes nor reads, a memory shared by threads, and the small
input checks (recall settings, query vectors, MCP integers and nulls, corpus titles)."""
from __future__ import annotations

import asyncio
import errno
import json
import sys
import threading

import numpy as np
import pytest

from fakes import HashingEmbedder, ScriptedExtractor
from graphmem.corpus import load_corpus
from graphmem.errors import ConfigError, GraphmemError
from graphmem.memory import Memory
from graphmem.service import GraphService
from graphmem.store import StoreError, open_store
from graphmem.util.atomicfile import FileWriteError
from graphmem.writer import MAX_STEP

SCRIPT = {f"The box {i} is in the attic.": [(f"box {i}", "in", "attic")] for i in range(100)}
BAD_STEPS = [1.5, "3", None, -1, True, MAX_STEP + 1, 2**63, np.float64(2.0)]


def memory(path=None, readonly: bool = False) -> Memory:
    store = open_store(path, readonly=True) if readonly else path
    return Memory(store, embedder=HashingEmbedder(), extractor=ScriptedExtractor(SCRIPT))


def box(i: int) -> str:
    return f"The box {i} is in the attic."


def counts(mem: Memory) -> tuple[int, int]:
    stats = mem.stats()
    return stats["triples"], stats["episodes"]


WRITES = {
    "observe": lambda mem, step: mem.observe(box(1), step),
    "observe_many step": lambda mem, step: mem.observe_many([("p0", "", box(0)), ("p1", "", box(1))], step),
    "observe_many steps": lambda mem, step: mem.observe_many([("p0", "", box(0)), ("p1", "", box(1))],
                                                             steps=[0, step], batch_size=1),
    "add_triples": lambda mem, step: mem.add_triples([("box 1", "in", "attic")], step),
    "add_sources": lambda mem, step: mem.add_sources([("s0", 0, [("box 0", "in", "attic")]),
                                                      ("s1", step, [("box 1", "in", "attic")])]),
}


# --- group 2: steps ----------------------------------------------------------------------------
@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("step", BAD_STEPS, ids=repr)
def test_a_bad_step_is_refused_before_anything_is_written(tmp_path, write, step):
    path = tmp_path / "m.gmem"
    mem = memory(path)
    with pytest.raises(ConfigError, match=r"step must be a whole number from 0 to 2\*\*53.*not "):
        WRITES[write](mem, step)
    assert counts(mem) == (0, 0)  # the good source beside the bad one was not written either
    mem.observe(box(2), 2)
    mem.close()
    with memory(path) as again:
        assert [e.step for e in again.store.episodes()] == [2]


@pytest.mark.parametrize("name", ["m.gmem", "m.json"])
def test_numpy_and_the_largest_steps_are_kept_as_whole_numbers(tmp_path, name):
    with memory(tmp_path / name) as mem:
        mem.add_triples([("box 1", "in", "attic")], np.int64(5))
        mem.add_triples([("box 1", "in", "cellar")], MAX_STEP)  # retires the first at MAX_STEP
    with memory(tmp_path / name) as again:
        steps = [e.step for e in again.store.episodes()]
        assert steps == [5, MAX_STEP] and all(type(s) is int for s in steps)
        assert [(t.valid_from, t.valid_until) for t in again.history("box 1")] == [(5, MAX_STEP), (MAX_STEP, None)]


def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _failed_save(mem: Memory, monkeypatch) -> None:
    """``mem.save()`` on a full disk: the file keeps the graph as last saved."""
    import graphmem.store.graph_file as graph_file

    with monkeypatch.context() as patch:
        patch.setattr(graph_file, "write_document", _enospc)
        patch.setattr(graph_file, "write_archive", _enospc)
        with pytest.raises(FileWriteError, match="No space left on device.*unchanged"):
            mem.save()


def test_a_memory_whose_save_failed_keeps_the_changes_pending_and_saves_them_all_next_time(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    mem = memory(path)
    mem.observe(box(0), 0)
    mem.save()
    mem.observe(box(1), 1)
    _failed_save(mem, monkeypatch)
    assert counts(mem) == (2, 2) and [t.object for t in mem.history("box 1")] == ["attic"]  # pending, served
    with memory(path, readonly=True) as saved:
        assert counts(saved) == (1, 1)
    mem.observe(box(2), 2)
    mem.close()
    with memory(path) as again:
        assert counts(again) == (3, 3)


@pytest.mark.parametrize("name", ["m.gmem", "m.json"])
def test_discard_changes_goes_back_to_the_graph_as_last_saved(tmp_path, monkeypatch, name):
    path = tmp_path / name
    mem = memory(path)
    mem.add_triples([("knife", "on", "table")], 0, source_id="s0")
    mem.save()
    mem.add_triples([("knife", "in", "drawer")], 1, source_id="s1")  # retires "knife on table"
    _failed_save(mem, monkeypatch)
    assert mem.discard_changes() is True
    assert [(t.object, t.valid_until) for t in mem.history("knife")] == [("table", None)]
    assert "drawer" not in mem.resolver and len(mem.triple_index) == 1
    assert [t.object for t in mem.recall("where is the knife").triples] == ["table"]
    assert mem.discard_changes() is False  # nothing changed since
    mem.add_triples([("fork", "on", "table")], 2, source_id="s2")
    mem.close()
    with memory(path) as again:
        assert {(t.subject, t.object) for t in again.current()} == {("knife", "table"), ("fork", "table")}
        assert counts(again) == (2, 2)


def test_discard_changes_refreshes_the_corpus_graph_over_the_memory(tmp_path, monkeypatch):
    """The corpus graph's indices follow the memory back to its last save: the dropped passage is
    neither known nor retrieved, and later writes reach both."""
    from graphmem.corpus import Passage
    from graphmem.rag.graph import CorpusGraph

    mem = Memory(tmp_path / "c.gmem", profile="documents", embedder=HashingEmbedder(),
                 extractor=ScriptedExtractor(SCRIPT))
    corpus = CorpusGraph(mem)
    corpus.add([Passage("p0", "Box 0", box(0))])
    corpus.save()
    corpus.add([Passage("p1", "Box 1", box(1))])
    _failed_save(mem, monkeypatch)
    assert "p1" in corpus
    assert mem.discard_changes() is True
    assert "p1" not in corpus and "p0" in corpus and corpus.stats()["triples"] == 1
    assert [pid for pid, _ in corpus.query("Where is box 1?", 5).passages] == ["p0"]
    corpus.add([Passage("p2", "Box 2", box(2))])
    assert "p2" in corpus and {pid for pid, _ in corpus.query("Where is box 2?", 5).passages} == {"p0", "p2"}
    assert corpus.facts is mem.triple_index and len(mem.triple_index) == 2


def test_discard_changes_without_a_saved_graph_drops_nothing():
    mem = memory()
    mem.add_triples([("knife", "on", "table")])
    assert mem.discard_changes() is False and counts(mem) == (1, 1)


def test_a_service_write_that_fails_leaves_the_graph_as_last_saved(tmp_path, monkeypatch):
    import graphmem.store.graph_file as graph_file

    path = tmp_path / "m.json"
    with GraphService(open_store(path)) as service:
        service.add_triples([["knife", "on", "table"]])
        with monkeypatch.context() as patch:
            patch.setattr(graph_file, "write_document", _enospc)
            with pytest.raises(FileWriteError, match="No space left on device"):
                service.add_triples([["knife", "in", "drawer"]])  # would retire "knife on table"
        # Neither served nor saved later: the failed write's fact and its retirement are gone.
        assert [f["object"] for f in service.history("knife")["facts"]] == ["table"]
        assert "drawer" not in json.dumps(service.recall(["where is the knife?"]))
        assert service.stats()["episodes"] == 1
        service.add_triples([["fork", "on", "table"]])
    with GraphService(open_store(path, readonly=True), read_only=True) as again:
        facts = {(t["subject"], t["object"], t["valid_until"]) for t in again.recall(["knife fork table"])["triples"]}
        assert facts == {("knife", "table", None), ("fork", "table", None)}
        assert again.stats()["episodes"] == 2


def test_mcp_observe_with_a_step_past_the_bound_is_a_tool_error_and_later_writes_work(tmp_path):
    pytest.importorskip("mcp")
    from mcp.server.mcpserver.exceptions import ToolError

    from graphmem.mcp_server import make_server
    from graphmem.namespaced import NamespacedService

    path = tmp_path / "m.gmem"

    def call(server, tool: str, **arguments):
        return asyncio.run(server.call_tool(tool, arguments))

    with NamespacedService(open_store(path)) as services:
        server, service = make_server(services), services.get()
        for step in (2**63, True, -1):
            with pytest.raises(ToolError, match="step"):
                call(server, "observe", text="You see a knife on the table.", step=step)
        with pytest.raises(ToolError, match="width"):
            call(server, "recall", queries=["knife"], width=True)
        call(server, "add_triples", triples=[["knife", "on", "table"]], step=4)
        call(server, "observe", text="You see a fork on the table.")
        assert service.stats()["next_step"] == 6
    with GraphService(open_store(path, readonly=True), read_only=True) as again:
        assert again.stats()["triples"] >= 1 and again.stats()["episodes"] == 2


def test_mcp_takes_an_explicit_null_for_every_optional_number(tmp_path):
    """A client may send null for an argument it leaves to the default (found by the fuzzer: the
    bounds of an optional number were checked against null, a crash the client saw as an internal
    error)."""
    pytest.importorskip("mcp")
    from graphmem.mcp_server import make_server
    from graphmem.namespaced import NamespacedService

    with NamespacedService(open_store(tmp_path / "m.gmem")) as services:
        server = make_server(services)
        calls = [("observe", {"text": "You see a knife on the table.", "step": None, "trust": None}),
                 ("add_triples", {"triples": [["fork", "on", "table"]], "step": None}),
                 ("recall", {"queries": ["knife"], "depth": None, "width": None, "top_k": None, "max_tokens": None}),
                 ("history", {"entity": "fork", "max_tokens": None}), ("export", {"max_tokens": None}),
                 ("cypher", {"query": "MATCH (a) RETURN a.name", "max_tokens": None})]
        for tool, arguments in calls:
            asyncio.run(server.call_tool(tool, arguments))
        assert services.get().stats()["next_step"] == 2


@pytest.mark.parametrize("step", [True, 1.0, "2", -3, MAX_STEP + 1])
def test_the_service_refuses_steps_that_are_not_whole_numbers_in_range(tmp_path, step):
    with GraphService(open_store(tmp_path / "m.json")) as service:
        with pytest.raises(GraphmemError, match="step must be a whole number"):
            service.add_triples([["knife", "on", "table"]], step)
        assert service.stats()["episodes"] == 0


# --- group 6: a closed memory ------------------------------------------------------------------
def test_a_closed_memory_refuses_writes_and_saves_and_leaves_another_writers_file_alone(tmp_path):
    path = tmp_path / "m.gmem"
    mem = memory(path)
    mem.observe(box(0), 0)
    mem.close()
    with memory(path) as other:  # another writer, once the lock was let go
        other.observe(box(1), 1)
    for write in (lambda: mem.observe(box(2), 2), lambda: mem.add_triples([("box 3", "in", "attic")]),
                  lambda: mem.forget("anything"), mem.save, mem.discard_changes):
        with pytest.raises(StoreError, match="this memory is closed"):
            write()
    for read in (lambda: mem.recall("box 0"), lambda: mem.history("box 0"), mem.current, mem.stats):
        with pytest.raises(StoreError, match="this memory is closed; open the graph again to read it"):
            read()
    mem.close()  # closing again does nothing
    mem.store.add_triples([])
    with pytest.raises(StoreError, match="was closed"):
        mem.store.flush()  # the store itself saves nothing once closed either
    with memory(path) as again:
        assert counts(again) == (2, 2)


# --- group 13: threads -------------------------------------------------------------------------
def test_a_memory_shared_by_threads_keeps_every_fact(tmp_path):
    mem = memory(tmp_path / "m.gmem")
    errors: list[BaseException] = []

    def write(first: int) -> None:
        try:
            for i in range(first, 100, 8):
                mem.observe(box(i), i)
                mem.recall(f"box {i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can: an unlocked race shows at once
    try:
        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert counts(mem) == (100, 100) and len(mem.triple_index) == 100
    mem.close()
    with memory(tmp_path / "m.gmem") as again:
        assert {t.subject for t in again.current()} == {f"box {i}" for i in range(100)}


# --- group 14: small input checks --------------------------------------------------------------
@pytest.mark.parametrize("setting", [{"width": 0}, {"top_k": 0}])
def test_recall_settings_that_would_retrieve_nothing_are_refused(setting):
    mem = memory()
    mem.add_triples([("box 1", "in", "attic")])
    with pytest.raises(ConfigError, match=f"{next(iter(setting))} must be a whole number >= 1"):
        mem.recall("box 1", **setting)
    assert len(mem.recall("box 1", depth=0).triples) == 1  # no expansion is said with depth


@pytest.mark.parametrize("value", [np.nan, np.inf, 0.0])
def test_query_vectors_without_a_direction_are_refused(value):
    mem = memory()
    mem.add_triples([("box 1", "in", "attic")])
    vectors = np.ones((2, mem.embedder.dim), dtype=np.float32)
    vectors[1] = value
    with pytest.raises(ConfigError, match="query_vectors must be finite and non-zero"):
        mem.recall(["box 1", "attic"], query_vectors=vectors)


@pytest.mark.parametrize("text", [None, 3, b"The box 1 is in the attic."])
def test_a_text_that_is_not_a_string_is_refused(text):
    mem = memory()
    with pytest.raises(ConfigError, match="must be a string"):
        mem.observe(text, 0)
    with pytest.raises(ConfigError, match="must be a string"):
        mem.observe_many([("p0", "", box(0)), ("p1", "", text)], batch_size=1)
    assert counts(mem) == (0, 0)


def test_a_null_title_in_a_corpus_is_no_title(tmp_path):
    corpus = tmp_path / "c.json"
    corpus.write_text(json.dumps([{"title": None, "text": "Ulm is in Germany."},
                                  {"title": 1905, "text": "A year."}, {"text": "No title."}]))
    assert [p.title for p in load_corpus(corpus)] == ["", "1905", ""]
