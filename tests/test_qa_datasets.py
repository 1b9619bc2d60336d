import json

import pytest

from graphmem_environments.qa import DatasetError, load_dataset, passage_id


def _write(tmp_path, questions, corpus):
    (tmp_path / "questions.json").write_text(json.dumps(questions))
    (tmp_path / "corpus.json").write_text(json.dumps(corpus))
    return str(tmp_path)


def test_musique_style_gold_by_title_and_text(tmp_path):
    corpus = [{"title": "Rome", "text": "Rome is in Italy."},
              {"title": "Rome", "text": "Rome is a town in Georgia."},
              {"title": "Italy", "text": "Italy uses the euro."}]
    q = {"id": "2hop__1_2", "question": "What currency does the country of Rome use?",
         "answer": "euro", "answer_aliases": ["EUR"],
         "paragraphs": [{"idx": 0, "title": "Rome", "paragraph_text": "Rome is in Italy.",
                         "is_supporting": True},
                        {"idx": 1, "title": "Rome", "paragraph_text": "Rome is a town in Georgia.",
                         "is_supporting": False},
                        {"idx": 2, "title": "Italy", "paragraph_text": "Italy uses the euro.",
                         "is_supporting": True}]}
    ds = load_dataset(_write(tmp_path, [q], corpus))
    assert len(ds.passages) == 3  # same title, different text: two passages
    (question,) = ds.questions
    assert question.answers == ["euro", "EUR"]
    assert question.gold_ids == [passage_id("Rome", "Rome is in Italy."),
                                 passage_id("Italy", "Italy uses the euro.")]
    assert ds.missing_gold == 0


def test_graphrag_bench_style_keeps_evidence_statements_and_question_type(tmp_path):
    corpus = [{"title": "Medical#0", "text": "Basal cell carcinoma is the most common skin cancer."}]
    q = {"id": "Medical-1", "question": "What is the most common skin cancer?", "answer": "BCC",
         "question_type": "Fact Retrieval", "evidence": ["BCC is the most common type of skin cancer."],
         "paragraphs": [{"title": "Medical#0", "paragraph_text": corpus[0]["text"], "is_supporting": True}]}
    plain = {k: v for k, v in q.items() if k not in ("question_type", "evidence")}
    with_evidence, without = load_dataset(_write(tmp_path, [q, plain], corpus)).questions
    assert with_evidence.evidence == q["evidence"] and with_evidence.question_type == "Fact Retrieval"
    assert (without.evidence, without.question_type) == ([], "")
    assert with_evidence.gold_ids == without.gold_ids == [passage_id("Medical#0", corpus[0]["text"])]
    with pytest.raises(DatasetError, match="'evidence' must be a list of statements"):
        load_dataset(_write(tmp_path, [dict(q, evidence=[["BCC", "is", "cancer"]])], corpus))


def test_hotpot_style_dict_corpus_and_supporting_titles(tmp_path):
    corpus = {"Alpha": ["Alpha is a band.", " It formed in 1990."], "Beta": ["Beta is a city."]}
    q = {"_id": "abc", "question": "Where?", "answer": "Beta",
         "supporting_facts": [["Alpha", 1], ["Alpha", 0], ["Gamma", 0]],
         "context": [["Alpha", ["Alpha is a band.", " It formed in 1990."]]]}
    ds = load_dataset(_write(tmp_path, [q], corpus))
    by_title = {p.title: p for p in ds.passages}
    assert by_title["Alpha"].text == "Alpha is a band. It formed in 1990."
    (question,) = ds.questions
    assert question.id == "abc" and question.gold_titles == ["Alpha", "Gamma"]
    assert question.gold_ids[0] == by_title["Alpha"].id
    assert ds.missing_gold == 1  # "Gamma" is not in the corpus: counted, kept in the gold set
    assert len(question.gold_ids) == 2


def test_unknown_question_shape_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="supporting_facts"):
        load_dataset(_write(tmp_path, [{"question": "?"}], []))
    with pytest.raises(DatasetError, match="questions.json"):
        load_dataset(str(tmp_path / "nowhere"))


@pytest.mark.parametrize("questions", [[{"paragraphs": []}], ["text"], [{"paragraphs": [{"title": "A"}]}],
                                       [{"supporting_facts": [["A", 0]], "question": 3}], {"q": 1}])
def test_malformed_questions_are_dataset_errors(tmp_path, questions):
    with pytest.raises(DatasetError, match="question"):
        load_dataset(_write(tmp_path, questions, [{"title": "A", "text": "a"}]))


@pytest.mark.parametrize("corpus", [[{"title": "x", "text": [1, 2]}], {"A": [1]}, "text"])
def test_malformed_corpus_is_a_dataset_error(tmp_path, corpus):
    with pytest.raises(DatasetError, match="corpus"):
        load_dataset(_write(tmp_path, [], corpus))


def test_another_corpus_replaces_corpus_json(tmp_path):
    corpus = [{"title": "Medical#0", "text": "Basal cell carcinoma is the most common skin cancer."}]
    q = {"id": "Medical-1", "question": "What is the most common skin cancer?", "answer": "BCC",
         "evidence": ["Basal cell carcinoma is the most common skin cancer."],
         "paragraphs": [{"title": "Medical#0", "paragraph_text": corpus[0]["text"], "is_supporting": True}]}
    (tmp_path / "data").mkdir()
    folder = _write(tmp_path / "data", [q], corpus)
    docs = tmp_path / "guides"
    docs.mkdir()
    (docs / "skin.md").write_text("# Skin cancer\n\nBasal cell carcinoma is the most common skin cancer.\n")
    ds = load_dataset(folder, corpus=str(docs))
    assert [(p.title, dict(p.meta or {}).get("section")) for p in ds.passages] == [("skin", "Skin cancer")]
    assert ds.missing_gold == 1  # the gold chunk is not one of these: score by evidence instead
