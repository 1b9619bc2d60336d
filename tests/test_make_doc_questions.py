"""scripts/make_doc_questions.py on a folder of two documents, its questions written by a scripted
chat server (a real HTTP server; no model runs): the rules that keep a question, the files eval-qa
reads (gold resolved to the chunk it was written from) and the same set from the LLM cache."""
import json

import pytest

from graphmem.testing.chat_server import ChatServer
from script_module import load_script
from graphmem_environments.qa import load_dataset

DOCS = {  # one chunk each
    "kettle/boiling.md": "# Kettle\n\nFill the kettle to the line before boiling. It switches off by itself "
                         "once the water boils, and the light goes out.",
    "kettle/cleaning.md": "# Cleaning\n\nDescale the kettle every month with white vinegar, then boil clean "
                          "water twice.",
    "toaster.txt": "The toaster has six browning levels. Level three suits most bread.",
    "crumbs.txt": "Empty the crumb tray weekly: it slides out from the back of the toaster.",
}
# The scripted writer's reply by a word of the chunk: kept as written, kept once "in the passage"
# is cut, refused (points at the passage; no question mark; too short).
REPLIES = {"boiling": "What happens when the water in the kettle boils?",
           "Descale": "How often should the kettle be descaled, as described in the passage?",
           "browning": "What does the passage say about browning?",
           "crumb": "Where is the crumb tray"}


def _reply(body):
    chunk = body["messages"][-1]["content"]
    word = next((w for w in REPLIES if w in chunk), None)
    return ("reply", (json.dumps({"question": REPLIES.get(word, "Why?")}),), {"prompt_tokens": 50})


@pytest.fixture
def make():
    return load_script("make_doc_questions")


def test_questions_from_a_folder_are_kept_by_fixed_rules_and_their_gold_is_their_chunk(make, tmp_path,
                                                                                      monkeypatch, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).parent.mkdir(exist_ok=True)
        (docs / name).write_text(text)
    monkeypatch.setenv("GRAPHMEM_CACHE_DIR", str(tmp_path / "llm-cache"))
    argv = ["--corpus", str(docs), "--out", str(tmp_path / "qa"), "--questions", "10", "--min-chars", "20",
            "--llm", "openai:m"]
    with ChatServer(choose=_reply) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        assert make.main(argv) == 0
        asked = len(srv.requests)
    summary = json.loads(capsys.readouterr().out)
    assert summary["drawn"] == summary["chunks"] == asked == 4
    questions = json.loads((tmp_path / "qa" / "questions.json").read_text())
    written = sorted(q["question"] for q in questions)
    assert written == ["How often should the kettle be descaled?", "What happens when the water in the kettle boils?"]
    assert summary["questions"] == 2
    dataset = load_dataset(str(tmp_path / "qa"), corpus=str(docs))
    for q in dataset.questions:
        gold = dataset.passage(q.gold_ids[0])
        word, document = ("boiling", "kettle/boiling.md") if "boils" in q.question else ("Descale", "kettle/cleaning.md")
        assert word in gold.text and gold.meta["document"] == document
    assert dataset.missing_gold == 0
    # The same set again from the LLM cache, with no server.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert make.main([*argv, "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "questions.json").read_text() == (tmp_path / "qa" / "questions.json").read_text()
