"""Scoring retrieval against evidence statements: the coverage rule by hand, and eval-qa --gold
evidence end to end with the real BM25 retriever on a tiny data folder."""
import json
import math

import pytest

from graphmem.cli import main
from graphmem_environments.qa import Passage
from graphmem_environments.qa.evidence import EvidenceCoverage, content_words

CORPUS = [{"title": "a", "text": "Aspirin thins blood."},
          {"title": "b", "text": "Warfarin thins blood in patients."},
          {"title": "c", "text": "Patients rest after surgery."},
          {"title": "d", "text": "Patients drink water."},
          {"title": "e", "text": "Blood tests for patients."}]


def _idf(df: int, n: int = len(CORPUS)) -> float:
    return math.log((1 + n) / (1 + df)) + 1


@pytest.fixture(scope="module")
def coverage():
    return EvidenceCoverage([Passage(c["title"], c["title"], c["text"]) for c in CORPUS])


def test_content_words_are_the_words_as_written_without_function_words_or_single_characters():
    assert content_words("The patient's T-cell count is not 4 but 12.") == {
        "patient", "cell", "count", "not", "12"}
    assert content_words("Treated, TREATMENT") == {"treated", "treatment"}  # no stemming


def test_the_same_share_of_words_covers_or_not_by_which_words_are_missing(coverage):
    statement = "Aspirin thins the blood of patients."  # aspirin (df 1), thins (2), blood (3), patients (4)
    total = _idf(1) + _idf(2) + _idf(3) + _idf(4)
    # "a" lacks only the common "patients", "b" the rare "aspirin": three words of four each
    assert coverage.coverage(statement, "a") == pytest.approx((total - _idf(4)) / total)
    assert coverage.coverage(statement, "b") == pytest.approx((total - _idf(1)) / total)
    assert coverage.covers(statement, "a") and not coverage.covers(statement, "b")
    assert coverage.coverage(statement, "b") < 0.7 < 3 / 4  # unweighted, "b" would cover it


def test_a_paraphrase_with_its_words_is_covered_and_one_missing_the_rare_words_is_not(coverage):
    assert coverage.coverage("For patients, warfarin thins the blood.", "b") == 1.0  # order and function words
    assert coverage.covers("Warfarin thins blood in patients at rest.", "b")  # one word more
    assert not coverage.covers("Warfarin thins blood in patients before dialysis.", "b")  # an unseen rare word
    assert coverage.covers("Warfarin thins blood.", "b") and not coverage.covers("Warfarin thins blood.", "a")
    assert EvidenceCoverage([], threshold=0.7).coverage("the of and", "x") == 1.0  # nothing to miss


def test_recall_counts_statements_covered_by_any_of_the_top_k(coverage):
    statements = ["Aspirin thins the blood of patients.", "Warfarin thins blood in patients.",
                  "Aspirin is stopped before surgery."]
    assert coverage.first_covering(statements[1], ["a", "c", "b"]) == 2
    assert coverage.recall_at_k(statements, ["a", "c", "b"], 1) == pytest.approx(1 / 3)
    assert coverage.recall_at_k(statements, ["a", "c", "b"], 3) == pytest.approx(2 / 3)
    assert coverage.recall_at_k(statements, ["e", "d"], 2) == 0.0
    assert coverage.recall_at_k([], ["a"], 1) == 1.0


def test_a_statement_is_coverable_when_some_passage_of_the_corpus_covers_it(coverage):
    statements = ["Aspirin thins the blood of patients.", "Warfarin thins blood in patients.",
                  "Aspirin is stopped before surgery.", "Patients rest after surgery.",
                  "Warfarin thins blood in patients before dialysis.", "The of and"]
    every = [c["title"] for c in CORPUS]
    assert [coverage.coverable(s) for s in statements] == [
        coverage.first_covering(s, every) is not None for s in statements] == [True, True, False, True, False, True]
    assert not EvidenceCoverage([]).coverable("Aspirin thins blood.")


QUESTIONS = [
    # BM25 ranks "a" first (only it says "aspirin"); "a" covers the first statement, "b" the second
    {"id": "q1", "question": "What does aspirin thin?", "answer": "blood", "question_type": "Fact Retrieval",
     "evidence": ["Aspirin thins the blood of patients.", "Warfarin thins blood in patients."],
     "paragraphs": [{"title": "a", "paragraph_text": "Aspirin thins blood.", "is_supporting": True}]},
    # "c" first, covering the first statement; no passage says "stopped", so the second is never covered
    {"id": "q2", "question": "Why do patients rest after surgery?", "answer": "to heal",
     "question_type": "Complex Reasoning",
     "evidence": ["Patients rest after surgery.", "Aspirin is stopped before surgery."],
     "paragraphs": [{"title": "c", "paragraph_text": "Patients rest after surgery.", "is_supporting": True}]},
    {"id": "q3", "question": "What do patients drink?", "answer": "water", "question_type": "Complex Reasoning",
     "paragraphs": [{"title": "d", "paragraph_text": "Patients drink water.", "is_supporting": True}]},
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("evidence")
    (d / "questions.json").write_text(json.dumps(QUESTIONS))
    (d / "corpus.json").write_text(json.dumps(CORPUS))
    return d


def _eval(data_dir, tmp_path, capsys, *flags):
    assert main(["eval-qa", "--data", str(data_dir), "--retriever", "bm25", "--k", "1,5",
                 "--cache-dir", str(tmp_path), *flags]) == 0
    return capsys.readouterr().out


def test_eval_qa_scores_evidence_statements_per_question_type(data_dir, tmp_path, capsys):
    report = json.loads(_eval(data_dir, tmp_path, capsys, "--gold", "evidence", "--json"))
    assert report["gold"] == "evidence"
    # q2's second statement is said by no passage: no ranking can reach it
    assert report["evidence"] == {"threshold": 0.7, "statements": 4, "questions_scored": 2,
                                  "questions_without_evidence": 1, "ceiling": 0.75,
                                  "ceiling_by_type": {"Complex Reasoning": 0.5, "Fact Retrieval": 1.0}}
    bm25 = report["retrievers"]["bm25"]
    # q1: 1 of 2 at k=1, both at k=5 (all passages); q2: 1 of 2 at either; q3 has no evidence
    assert (bm25["recall@1"], bm25["recall@5"]) == (0.5, 0.75)
    assert bm25["by_type"] == {
        "Complex Reasoning": {"questions": 1, "skipped": 1, "recall@1": 0.5, "recall@5": 0.5},
        "Fact Retrieval": {"questions": 1, "skipped": 0, "recall@1": 0.5, "recall@5": 1.0}}
    text = _eval(data_dir, tmp_path, capsys, "--gold", "evidence")
    assert "gold: 4 evidence statements of 2 questions" in text and "1 questions without evidence skipped" in text
    assert "per question type:" in text and "recall can reach 0.750" in text
    assert any(line.split() == ["Fact", "Retrieval", "1", "0.500", "1.000", "1.000"] for line in text.splitlines())


def test_passage_gold_is_the_default_and_gains_the_per_type_breakdown(data_dir, tmp_path, capsys):
    report = json.loads(_eval(data_dir, tmp_path, capsys, "--json"))
    bm25 = report["retrievers"]["bm25"]
    assert report["gold"] == "passages" and "evidence" not in report
    assert (bm25["recall@1"], bm25["recall@5"]) == (1.0, 1.0)  # each question's one gold passage ranks first
    assert bm25["by_type"]["Complex Reasoning"] == {"questions": 2, "skipped": 0, "recall@1": 1.0, "recall@5": 1.0}


def test_evidence_gold_needs_statements(tmp_path, capsys):
    d = tmp_path / "plain"
    d.mkdir()
    (d / "questions.json").write_text(json.dumps([QUESTIONS[2]]))
    (d / "corpus.json").write_text(json.dumps(CORPUS))
    assert main(["eval-qa", "--data", str(d), "--retriever", "bm25", "--gold", "evidence"]) == 2
    assert "no question" in capsys.readouterr().err
