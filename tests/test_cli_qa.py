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


@pytest.mark.slow
def test_ask_iterates_with_the_draft_answer(data_dir, tmp_path, capsys, monkeypatch):
    from graphmem.testing.chat_server import ChatServer

    graph = str(tmp_path / "g.json")
    assert _run(["build", str(data_dir / "corpus.json"), "--out", graph]) == 0
    capsys.readouterr()
    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "llm-cache"))
    with ChatServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        srv.reply(json.dumps({"answer": "Quenthaven"})).reply(json.dumps({"answer": "Ilsa Moravec"}))
        assert _run(["--llm", "openai:m", "--no-cache", "ask", "--graph", graph, "--iterations", "2",
                     "--k", "1", QUESTION["question"]]) == 0
    out = capsys.readouterr().out
    assert "draft 1: Quenthaven" in out and "answer: Ilsa Moravec" in out
    # the model always answers the question itself; only the search adds the draft
    assert [r["messages"][-1]["content"].endswith(QUESTION["question"]) for r in srv.requests] == [True, True]


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
