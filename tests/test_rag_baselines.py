import numpy as np
import pytest

from graphmem.corpus import Passage as P
from graphmem.model import passage_text
from graphmem.rag import (BM25Retriever, DenseRetriever, HybridRetriever, reciprocal_rank_fusion, tokenize,
                          top_k)

CORPUS = [
    P("p1", "Paris", "Paris is the capital and largest city of France."),
    P("p2", "Berlin", "Berlin is the capital of Germany."),
    P("p3", "Violin", "The violin is a wooden string instrument."),
    P("p4", "Python", "Python is a programming language created by Guido van Rossum."),
]


def test_top_k_breaks_ties_by_id():
    assert top_k(["b", "a", "c"], [1.0, 1.0, 0.5], 2) == [("a", 1.0), ("b", 1.0)]
    assert top_k(["b", "a", "c", "d"], [0.2, 1.0, 0.2, 0.2], 2) == [("a", 1.0), ("b", 0.2)]
    assert top_k([], [], 3) == []


def test_tokenizer_is_lowercase_and_drops_stopwords():
    assert tokenize("The Capital of FRANCE, in 1990!") == ["capital", "france", "1990"]


def test_bm25_ranks_lexical_match_first_and_supports_remove():
    r = BM25Retriever()
    r.add(CORPUS)
    assert r.retrieve("who created the Python language", 2)[0][0] == "p4"
    r.remove(["p4"])
    assert "p4" not in [pid for pid, _ in r.retrieve("Python language", 4)]
    assert len(r) == 3


def test_coverage_is_the_idf_weighted_share_of_the_question_words_a_passage_holds():
    r = BM25Retriever(stem=True)
    r.add([P("a", "", "Aspirin doses for a migraine in children."),
           P("b", "", "Migraine, migraine, migraine: a migraine headache again."),
           P("c", "", "Roses in the garden."), P("d", "", "Children play in the garden.")])
    ids, bm25 = r.scores("aspirin dose for children's migraines")
    _, share = r.coverage("aspirin dose for children's migraines")
    held = dict(zip(ids, share))
    assert held["a"] == pytest.approx(1.0)  # every word (stems: dose/doses, migraine/migraines)
    assert held["b"] == pytest.approx(held["d"]) and 0 < held["b"] < 0.5 and held["c"] == 0
    assert bm25[ids.index("b")] == 0  # BM25 gives no weight to a word in half the passages; coverage does
    assert not r.coverage("unknown words only")[1].any()
    r.remove(["a"])
    assert r.coverage("aspirin")[1].tolist() == [0.0, 0.0, 0.0]  # "aspirin" went with "a"


def test_sentence_coverage_is_the_coverage_of_a_passage_s_best_sentence():
    r = BM25Retriever(stem=True, sentences=True)
    r.add([P("apart", "", "The lamp is red. Ships pass the harbour at night."),
           P("together", "", "Ships pass the red harbour lamp at night. Gulls nest."),
           P("empty", "", ""), P("other", "", "Gulls fly over the sea.\nThe red sky.")])
    question = "the red harbour lamp"
    ids, whole = r.coverage(question)
    _, best = r.sentence_coverage(question)
    whole, best = dict(zip(ids, whole)), dict(zip(ids, best))
    assert whole["apart"] == whole["together"] == pytest.approx(1.0)  # both hold every word
    assert best["together"] == pytest.approx(1.0) and 0.5 < best["apart"] < 1.0  # "lamp red" in one
    assert best["empty"] == 0.0 and 0 < best["other"] == pytest.approx(whole["other"])  # "red": line 2
    r.remove(["together"])
    assert r.sentence_coverage("harbour lamp")[1].tolist() == [pytest.approx(0.5), 0.0, 0.0]
    with pytest.raises(ValueError, match="sentences=True"):
        BM25Retriever().sentence_coverage(question)


@pytest.mark.slow
def test_dense_ranks_paraphrase_first_and_is_incremental():
    r = DenseRetriever()
    r.add(CORPUS[:2])
    r.add(CORPUS[2:])
    hits = r.retrieve("Which fiddle-like musical instrument is made of wood?", 2)
    assert hits[0][0] == "p3" and hits[0][1] > hits[1][1]
    r.remove(["p3"])
    assert "p3" not in [pid for pid, _ in r.retrieve("musical instrument", 4)]


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]], k=60)
    assert fused["a"] == fused["b"] == 1 / 61 + 1 / 62
    assert fused["c"] == 1 / 63 and fused["d"] == 1 / 63


@pytest.mark.slow
def test_hybrid_finds_what_either_retriever_finds():
    r = HybridRetriever()
    r.add(CORPUS)
    # lexical: a rare name; paraphrase: no word in common with the passage
    assert r.retrieve("Guido van Rossum", 1)[0][0] == "p4"
    assert r.retrieve("Which fiddle-like musical instrument is made of wood?", 1)[0][0] == "p3"
    r.remove(["p3"])
    assert "p3" not in [pid for pid, _ in r.retrieve("musical instrument", 4)]
    assert len(r.retrieve("capital", 10)) == 3


def test_bm25_scores_equal_rank_bm25s():
    from rank_bm25 import BM25Okapi

    r = BM25Retriever()
    r.add(CORPUS)
    ids = sorted(p.id for p in CORPUS)
    by_id = {p.id: p for p in CORPUS}
    reference = BM25Okapi([tokenize(passage_text(by_id[i])) for i in ids])
    for question in ("capital of France capital", "Python language", "nothing matches zzz", ""):
        got_ids, got = r.scores(question)
        assert got_ids == ids
        np.testing.assert_allclose(got, reference.get_scores(tokenize(question)), atol=1e-12)


def test_bm25_with_stems_meets_other_forms_of_a_word():
    from graphmem.corpus import Passage
    from graphmem.rag.bm25 import BM25Retriever

    passages = [Passage("a", "", "Researching adoption agencies"), Passage("b", "", "A day at the beach")]
    plain, stems = BM25Retriever(), BM25Retriever(stem=True)
    for r in (plain, stems):
        r.add(passages)
    assert plain.retrieve("What did she research?", 2)[0][1] == 0.0  # "research" != "researching"
    assert stems.retrieve("What did she research?", 2)[0][0] == "a"
