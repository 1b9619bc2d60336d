"""Iter-RetGen: later rounds retrieve with the question plus the draft answer; eval-qa reports
every round, on the real BM25 retriever and a scripted chat model."""
from dataclasses import dataclass

import pytest

from graphmem.rag.answer import Answerer
from graphmem_agents.qa.harness import build_retrievers, evaluate, format_report
from graphmem.rag.iterative import iter_retgen
from graphmem_environments.qa import Passage, QADataset, Question

PASSAGES = [Passage("p-k", "Zorblat Kirvani", "Zorblat Kirvani was born in Quenthaven."),
            Passage("p-q", "Quenthaven", "Ilsa Moravec is the mayor of Quenthaven."),
            Passage("p-b", "Brindlecombe", "Tomas Hale is the mayor of Brindlecombe.")]
QUESTION = Question("q1", "Who is the mayor of the town where Zorblat Kirvani was born?", "Ilsa Moravec",
                    gold_ids=["p-k", "p-q"])


def test_rounds_search_with_the_previous_draft():
    seen = []
    drafts = iter(["Quenthaven", "Ilsa Moravec"])
    rounds = iter_retgen("Who?", lambda q: seen.append(q) or ["p1"], lambda q, r: next(drafts), 2)
    assert seen == ["Who?", "Who? Quenthaven"]
    assert [r.answer for r in rounds] == ["Quenthaven", "Ilsa Moravec"]
    # an empty draft gives nothing new to search with: one round only
    assert len(iter_retgen("Who?", lambda q: ["p1"], lambda q, r: "", 3)) == 1
    assert len(iter_retgen("Who?", lambda q: ["p1"], None, 3)) == 1
    with pytest.raises(ValueError):
        iter_retgen("Who?", lambda q: [], None, 0)


@dataclass
class Reply:
    data: object


class BridgeLLM:
    """Answers with the town until it is shown the mayor's passage: what a small model does."""

    def chat(self, messages, schema=None, max_tokens=64):
        shown = messages[-1]["content"]
        return Reply({"answer": "Ilsa Moravec" if "Ilsa Moravec is the mayor" in shown else "Quenthaven"})


def test_eval_qa_reports_each_round(tmp_path):
    data = QADataset("tiny", [QUESTION], PASSAGES)
    built = build_retrievers(["bm25"], data, str(tmp_path))
    report = evaluate(data, built, [2], Answerer(BridgeLLM(), top_k=2), iterations=2, split="dev")
    bm25 = report["retrievers"]["bm25"]
    first, second = bm25["rounds"]
    # round 1 finds Kirvani's passage and a mayor's; the draft "Quenthaven" finds the right mayor
    assert (first["recall@2"], first["em"]) == (0.5, 0.0)
    assert (second["recall@2"], second["em"]) == (1.0, 1.0) and bm25["recall@2"] == 1.0
    assert report["split"] == "dev"
    text = format_report(report, [2])
    assert "bm25 with --iterations 2: R@2 1.000, EM 1.000" in text and "(dev split)" in text
