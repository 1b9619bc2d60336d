"""eval-qa and ask end to end on a tiny dataset written by the test (real extractor and embedder)."""
import json

import pytest

from graphmem.cli import main

CORPUS = [
    {"title": "Zorblat Kirvani", "text": "Zorblat Kirvani is a painter. Zorblat Kirvani was born in Quenthaven."},
    {"title": "Quenthaven", "text": "Quenthaven is a fishing port on the northern coast. "
                                    "Ilsa Moravec is the mayor of Quenthaven."},
    {"title": "Brindlecombe", "text": "Tomas Hale is the mayor of Brindlecombe, the town where he was born."},
    {"title": "Ardenford", "text": "Lena Voss is the mayor of Ardenford. Lena Voss was born in Ardenford."},
]
QUESTION = {"_id": "q1", "question": "Who is the mayor of the town where Zorblat Kirvani was born?",
            "answer": "Ilsa Moravec", "supporting_facts": [["Zorblat Kirvani", 1], ["Quenthaven", 1]],
            "context": []}


def _run(argv):
    return main(argv)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    (d / "questions.json").write_text(json.dumps([QUESTION]))
    (d / "corpus.json").write_text(json.dumps(CORPUS))
    return d


@pytest.mark.slow
def test_eval_qa_compares_retrievers_in_one_run(data_dir, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert _run(["eval-qa", "--data", str(data_dir), "--retriever", "graph,dense,bm25",
                 "--k", "1,2", "--json", "--cache-dir", str(cache)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["retrievers"]) == ["graph", "dense", "bm25"]
    assert report["retrievers"]["graph"]["recall@2"] >= 0.5  # Kirvani's passage at least
    assert 0.0 <= report["retrievers"]["bm25"]["recall@1"] <= 0.5
    # second run: the graph comes from the cache, and the text table has one row per retriever
    assert _run(["eval-qa", "--data", str(data_dir), "--retriever", "graph,dense",
                 "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "R@2" in out and "R@5" in out and "* index loaded from cache" in out
    graph_file = next(line for line in out.splitlines() if line.startswith("graph file: "))
    path = graph_file.split()[2]
    assert _run(["ask", "--graph", path, "--no-answer", "--k", "2", QUESTION["question"]]) == 0
    out = capsys.readouterr().out
    assert "Quenthaven" in out and "zorblat kirvani born in quenthaven" in out


@pytest.mark.slow
def test_eval_qa_splits_and_compares_the_graph_with_the_best_baseline(data_dir, tmp_path, capsys):
    cache = str(tmp_path / "cache")
    assert _run(["eval-qa", "--data", str(data_dir), "--retriever", "graph,dense,bm25,hybrid",
                 "--split", "test", "--json", "--cache-dir", cache]) == 0  # q1 is on the test side
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "test" and report["questions"] == 1
    assert list(report["retrievers"]) == ["graph", "dense", "bm25", "hybrid"]
    margin = report["graph_vs_best_baseline"]["recall@2"]
    best = max(("dense", "bm25", "hybrid"), key=lambda b: (report["retrievers"][b]["recall@2"], b))
    assert margin["best_baseline"] == best
    graph = report["retrievers"]["graph"]["recall@2"]
    assert margin["lead"] == round(100 * (graph - report["retrievers"][best]["recall@2"]), 2)
    assert _run(["eval-qa", "--data", str(data_dir), "--retriever", "bm25", "--split", "dev",
                 "--cache-dir", cache]) == 0
    assert "0 questions (dev split)" in capsys.readouterr().out
    assert _run(["eval-qa", "--data", str(data_dir), "--retriever", "bm25", "--iterations", "2",
                 "--cache-dir", cache]) == 2
    assert "--iterations needs --answer" in capsys.readouterr().err


@pytest.fixture(scope="module")
def graph_file(data_dir, tmp_path_factory):
    graph = str(tmp_path_factory.mktemp("ask") / "g.json")
    assert _run(["build", str(data_dir / "corpus.json"), "--out", graph]) == 0
    return graph


def _ask_with(replies, argv, tmp_path, monkeypatch):
    """``graphmem --llm openai:m ask ...`` against a chat server that gives ``replies`` (JSON)."""
    from graphmem.testing.chat_server import ChatServer

    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "llm-cache"))
    with ChatServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        for reply in replies:
            srv.reply(json.dumps(reply))
        assert _run(["--llm", "openai:m", "--no-cache", "ask", *argv]) == 0
    return srv.requests


@pytest.mark.slow
def test_ask_iterates_with_the_draft_answer(graph_file, tmp_path, capsys, monkeypatch):
    capsys.readouterr()
    # round 1's reply lacks sources (a server that does not enforce the schema): still an answer
    requests = _ask_with([{"answer": "Quenthaven"}, {"answer": "Ilsa Moravec", "sources": [1]}],
                         ["--graph", graph_file, "--iterations", "2", "--k", "1", QUESTION["question"]],
                         tmp_path, monkeypatch)
    out = capsys.readouterr().out
    assert "draft 1: Quenthaven" in out
    answer = next(line for line in out.splitlines() if line.startswith("answer: "))
    # the model always answers the question itself; only the search adds the draft
    assert [r["messages"][-1]["content"].endswith(QUESTION["question"]) for r in requests] == [True, True]
    shown = requests[-1]["messages"][-1]["content"]
    title = shown.split("\n")[1][len("[1] "):]  # the one passage shown in round 2, cited
    assert answer.startswith(f"answer: Ilsa Moravec [{title} (") and answer.endswith(")]")


@pytest.mark.slow
def test_ask_json_gives_the_answer_its_sources_and_the_passages(graph_file, tmp_path, capsys, monkeypatch):
    capsys.readouterr()
    requests = _ask_with([{"answer": "Ilsa Moravec", "sources": [2, 9, "1"]}],
                         ["--graph", graph_file, "--k", "3", "--json", QUESTION["question"]],
                         tmp_path, monkeypatch)
    report = json.loads(capsys.readouterr().out)
    assert list(report) == ["question", "answer", "known", "unattributed", "sources", "drafts", "passages", "facts"]
    assert (report["question"], report["answer"], report["known"], report["drafts"]) == \
        (QUESTION["question"], "Ilsa Moravec", True, [])
    passages = report["passages"]
    assert len(passages) == 3 and set(passages[0]) == {"id", "title", "score", "text", "meta"}
    # sources in the model's order, the out-of-range 9 dropped, each with the shown passage's title
    assert report["sources"] == [{"id": p["id"], "title": p["title"], "meta": p["meta"]}
                                 for p in (passages[1], passages[0])]
    prompt = requests[0]["messages"][-1]["content"]
    assert all(f"[{i}] {p['title']}\n" in prompt for i, p in enumerate(passages, 1))
    assert report["facts"] and all(f"- {f['text']}" in prompt for f in report["facts"])
    assert requests[0]["response_format"]["json_schema"]["schema"]["required"] == ["answer", "sources"]


@pytest.mark.slow
def test_ask_says_when_the_passages_do_not_tell(graph_file, tmp_path, capsys, monkeypatch):
    capsys.readouterr()
    _ask_with([{"answer": "unknown", "sources": []}], ["--graph", graph_file, "Who painted the harbour?"],
              tmp_path, monkeypatch)
    assert capsys.readouterr().out.startswith("answer: (not in the graph's passages)\npassages:\n")
    _ask_with([{"answer": "unknown", "sources": []}], ["--graph", graph_file, "--json", "Who painted it?"],
              tmp_path, monkeypatch)
    report = json.loads(capsys.readouterr().out)
    assert (report["answer"], report["known"], report["unattributed"], report["sources"]) == ("", False, False, [])
    assert _run(["ask", "--graph", graph_file, "--no-answer", "--json", "Who painted it?"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["answer"], report["known"], report["unattributed"], report["sources"]) == (None, None, None, [])
    assert report["passages"]


def test_preset_and_flags_make_the_retrieval_settings():
    from graphmem.cli import build_parser
    from graphmem.cli.qa import graph_config

    def config(*flags):
        return graph_config(build_parser().parse_args(["ask", "--graph", "g", "q", *flags]))

    assert config() is None  # the graph's defaults
    assert config("--preset", "default") == config("--damping", "0.5")
    tuned = config("--preset", "hipporag2", "--fact-top-k", "2")
    assert (tuned.fact_top_k, tuned.passage_weight, tuned.bridge_weight) == (2, 0.05, 0.0)
    assert config("--bridge-weight", "0").name_bridge_weight == 0.15


def test_bad_arguments_are_clear_errors(data_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        _run(["eval-qa", "--data", str(data_dir), "--k", "two"])
    with pytest.raises(SystemExit):
        _run(["eval-qa", "--data", str(data_dir), "--retriever", "graph,magic"])
    assert "unknown retriever(s) magic" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _run(["ask", "--graph", "g", "--preset", "fastest", "who?"])
    assert "invalid choice: 'fastest'" in capsys.readouterr().err
    assert _run(["eval-qa", "--data", str(tmp_path / "none"), "--retriever", "bm25"]) == 2
    assert "questions.json" in capsys.readouterr().err
    assert _run(["ask", "--graph", str(tmp_path / "missing.json"), "--no-answer", "who?"]) == 2
