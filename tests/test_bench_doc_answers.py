"""scripts/bench_doc_answers.py on a tiny GraphRAG-Bench-style folder, answered by a scripted chat
server (a real HTTP server; no model runs): the summary, the resumable log and the LLM cache."""
import json
import re

import pytest

from graphmem.testing.chat_server import ChatServer
from script_module import load_script

pytestmark = pytest.mark.slow  # builds a corpus graph (real spaCy and embedder)

CORPUS = [
    {"title": "Medical#0", "text": "Metformin is the first medicine given for type 2 diabetes. It lowers blood sugar."},
    {"title": "Medical#1", "text": "Asthma attacks are eased by a salbutamol inhaler, which opens the airways."},
    {"title": "Medical#2", "text": "Shingles is caused by the varicella zoster virus, the virus of chickenpox."},
    {"title": "Medical#3", "text": "A fracture of the wrist is set in a plaster cast for about six weeks."},
]
# question, its key word (the scripted model cites the passage holding it), answer, evidence
ASKED = [("Which medicine is first given for type 2 diabetes?", "Metformin", "Metformin",
          "Metformin is the first medicine for type 2 diabetes."),
         ("What eases asthma attacks?", "salbutamol", "a salbutamol inhaler",
          "A salbutamol inhaler eases asthma attacks."),
         ("Which virus causes shingles?", "varicella", "varicella zoster virus",
          "Shingles is caused by the varicella zoster virus.")]


def _questions():
    rows = [{"id": f"q{i}", "question": q, "answer": a, "question_type": "Fact Retrieval",
             "evidence": [e], "paragraphs": []} for i, (q, _, a, e) in enumerate(ASKED)]
    rows.insert(1, {"id": "other", "question": "How long does a wrist cast stay on?", "answer": "six weeks",
                    "question_type": "Complex Reasoning", "evidence": [], "paragraphs": []})
    return rows


def _reply(body):
    """Cites the shown passage holding the question's key word (and a passage 7 never shown);
    the shingles question is answered "unknown"."""
    prompt = body["messages"][-1]["content"]
    question = prompt.rsplit("Question: ", 1)[1]
    _, word, answer, _ = next(a for a in ASKED if a[0] == question)
    if word == "varicella":
        return ("reply", (json.dumps({"answer": "unknown", "sources": []}),), {"prompt_tokens": 100})
    blocks = re.findall(r"^\[(\d+)\] [^\n]*\n([^\n]*)", prompt, re.M)
    cited = [int(n) for n, text in blocks if word in text]
    return ("reply", (json.dumps({"answer": answer, "sources": cited + [7]}),), {"prompt_tokens": 100})


@pytest.fixture
def bench():
    return load_script("bench_doc_answers")


def test_bench_answers_cites_logs_resumes_and_replays(bench, tmp_path, monkeypatch, capsys):
    data = tmp_path / "bench"
    data.mkdir()
    (data / "corpus.json").write_text(json.dumps(CORPUS))
    (data / "questions.json").write_text(json.dumps(_questions()))
    log = tmp_path / "answers.jsonl"
    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "llm-cache"))
    argv = ["--data", str(data), "--type", "Fact Retrieval", "--k", "2", "--llm", "openai:m",
            "--cache-dir", str(tmp_path / "qa-cache"), "--log", str(log), "--json"]

    def run(*extra):
        assert bench.main([*argv, *extra]) == 0
        return json.loads(capsys.readouterr().out)

    with ChatServer(choose=_reply) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        first = run("--limit", "2")
        # two questions, two retrievers each (one request when both rank the same chunks: cached)
        assert 2 <= len(srv.requests) <= 4
        for name in ("graph", "hybrid"):
            s = first["retrievers"][name]
            assert s["questions"] == 2 and s["failures"] == 0
            assert s["f1"] == 1.0 and s["answered"] == 1.0 and s["cites"] == 1.0
            assert s["covering"] == 1.0 and s["cited_chunks"] == 2 and s["prompt_tokens"] == 100
        rows = [json.loads(line) for line in log.read_text().splitlines()]
        assert [r["id"] for r in rows] == ["q0", "q1"]
        assert rows[0]["settings"] == {"llm": "openai:m", "k": 2, "facts": False, "retrievers": ["graph", "hybrid"]}
        assert all(7 not in r["graph"]["sources"] and len(r["graph"]["sources"]) == 1 for r in rows)
        # a run killed mid-line: that line is asked again, the others are not
        with log.open("a") as f:
            f.write('{"id": "q2", "gra')
        second = run()
    graph = second["retrievers"]["graph"]
    assert graph["questions"] == 3 and graph["answered"] == pytest.approx(2 / 3)
    assert graph["f1"] == pytest.approx(2 / 3) and graph["cites"] == 1.0
    lines = log.read_text().splitlines()
    assert [json.loads(line)["id"] for i, line in enumerate(lines) if i != 2] == ["q0", "q1", "q2"]
    # every answer is in the LLM cache: a replay from a fresh log gives the same numbers, no server
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    log.unlink()
    assert run("--replay") == second
    # one retriever alone (re-measured after a change to it): the same answers, the other left out
    alone = tmp_path / "graph-only.jsonl"
    assert bench.main([*argv, "--replay", "--retrievers", "graph", "--log", str(alone)]) == 0
    assert json.loads(capsys.readouterr().out)["retrievers"] == {"graph": second["retrievers"]["graph"]}
    with pytest.raises(SystemExit):
        bench.main([*argv, "--retrievers", "bm25"])
    # a log of other settings is refused rather than mixed into one summary
    with pytest.raises(SystemExit, match="give another --log"):
        bench.main([*argv, "--replay", "--k", "3"])
