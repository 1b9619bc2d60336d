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


def test_eval_qa_compares_retrievers_in_one_run(data_dir, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert _run(["eval-qa", "--data", str(data_dir), "--retriever", "graph,dense,bm25",
                 "--k", "1,2", "--json", "--cache-dir", str(cache)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["retrievers"]) == ["graph", "dense", "bm25"]
    assert report["retrievers"]["graph"]["recall@2"] == 1.0
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


def test_bad_arguments_are_clear_errors(data_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        _run(["eval-qa", "--data", str(data_dir), "--k", "two"])
    with pytest.raises(SystemExit):
        _run(["eval-qa", "--data", str(data_dir), "--retriever", "graph,magic"])
    assert "unknown retriever(s) magic" in capsys.readouterr().err
    assert _run(["eval-qa", "--data", str(tmp_path / "none"), "--retriever", "bm25"]) == 2
    assert "questions.json" in capsys.readouterr().err
    assert _run(["ask", "--graph", str(tmp_path / "missing.json"), "--no-answer", "who?"]) == 2
