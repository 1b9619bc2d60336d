"""The fixed dev/test split of a questions file."""
import hashlib

import pytest

from graphmem_environments.qa import QADataset, Question
from graphmem_environments.qa.split import DEV_PERCENT, select_split, split_of


def test_split_is_a_pure_function_of_the_id():
    ids = [f"q{i}" for i in range(400)]
    sides = [split_of(i) for i in ids]
    assert sides == [split_of(i) for i in reversed(ids)][::-1]  # order never matters
    expected = ["dev" if int(hashlib.sha1(i.encode()).hexdigest(), 16) % 100 < DEV_PERCENT else "test"
                for i in ids]
    assert sides == expected
    assert 150 < sides.count("dev") < 250  # about half


def test_select_split_keeps_the_corpus_and_partitions_the_questions():
    questions = [Question(f"id{i}", f"question {i}?", "a") for i in range(40)]
    data = QADataset("tiny", questions, passages=[])
    dev, test = select_split(data, "dev"), select_split(data, "test")
    assert {q.id for q in dev.questions} | {q.id for q in test.questions} == {q.id for q in questions}
    assert not {q.id for q in dev.questions} & {q.id for q in test.questions}
    assert dev.passages is data.passages and select_split(data, "all") is data
    with pytest.raises(ValueError, match="unknown split"):
        select_split(data, "train")
