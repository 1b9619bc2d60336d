"""One write path for games and documents: domain profiles, build/add/forget, and graphs that read
the same whichever command wrote them (real extractor, embedder and ArcadeDB server)."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest

from bolt_server import arcadedb_server  # noqa: F401 - fixture
from graphmem.cli import build_parser, main
from graphmem.errors import ConfigError
from graphmem.memory import Memory
from graphmem.profiles import DOCUMENTS, TEXT_GAME
from graphmem.store import open_store
from graphmem.store.embedded import EmbeddedStore
from graphmem.testing.arcadedb import PASSWORD, USER

ULM = [{"title": "Ulm", "text": "Ulm is in Germany."},
       {"title": "Ulm (city)", "text": "Ulm is in Baden-Württemberg."}]
CORPUS = [
    {"title": "Zorblat Kirvani", "text": "Zorblat Kirvani is a painter. Zorblat Kirvani was born in Quenthaven."},
    {"title": "Quenthaven", "text": "Quenthaven is a fishing port on the northern coast. "
                                    "Ilsa Moravec is the mayor of Quenthaven."},
    {"title": "Brindlecombe", "text": "Tomas Hale is the mayor of Brindlecombe, the town where he was born."},
    {"title": "Ardenford", "text": "Lena Voss is the mayor of Ardenford. Lena Voss was born in Ardenford. "
                                   "Ardenford is a fishing port."},
]
QUESTIONS = [
    {"_id": "q1", "question": "Who is the mayor of the town where Zorblat Kirvani was born?",
     "answer": "Ilsa Moravec", "supporting_facts": [["Zorblat Kirvani", 1], ["Quenthaven", 1]], "context": []},
    {"_id": "q2", "question": "Which fishing port has a mayor born there?",
     "answer": "Ardenford", "supporting_facts": [["Ardenford", 0]], "context": []},
]


def _sentence_lists(corpus) -> dict:
    """``corpus`` as HotpotQA ships one: title -> sentences, each after the first with a leading space."""
    return {p["title"]: [s if i == 0 else " " + s for i, s in enumerate(re.split(r"(?<=\.) ", p["text"]))]
            for p in corpus}


def _json(capsys, argv):
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _graph_content(store) -> dict:
    """What makes two graphs the same: facts with validity and sources, passages, entities."""
    return {"triples": sorted((t.subject, t.relation, t.object, t.valid_from, t.valid_until,
                               tuple(sorted(t.sources))) for t in store.triples(current_only=False)),
            "episodes": sorted((e.id, e.title, e.text, tuple(sorted(e.triple_ids))) for e in store.episodes()),
            "entities": store.entities()}


# --- profiles ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_both_ulm_facts_stay_current_in_a_document_graph(tmp_path, capsys):
    corpus = tmp_path / "ulm.json"
    corpus.write_text(json.dumps(ULM))
    graph = tmp_path / "ulm-graph.json"
    _json(capsys, ["build", str(corpus), "--out", str(graph)])
    rows = _json(capsys, ["cypher", "--graph", str(graph), "--json",
                          "MATCH (a)-[r]->(b) WHERE a.name = 'ulm' RETURN b.name, r.valid_until, r.sources"])
    assert sorted(r["b.name"] for r in rows) == ["baden-württemberg", "germany"]
    assert all(r["r.valid_until"] is None and len(r["r.sources"]) == 1 for r in rows)


@pytest.mark.slow
def test_in_a_game_memory_a_moved_thing_is_in_one_place():
    memory = Memory()
    memory.observe("-= Kitchen =-\nThe rusty key is on the table.", step=0)
    memory.observe("-= Kitchen =-\nThe rusty key is in the wooden box.", step=1)
    places = [t.object for t in memory.current() if t.subject == "rusty key"]
    assert places == ["wooden box"]
    history = memory.history("rusty key")
    assert [(t.object, t.valid_until) for t in history] == [("table", 1), ("wooden box", None)]


@pytest.mark.slow
def test_documents_retire_only_what_the_same_source_said():
    profile = dataclasses.replace(DOCUMENTS, single_valued=frozenset({"population"}))
    memory = Memory(profile=profile)
    memory.add_triples([("ulm", "population", "120000")], source_id="p-a")
    memory.add_triples([("ulm", "population", "126000")], source_id="p-b")
    assert sorted(t.object for t in memory.current()) == ["120000", "126000"]  # side by side
    memory.add_triples([("ulm", "population", "125000")], step=1, source_id="p-a")  # p-a corrects itself
    current = {t.object: t.sources for t in memory.current()}
    assert current == {"125000": ["p-a"], "126000": ["p-b"]}


@pytest.mark.slow
def test_a_graph_refuses_another_profile(tmp_path):
    path = tmp_path / "docs.json"
    with Memory(str(path), profile=DOCUMENTS) as memory:
        memory.add_triples([("ulm", "in", "germany")])
    with pytest.raises(ConfigError, match="documents"):
        Memory(EmbeddedStore(path, readonly=True), profile=TEXT_GAME)
    assert Memory(EmbeddedStore(path, readonly=True)).profile is DOCUMENTS  # read from the graph


# --- build, add and forget ---------------------------------------------------------------------
def _corpus_files(tmp_path):
    base, extra = tmp_path / "base.json", tmp_path / "extra.json"
    base.write_text(json.dumps([CORPUS[0], CORPUS[1], CORPUS[3]]))
    extra.write_text(json.dumps([CORPUS[2], CORPUS[1]]))  # one new passage, one already there
    return base, extra


@pytest.mark.slow
def test_add_then_forget_gives_the_graph_built_without_the_passage(tmp_path, capsys):
    base, extra = _corpus_files(tmp_path)
    plain, grown = tmp_path / "plain.json", tmp_path / "grown.json"
    _json(capsys, ["build", str(base), "--out", str(plain)])
    _json(capsys, ["build", str(base), "--out", str(grown)])
    added = _json(capsys, ["add", "--graph", str(grown), str(extra)])
    assert (added["added"], added["skipped"], added["passages_in_graph"]) == (1, 1, 4)
    with EmbeddedStore(grown, readonly=True) as store:
        assert "tomas hale" in store.entities()
    forgot = _json(capsys, ["forget", "--graph", str(grown), "Brindlecombe"])
    assert len(forgot["forgotten"]) == 1 and forgot["triples_deleted"] > 0
    with EmbeddedStore(plain, readonly=True) as a, EmbeddedStore(grown, readonly=True) as b:
        assert _graph_content(b) == _graph_content(a)
    question = QUESTIONS[0]["question"]
    assert main(["ask", "--graph", str(plain), "--no-answer", question]) == 0
    first = capsys.readouterr().out
    assert main(["ask", "--graph", str(grown), "--no-answer", question]) == 0
    assert capsys.readouterr().out == first


@pytest.mark.slow
def test_forget_names_what_it_cannot_find_and_changes_nothing(tmp_path, capsys):
    base, _ = _corpus_files(tmp_path)
    graph = tmp_path / "g.json"
    _json(capsys, ["build", str(base), "--out", str(graph)])
    before = graph.read_bytes()
    assert main(["forget", "--graph", str(graph), "Quenthaven", "Atlantis"]) == 2
    assert "'Atlantis'" in capsys.readouterr().err
    assert graph.read_bytes() == before
    assert main(["add", "--graph", str(tmp_path / "missing.json"), str(base)]) == 2
    assert "no graph file" in capsys.readouterr().err


@pytest.mark.slow
def test_add_and_forget_on_a_graph_server(tmp_path, capsys, arcadedb_server):  # noqa: F811
    base, extra = _corpus_files(tmp_path)
    plain = tmp_path / "plain.json"
    _json(capsys, ["build", str(base), "--out", str(plain)])
    server = ["--user", USER, "--password", PASSWORD, "--database", arcadedb_server.fresh_database()]
    store_args = ["--store", arcadedb_server.uri, *server]
    _json(capsys, ["build", str(base), *store_args])
    assert _json(capsys, ["add", str(extra), *store_args])["added"] == 1
    _json(capsys, ["forget", "Brindlecombe", *store_args])
    with EmbeddedStore(plain, readonly=True) as a, \
            open_store(arcadedb_server.uri, user=USER, password=PASSWORD, database=server[-1]) as b:
        assert _graph_content(b) == _graph_content(a)


# --- every command reads the same graph --------------------------------------------------------
@pytest.fixture(params=["list", "dict of sentences"])
def qa_dir(tmp_path, request):
    d = tmp_path / "qa"
    d.mkdir()
    (d / "questions.json").write_text(json.dumps(QUESTIONS))
    (d / "corpus.json").write_text(json.dumps(CORPUS if request.param == "list" else _sentence_lists(CORPUS)))
    return d


def _rankings(capsys, argv) -> dict:
    report = _json(capsys, ["eval-qa", "--retriever", "graph,bfs", "--k", "1,3", "--json",
                            "--per-question", *argv])
    return {name: [row["retrieved"] for row in r["per_question"]] for name, r in report["retrievers"].items()}


@pytest.mark.slow
def test_a_built_graph_answers_eval_qa_like_the_graph_eval_qa_builds(qa_dir, tmp_path, capsys,
                                                                      arcadedb_server):  # noqa: F811
    own = _rankings(capsys, ["--data", str(qa_dir), "--cache-dir", str(tmp_path / "cache")])
    built = tmp_path / "built.json"
    _json(capsys, ["build", str(qa_dir / "corpus.json"), "--out", str(built)])
    assert _rankings(capsys, ["--data", str(qa_dir), "--graph", str(built)]) == own
    database = arcadedb_server.fresh_database()
    server = ["--store", arcadedb_server.uri, "--user", USER, "--password", PASSWORD, "--database", database]
    _json(capsys, ["build", str(qa_dir / "corpus.json"), *server])
    assert _rankings(capsys, ["--data", str(qa_dir), *server]) == own
    assert all(own["graph"]) and all(own["bfs"])  # rankings, not empty lists


# --- the LLM options go before or after any command that uses an LLM ---------------------------
@pytest.mark.parametrize("argv", [
    ["extract", "a text"], ["build", "c.json", "--out", "g.json"], ["add", "--graph", "g.json", "c.json"],
    ["eval-qa", "--data", "d"], ["ask", "--graph", "g.json", "who?"], ["eval-memory", "--game", "g"],
    ["play", "--game", "g", "--agent", "ariadne"], ["eval-agents", "--games", "g", "--agents", "ariadne"],
])
def test_llm_options_after_the_command(argv):
    parser = build_parser()
    after = parser.parse_args([*argv, "--llm", "openai:m", "--llm-timeout", "5", "--replay"])
    before = parser.parse_args(["--llm", "openai:m", "--llm-timeout", "5", "--replay", *argv])
    for args in (after, before):
        assert (args.llm, args.llm_timeout, args.llm_cache) == ("openai:m", 5.0, "replay")
    assert parser.parse_args(argv).llm is None


# --- graphs built before sentences were joined as eval-qa joins them -------------------------------
@pytest.mark.slow
def test_a_graph_with_former_passage_ids_is_refused_with_how_to_rebuild(tmp_path, capsys):
    sentences = _sentence_lists(CORPUS)
    qa = tmp_path / "qa"
    qa.mkdir()
    (qa / "questions.json").write_text(json.dumps(QUESTIONS))
    corpus = qa / "corpus.json"
    corpus.write_text(json.dumps(sentences))
    # what 'build' made of this corpus before: each passage's sentences joined as they came
    former = tmp_path / "former.json"
    former.write_text(json.dumps([{"title": t, "text": " ".join(s)} for t, s in sentences.items()]))
    graph = tmp_path / "g.json"
    _json(capsys, ["build", str(former), "--out", str(graph)])
    before = graph.read_bytes()
    rebuild = f"graphmem build {corpus} --out {graph} --force"
    for argv in (["add", "--graph", str(graph), str(corpus)],
                 ["build", str(corpus), "--out", str(graph), "--append"],
                 ["eval-qa", "--data", str(qa), "--graph", str(graph)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert rebuild in err and len(err.strip().splitlines()) == 1, err
        assert graph.read_bytes() == before
    assert _json(capsys, ["build", str(corpus), "--out", str(graph), "--force"])["added"] == len(CORPUS)
    assert _json(capsys, ["add", "--graph", str(graph), str(corpus)])["added"] == 0
