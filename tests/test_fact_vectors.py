"""Cheap vectors for a corpus graph: facts pooled from their passage's token embeddings, synonym
edges from names' character trigrams, and encoding that leaves the parser its core (real spaCy and
sentence-transformers)."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from graphmem.embedders import batching
from graphmem.embedders.batching import encoding_threads, reserved_core
from graphmem.corpus import Passage as P
from graphmem.embedders.sentence_transformer import default_embedder
from graphmem.errors import ConfigError
from graphmem.extract.offline import OfflineExtractor
from graphmem.extract.spans import fact_spans
from graphmem.indexes import FACT_VECTORS, PASSAGE_TOKENS, TEXT
from graphmem.memory import Memory
from graphmem.model import titled_text
from graphmem.profiles import DOCUMENTS
from graphmem.rag.config import GraphRAGConfig
from graphmem.rag.graph import CorpusGraph
from graphmem.rag.synonyms import TrigramIndex
from graphmem.store.embedded import EmbeddedStore

TEXT_A = "Zorblat Kirvani is a painter. Zorblat Kirvani was born in Quenthaven."
CORPUS = [P("p-kirvani", "Zorblat Kirvani", TEXT_A),
          P("p-quent", "Quenthaven", "Quenthaven is a fishing port. Ilsa Moravec is the mayor of Quenthaven.")]


@pytest.fixture(scope="module")
def extractor():
    return OfflineExtractor(profile=DOCUMENTS)


def _cos(a, b) -> float:
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


# --- where a fact is said ------------------------------------------------------------------------
def test_a_fact_is_the_stretch_from_its_subject_to_its_object():
    spans = fact_spans(TEXT_A, [("zorblat kirvani", "born in", "quenthaven")])
    (start, end), = spans[0]
    assert TEXT_A[start:end] == "Zorblat Kirvani was born in Quenthaven"  # the closest mentions


def test_far_apart_names_give_two_ranges_and_missing_names_none():
    text = "Ada Lovelace " + "wrote many long letters to friends about engines and music " * 3 + "in London."
    far, missing, partial = fact_spans(text, [("ada lovelace", "in", "london"), ("x", "is", "y"),
                                              ("ada lovelace", "is", "countess")], offset=4)
    assert [text[s - 4:e - 4] for s, e in far] == ["Ada Lovelace", "London"]
    assert missing is None and partial is None


def test_names_match_whole_words_only():
    assert fact_spans("The cathedral is in Ulm.", [("cat", "in", "ulm")]) == [None]


def test_names_match_without_the_punctuation_and_articles_they_lost():
    text = "Publix employs 193,000 people. Switzerland is a member of the European Free Trade Association."
    people, member = fact_spans(text, [("publix", "employ", "193 000 people"),
                                       ("switzerland", "is", "member of european free trade association")])
    assert [text[s:e] for s, e in people] == ["Publix employs 193,000 people"]
    assert [text[s:e] for s, e in member] == ["Switzerland is a member of the European Free Trade Association"]


def test_a_name_is_found_at_each_of_its_mentions_and_an_article_is_skipped_only_between_its_words():
    from graphmem.extract.spans import TextWords

    text = "the beatles met the beatles. an old the beatles fan; beatles the end"
    assert TextWords(text).mentions("the beatles") == [(0, 11), (16, 27), (36, 47)]
    assert TextWords(text).mentions("beatles end") == [(53, 68)]  # "beatles the end"
    assert TextWords(text).mentions("old beatles") == [(32, 47)]  # "old the beatles"
    assert TextWords(text).mentions("beatle") == [] and TextWords(text).mentions("") == []


def test_the_closest_pair_is_the_one_all_pairs_give_and_long_passages_stay_linear():
    """The sweep picks what comparing every pair picks (ties to the first pair in text order), on
    random texts where names repeat, nest ("red apple"/"apple") and coincide; a passage naming its
    subject and object 40,000 times each (the fuzzer's 1M characters) takes one pass."""
    import random

    from graphmem.extract.spans import TextWords, closest_pair

    rng = random.Random(5)
    for _ in range(300):
        text = " ".join(rng.choice(["red", "apple", "the", "box", "red apple", "x"]) for _ in range(rng.randint(2, 40)))
        words = TextWords(text)
        subj, obj = (words.mentions(rng.choice(["red apple", "apple", "box", "red"])) for _ in range(2))
        if subj and obj:
            every = min(((s, o) for s in subj for o in obj),
                        key=lambda p: (max(p[0][0], p[1][0]) - min(p[0][1], p[1][1]), p))
            assert closest_pair(subj, obj) == every
    text = "The knife is on the table. " * 40_000
    (span,), = fact_spans(text, [("knife", "on", "table")])
    assert text[span[0]:span[1]] == "table. The knife" and span[0] == text.index("table")  # 6 apart


# --- pooled vectors ------------------------------------------------------------------------------
@pytest.mark.slow
def test_encode_tokens_gives_encode_vectors_and_pools_spans():
    e = default_embedder()
    texts = [TEXT_A, "Quenthaven is a fishing port."]
    tokens = e.encode_tokens(texts)
    vectors = tokens.vectors
    np.testing.assert_allclose(vectors, e.encode(texts), atol=1e-5)
    whole, clause, nothing, beyond = tokens.pool(0, [[(0, len(TEXT_A))], [(30, 68)], None, [(5000, 5010)]])
    assert tokens.pool(1, []) == [] and tokens.pool(1, [None]) == [None] and nothing is None and beyond is None
    assert np.linalg.norm(clause) == pytest.approx(1.0, abs=1e-5)
    # The mean over every token is the sentence embedding but for the two special tokens.
    assert _cos(whole, vectors[0]) > 0.97
    # A clause pooled in context means about what the clause says alone.
    assert _cos(clause, e.encode(["Zorblat Kirvani was born in Quenthaven"])[0]) > 0.7


@pytest.mark.slow
def test_corpus_graph_pools_its_facts_and_records_it(tmp_path, extractor):
    path = tmp_path / "g.json"
    with CorpusGraph(EmbeddedStore(path, create=True), extractor=extractor) as g:
        g.add(CORPUS)
        g.save()
        born = next(t for t in g.store.triples() if t.relation == "born in")
        title, text = CORPUS[0].title, CORPUS[0].text
        offset = len(title) + 1
        pooled = g.embedder.encode_tokens([titled_text(title, text)]).pool(0, fact_spans(text, [born.as_list()], offset))
        np.testing.assert_allclose(g.facts.vector(born.id), pooled[0], atol=1e-5)
        assert _cos(born.embedding, g.embedder.encode([born.text])[0]) < 0.9999  # not the text's vector
        assert g.store.meta()[FACT_VECTORS] == PASSAGE_TOKENS
        assert g.retrieve("Where was Zorblat Kirvani born?", 1)[0][0] == "p-kirvani"


@pytest.mark.slow
def test_a_graph_written_before_the_record_keeps_embedding_fact_texts(tmp_path, extractor):
    path = tmp_path / "old.json"
    memory = Memory(EmbeddedStore(path, create=True), profile=DOCUMENTS, extractor=extractor, fact_vectors=TEXT)
    memory.observe_many([("p-kirvani", CORPUS[0].title, CORPUS[0].text)])
    store = memory.store
    assert store.meta()[FACT_VECTORS] == TEXT
    store.set_meta(FACT_VECTORS, None)  # as written before the kind was recorded
    memory.close()
    with CorpusGraph(EmbeddedStore(path), extractor=extractor) as g:
        assert g.memory.fact_vectors == TEXT
        g.add(CORPUS[1:])
        mayor = next(t for t in g.store.triples() if "mayor" in t.text)
        np.testing.assert_allclose(mayor.embedding, g.embedder.encode([mayor.text])[0], atol=1e-5)


def test_pooled_facts_need_an_embedder_that_pools():
    class TextOnly:
        name, dim = "text-only", 3

        def encode(self, texts):
            return np.ones((len(texts), 3), dtype=np.float32) / np.sqrt(3)

    store = EmbeddedStore()
    assert Memory(store, embedder=TextOnly(), fact_vectors=PASSAGE_TOKENS).fact_vectors == TEXT
    store.set_meta(FACT_VECTORS, PASSAGE_TOKENS)
    with pytest.raises(ConfigError, match="pooled"):
        Memory(store, embedder=TextOnly())


# --- synonyms --------------------------------------------------------------------------------------
def test_trigram_similarity_of_names():
    idx = TrigramIndex()
    names = ["jan philip solovej", "jan solovej", "january 2008", "1 january 2008", "101.5 fm", "104.9 fm"]
    idx.add(names + ["jan solovej"])  # a name is added once
    assert len(idx) == len(names)
    sims = idx.similarities(names).toarray()
    np.testing.assert_allclose(np.diag(sims), 1.0)
    np.testing.assert_allclose(sims, sims.T)
    assert sims[0, 1] > 0.7 and sims[2, 3] > 0.8
    assert sims[4, 5] < 0.5 < sims[0, 1]  # numbers of the same shape are not synonyms
    assert sims[0, 4] == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("threshold, linked", [(0.7, True), (0.9, False)])
def test_graph_links_names_that_share_their_trigrams(extractor, threshold, linked):
    g = CorpusGraph(extractor=extractor, config=GraphRAGConfig(synonym_threshold=threshold))
    g.add([P("p1", "Jan Philip Solovej", "Jan Philip Solovej is a mathematician."),
           P("p2", "Journal", "The editor is Jan Solovej.")])
    assert (("jan philip solovej", "jan solovej") in g.index.synonyms) == linked


# --- scheduling ------------------------------------------------------------------------------------
def test_encoding_leaves_a_reserved_core_to_the_parser(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert encoding_threads(100) is None  # every core
    with reserved_core():
        assert encoding_threads(100) == 3
        with reserved_core():
            assert encoding_threads(100) == 2
    assert encoding_threads(100) is None and batching._reserved_cores == 0
    assert encoding_threads(3) == 1  # a query: one thread


@pytest.mark.slow
def test_passages_are_parsed_beside_their_encoding_and_a_failed_parse_stops_at_its_batch(extractor):
    class CrashesOnQuenthaven:
        """The real extractor, one text at a time, failing on one passage; notes where it runs."""

        name = "crashes"
        threads: set = set()
        cores_left: list = []

        def extract(self, text, context=()):
            self.threads.add(threading.current_thread().name)
            self.cores_left.append(batching._reserved_cores)
            if text.startswith("Quenthaven"):
                raise RuntimeError("parser crashed")
            return extractor.extract(text)

    memory = Memory(profile=DOCUMENTS, extractor=CrashesOnQuenthaven(), extract_workers=1)
    done = []
    with pytest.raises(RuntimeError, match="parser crashed"):
        memory.observe_many([(p.id, p.title, p.text) for p in CORPUS], batch_size=1, on_batch=done.append)
    assert done == [1] and [e.id for e in memory.store.episodes()] == ["p-kirvani"]
    assert ("zorblat kirvani", "born in", "quenthaven") in [tuple(t.as_list()) for t in memory.current()]
    assert all(name.startswith("extract") for name in CrashesOnQuenthaven.threads)
    assert CrashesOnQuenthaven.cores_left == [1, 1]  # each parse held a core of its own
