import pytest

from graphmem_environments.qa import exact_match, f1_score, mean_recall_at_k, normalize_answer, recall_at_k


def test_normalize_answer_drops_case_punctuation_articles():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("An apple, a day") == "apple day"


def test_exact_match_takes_best_alias():
    assert exact_match("Stanley Hall", ["G. Stanley Hall", "Stanley Hall"]) == 1.0
    assert exact_match("Hall", ["G. Stanley Hall", "Stanley Hall"]) == 0.0
    assert exact_match("anything", []) == 0.0


def test_f1_hand_computed():
    # pred tokens: [g, stanley, hall, jr]; gold: [g, stanley, hall] -> P=3/4, R=1, F1=6/7
    assert f1_score("G. Stanley Hall Jr", ["G. Stanley Hall"]) == pytest.approx(6 / 7)
    # against [stanley, hall]: common 2, P=2/4, R=1 -> 2/3; the max over aliases is 6/7
    assert f1_score("G. Stanley Hall Jr", ["Stanley Hall", "G. Stanley Hall"]) == pytest.approx(6 / 7)
    # repeated tokens count once per occurrence: pred [paris, paris], gold [paris] -> P=1/2, R=1
    assert f1_score("Paris Paris", ["Paris"]) == pytest.approx(2 / 3)
    assert f1_score("London", ["Paris"]) == 0.0
    # only articles on both sides normalise to empty: treated as a match
    assert f1_score("the", ["a"]) == 1.0


def test_recall_at_k_hand_computed():
    retrieved = ["p3", "p1", "p7", "p2"]
    assert recall_at_k(retrieved, ["p1", "p2"], 1) == 0.0
    assert recall_at_k(retrieved, ["p1", "p2"], 2) == 0.5
    assert recall_at_k(retrieved, ["p1", "p2"], 4) == 1.0
    assert recall_at_k(retrieved, ["p1", "p2", "p9"], 5) == pytest.approx(2 / 3)
    runs = [(retrieved, ["p1", "p2"]), (["p2"], ["p2"])]
    assert mean_recall_at_k(runs, 2) == pytest.approx((0.5 + 1.0) / 2)
