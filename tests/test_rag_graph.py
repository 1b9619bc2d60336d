"""Corpus graph on a tiny corpus, with the real spaCy extractor and the real embedder (slow); how it
grows and shrinks, on a scripted extractor and the hashing embedder."""
import pytest

from fakes import HashingEmbedder, ScriptedExtractor
from graphmem.corpus import Passage as P
from graphmem.extract.offline import OfflineExtractor
from graphmem.profiles import DOCUMENTS
from graphmem.rag import DenseRetriever
from graphmem.rag.config import PRESETS, TITLED_PRIOR, UNTITLED_PRIOR, GraphRAGConfig
from graphmem.rag.graph import CorpusGraph
from graphmem.rag.mentions import proper_names


CORPUS = [
    P("p-kirvani", "Zorblat Kirvani",
      "Zorblat Kirvani is a painter. Zorblat Kirvani was born in Quenthaven."),
    P("p-quent", "Quenthaven", "Quenthaven is a fishing port on the northern coast. "
                               "Ilsa Moravec is the mayor of Quenthaven."),
    P("p-brindle", "Brindlecombe", "Tomas Hale is the mayor of Brindlecombe, the town where he was born."),
    P("p-arden", "Ardenford", "Lena Voss is the mayor of Ardenford. Lena Voss was born in Ardenford."),
    P("p-painters", "Painters of the coast", "Many painters were born in small coastal towns with a mayor."),
    P("p-lighthouse", "Kestrel Lighthouse", "The Kestrel Lighthouse stands on a cliff near Varrow."),
]
QUESTION = "Who is the mayor of the town where Zorblat Kirvani was born?"
GOLD = {"p-kirvani", "p-quent"}
# The facts the real extractor reads in the corpus (as test_retrieval_explains_itself... checks some).
SCRIPT = {
    "Zorblat Kirvani is a painter.": [("Zorblat Kirvani", "is", "painter")],
    "Zorblat Kirvani was born in Quenthaven.": [("Zorblat Kirvani", "born in", "Quenthaven")],
    "Quenthaven is a fishing port on the northern coast.": [("Quenthaven", "is", "fishing port")],
    "Ilsa Moravec is the mayor of Quenthaven.": [("Ilsa Moravec", "is", "mayor of Quenthaven")],
    "Tomas Hale is the mayor of Brindlecombe, the town where he was born.": [
        ("Tomas Hale", "is", "mayor of Brindlecombe"), ("Tomas Hale", "born in", "Brindlecombe")],
    "Lena Voss is the mayor of Ardenford.": [("Lena Voss", "is", "mayor of Ardenford")],
    "Lena Voss was born in Ardenford.": [("Lena Voss", "born in", "Ardenford")],
    "The Kestrel Lighthouse stands on a cliff near Varrow.": [("Kestrel Lighthouse", "on", "cliff")],
}


def scripted(**settings) -> CorpusGraph:
    return CorpusGraph(extractor=ScriptedExtractor(SCRIPT), embedder=HashingEmbedder(), **settings)


@pytest.fixture(scope="module")
def extractor():
    return OfflineExtractor(profile=DOCUMENTS)


@pytest.fixture(scope="module")
def graph(extractor):
    g = CorpusGraph(extractor=extractor)
    g.add(CORPUS)
    return g


def _ids(hits):
    return [pid for pid, _ in hits]


def _same_ranking(a, b):
    assert _ids(a) == _ids(b)
    assert [s for _, s in a] == pytest.approx([s for _, s in b])


@pytest.mark.slow
def test_graph_finds_second_hop_that_dense_misses(extractor):
    dense = DenseRetriever()
    dense.add(CORPUS)
    assert set(_ids(dense.retrieve(QUESTION, 2))) != GOLD  # the mayor distractors outrank hop 2
    # The walk from the question's two nearest facts (Kirvani's) follows 'born in' to the town.
    # (With the defaults this toy is decided by the third nearest fact, a mayor of some town, and
    # by the dense prior, which favours the mayor passages.)
    walk = CorpusGraph(extractor=extractor, config=GraphRAGConfig(fact_top_k=2, passage_weight=0.0))
    walk.add(CORPUS)
    assert set(_ids(walk.retrieve(QUESTION, 2))) == GOLD


@pytest.mark.slow
def test_retrieval_explains_itself_with_linked_facts(graph):
    r = graph.query(QUESTION, 2)
    assert ("zorblat kirvani", "born in", "quenthaven") in [tuple(t.as_list()) for t, _ in r.facts]
    assert "quenthaven" in r.seeds and "zorblat kirvani" in r.seeds


def test_incremental_add_equals_one_shot_build():
    whole = scripted()
    whole.add(CORPUS)
    g = scripted()
    assert g.add(CORPUS[:3]) == 3
    assert g.add(CORPUS) == 3  # the first three are already there: skipped, not rebuilt
    assert g.stats() == whole.stats()
    _same_ranking(g.retrieve(QUESTION, 6), whole.retrieve(QUESTION, 6))


def test_delete_passage_removes_only_what_it_alone_supported():
    shared = P("p-kirvani-2", "Kirvani family", "Zorblat Kirvani was born in Quenthaven.")
    g = scripted()
    g.add(CORPUS + [shared])
    born = next(t for t in g.store.triples() if t.as_list() == ["zorblat kirvani", "born in", "quenthaven"])
    assert born.sources == ["p-kirvani", "p-kirvani-2"]
    mayor_ids = [t.id for t in g.store.triples() if t.object == "mayor of quenthaven"]
    deleted = g.remove(["p-quent"])
    assert deleted and set(mayor_ids) <= set(deleted)
    assert g.store.get_triple(born.id) is not None  # other passages still support it
    assert "p-quent" not in g and "p-quent" not in _ids(g.retrieve(QUESTION, 10))
    assert "ilsa moravec" not in g.entities()  # only the deleted passage mentioned her
    g.remove(["p-kirvani"])
    assert g.store.get_triple(born.id).sources == ["p-kirvani-2"]
    g.add([CORPUS[1]])  # a deleted passage can come back
    assert "ilsa moravec" in g.entities() and _ids(g.retrieve("Who is the mayor of Quenthaven?", 1)) == ["p-quent"]


def test_a_corpus_graph_follows_whatever_writes_through_its_memory(graph, extractor):
    from graphmem.errors import ConfigError
    from graphmem.memory import Memory

    memory = Memory(profile="documents", extractor=extractor)
    g = CorpusGraph(memory)
    memory.observe_many([(p.id, p.title, p.text) for p in CORPUS[:3]])
    memory.observe(CORPUS[3].text, step=0, source_id=CORPUS[3].id, title=CORPUS[3].title)
    memory.observe_many([(p.id, p.title, p.text) for p in CORPUS[4:]])
    assert len(g) == len(CORPUS) and g.stats()["entities"] == graph.stats()["entities"]
    assert set(_ids(g.retrieve(QUESTION, 2))) == set(_ids(graph.retrieve(QUESTION, 2)))
    memory.forget("p-quent")  # the memory's verb: the corpus graph's indices follow
    assert "p-quent" not in g and "ilsa moravec" not in g.entities()
    assert "p-quent" not in _ids(g.retrieve(QUESTION, 10))
    with pytest.raises(ConfigError, match="text-game"):
        CorpusGraph(Memory(extractor=extractor))


@pytest.mark.slow
def test_associative_mode_ranks_passages_of_recalled_triples(graph):
    from graphmem.rag.associative import AssociativeRetriever

    hits = AssociativeRetriever(graph).retrieve(QUESTION, 3)
    assert 0 < len(hits) <= 3
    assert "p-kirvani" in _ids(hits)
    assert all(pid in graph for pid in _ids(hits))


@pytest.mark.slow
def test_save_and_load_give_the_same_ranking(graph, tmp_path):
    path = tmp_path / "corpus.json"
    graph.save(path)
    again = CorpusGraph.load(path)
    assert again.stats()["triples"] == graph.stats()["triples"]
    _same_ranking(again.retrieve(QUESTION, 6), graph.retrieve(QUESTION, 6))


def test_config_is_validated():
    with pytest.raises(ValueError, match="damping"):
        GraphRAGConfig(damping=1.5)
    with pytest.raises(ValueError, match="synonym_threshold"):
        GraphRAGConfig(synonym_threshold=2.0)


class PerTextExtractor:
    """The real offline extractor seen through ``extract`` only, as LLM extractors are."""

    name = "per-text"

    def __init__(self, inner):
        self.inner = inner

    def extract(self, text, context=()):
        return self.inner.extract(text)


@pytest.mark.slow
def test_per_text_extractors_run_concurrently_in_order(graph, extractor):
    g = CorpusGraph(extractor=PerTextExtractor(extractor), extract_workers=3)
    done = []
    g.add(CORPUS, batch_size=4, on_batch=done.append)
    assert done == [4, 6]  # batches of 4 (6 passages)
    assert g.stats() == graph.stats()
    assert [e.triple_ids for e in g.store.episodes()] == [e.triple_ids for e in graph.store.episodes()]


@pytest.mark.slow
def test_bridge_bonus_lifts_the_passage_a_top_passage_names(extractor):
    corpus = CORPUS + [P("p-varrow", "Varrow, Northshire", "A quiet harbour town with a long pier.")]
    # A titled corpus's prior, as on Wikipedia: six passages are too few to measure the shape by.
    titled = dict(zip(("passage_weight", "lexical_weight"), TITLED_PRIOR))
    plain = CorpusGraph(extractor=extractor, config=GraphRAGConfig(bridge_weight=0.0, **titled))
    plain.add(corpus)
    bridged = CorpusGraph(extractor=extractor, config=GraphRAGConfig(**titled))  # bridge 0.2 over the top 3
    bridged.add(corpus)
    question = "Which cliff lighthouse stands near a town?"
    # the lighthouse passage names 'Varrow': the alias of the title 'Varrow, Northshire'
    assert bridged.mentions.kinds["p-lighthouse"].get("varrow") == "text"
    assert _ids(plain.retrieve(question, 3))[0] == "p-lighthouse"
    assert _ids(plain.retrieve(question, 3))[1] != "p-varrow"
    assert _ids(bridged.retrieve(question, 2)) == ["p-lighthouse", "p-varrow"]


@pytest.mark.slow
def test_a_title_named_in_a_fact_bridges_too(extractor):
    # 'Varrow' is the object of one of p-gull's facts, so it is linked as a fact mention, not a
    # text mention; it is still a title that the passage names.
    corpus = CORPUS + [P("p-varrow", "Varrow, Northshire", "A quiet harbour town with a long pier."),
                       P("p-gull", "Gull Rock", "Gull Rock lighthouse keepers were born in Varrow.")]
    titled = dict(zip(("passage_weight", "lexical_weight", "coverage_weight", "sentence_weight"), TITLED_PRIOR))
    plain = CorpusGraph(extractor=extractor, config=GraphRAGConfig(bridge_weight=0.0, **titled))
    plain.add(corpus)
    bridged = CorpusGraph(extractor=extractor, config=GraphRAGConfig(**titled))
    bridged.add(corpus)
    question = "Where were the lighthouse keepers born?"
    assert bridged.mentions.kinds["p-gull"].get("varrow") == "fact"
    assert "p-varrow" not in _ids(plain.retrieve(question, 4))
    assert _ids(bridged.retrieve(question, 3))[0] == "p-gull"
    assert "p-varrow" in _ids(bridged.retrieve(question, 3))


def test_research_switches_are_validated():
    for bad in ({"bridge_weight": -1}, {"name_bridge_weight": -0.1}, {"lexical_weight": -0.1},
                {"bridge_top": -1}, {"name_bridge_max": -1}):
        with pytest.raises(ValueError):
            GraphRAGConfig(**bad)


def test_every_setting_has_a_help_line_and_presets_name_real_settings():
    from dataclasses import fields

    assert all(GraphRAGConfig.help(f.name) for f in fields(GraphRAGConfig))
    assert GraphRAGConfig.preset("default") == GraphRAGConfig()
    for name, (what, changes) in PRESETS.items():
        config = GraphRAGConfig.preset(name)
        assert what and all(getattr(config, k) == v for k, v in changes.items())
    with pytest.raises(ValueError, match="unknown retrieval preset 'fastest'; choose from default"):
        GraphRAGConfig.preset("fastest")


def test_hipporag2_preset_links_passages_to_their_facts_entities_only(extractor, graph):
    from graphmem.rag.mentions import FACT, TITLE

    def kinds(g):
        return {kind for named in g.mentions.kinds.values() for kind in named.values()}

    g = CorpusGraph(extractor=extractor, config=GraphRAGConfig.preset("hipporag2"))
    g.add(CORPUS)
    assert kinds(g) == {FACT} and TITLE in kinds(graph)  # the defaults link titles too
    r = g.query(QUESTION, 2)
    assert len(r.passages) == 2 and r.facts
    # no word signal in the prior, whatever the corpus's shape
    assert g.prior[1:4] == (0.0, 0.0, 0.0)


def test_proper_names_are_names_written_on_their_own():
    text = ("Dodge City Regional Airport is in Ford County, Kansas. Population grew in 1883 near the "
            "airport. He studied at Trinity College of Music with President Obama.")
    names = ["ford county", "kansas", "population", "1883", "airport", "trinity college of music", "obama"]
    # 'Population' starts a sentence, 'Airport' ends a longer name, 'Obama' follows a title word
    assert proper_names(names, text) == ["ford county", "kansas", "trinity college of music"]


@pytest.mark.slow
@pytest.mark.parametrize("named_first", [True, False])
def test_a_proper_name_in_a_fact_links_the_texts_that_name_it(extractor, named_first):
    # No passage is about Zimbabwe; the river's fact names it, the falls' text only mentions it.
    river = P("p-bubye", "Bubye River",
              "The Bubye River is a tributary of the Limpopo River in Beitbridge District, Zimbabwe.")
    falls = P("p-falls", "Victoria Falls", "Victoria Falls is a waterfall. Tourists from Zimbabwe visit it often.")
    g = CorpusGraph(extractor=extractor)
    for p in ([falls, river] if named_first else [river, falls]):
        g.add([p])  # one at a time: an earlier passage is found when a later one makes the name
    assert g.mentions.kinds["p-bubye"]["zimbabwe"] == "fact"
    assert g.mentions.kinds["p-falls"]["zimbabwe"] == "text"
    unlinked = CorpusGraph(extractor=extractor, config=GraphRAGConfig(link_names=False))
    unlinked.add([falls, river])
    assert "zimbabwe" not in unlinked.mentions.kinds["p-falls"]
    g.remove(["p-bubye"])  # nothing names Zimbabwe in a fact any more: the text mention goes too
    assert "zimbabwe" not in g.mentions.kinds["p-falls"] and "zimbabwe" not in g.mentions.passages_of


@pytest.mark.slow
def test_a_proper_name_no_passage_is_about_bridges_to_the_passages_naming_it(extractor):
    # The village's fact names Quillmark; no passage is about Quillmark, and the treaty's passage
    # names it only in passing, so the question's second hop shares a name with its first.
    corpus = CORPUS + [
        P("p-village", "Orrinby", "Orrinby is a village in the far north of Quillmark."),
        P("p-treaty", "Harbour League", "The Harbour League admitted Quillmark as its seventh member in 1974."),
        P("p-league-b", "Inland League", "The Inland League admitted its seventh member in 1981."),
        P("p-league-c", "River League", "The River League admitted its seventh member in 1969."),
    ]
    question = "When was the country of the village of Orrinby admitted as a member?"
    plain = CorpusGraph(extractor=extractor, config=GraphRAGConfig(name_bridge_weight=0.0))
    plain.add(corpus)
    bridged = CorpusGraph(extractor=extractor)
    bridged.add(corpus)
    assert bridged.mentions.is_proper_name("quillmark")
    assert not any(kind == "title" for kind in (bridged.mentions.kinds[p].get("quillmark") for p in
                                               bridged.mentions.passages_of["quillmark"]))
    assert _ids(plain.retrieve(question, 2))[0] == "p-village"
    assert _ids(plain.retrieve(question, 2))[1] != "p-treaty"
    assert _ids(bridged.retrieve(question, 2)) == ["p-village", "p-treaty"]


def test_the_prior_follows_the_corpus_shape_unless_given():
    cfg = GraphRAGConfig()
    assert cfg.prior(0.0) == (*UNTITLED_PRIOR, True)  # a guide's chunks, a conversation's turns
    assert cfg.prior(0.45) == (*TITLED_PRIOR, False)  # Wikipedia: passages name one another's titles
    half = cfg.prior(cfg.titled_share / 2)
    assert half[:4] == pytest.approx(tuple((a + b) / 2 for a, b in zip(TITLED_PRIOR, UNTITLED_PRIOR)))
    assert half.stems
    given = GraphRAGConfig(lexical_weight=0.3, coverage_weight=0.0, lexical_stems=False)
    assert given.prior(0.0) == (UNTITLED_PRIOR[0], 0.3, 0.0, UNTITLED_PRIOR[3], False)
    with pytest.raises(ValueError, match="titled_share"):
        GraphRAGConfig(titled_share=0.0)
    with pytest.raises(ValueError, match="coverage_weight"):
        GraphRAGConfig(coverage_weight=-1.0)


@pytest.mark.slow
def test_words_a_chunk_holds_in_one_sentence_lift_it_over_one_that_scatters_them(extractor):
    # Untitled chunks of one guide: both hold every word of the question, one in one sentence.
    guide = [P("apart", "", "Warfarin is a common drug. Its dose is lowered for older patients. "
                            "The kidney clinic checks their blood each week."),
             P("together", "", "The kidney clinic lowers the warfarin dose for older patients. Its "
                               "staff check their blood each week."),
             P("other", "", "Aspirin thins the blood. Patients take it after meals.")]
    question = "Why is the warfarin dose lowered in the kidney clinic?"
    lifted = CorpusGraph(extractor=extractor)
    lifted.add(guide)
    assert lifted.prior.sentence_weight == UNTITLED_PRIOR[3] > 0
    flat = CorpusGraph(lifted.memory, config=GraphRAGConfig(sentence_weight=0.0))

    def lead(graph):
        scores = dict(graph.retrieve(question, 3))  # the best sentence's share: 1 against ~0.4
        return scores["together"] / scores["apart"]

    assert lead(lifted) > 1.1 * lead(flat)  # 0.89 against 0.72 when measured


def test_a_first_name_is_linked_to_the_one_full_name_it_begins(extractor):
    graph = CorpusGraph(extractor=extractor)
    graph.add([P("a", "founding", "Marta Quill opened the Quill Bakery in Lisbon in 1998."),
               P("b", "today", "Years later Marta moved to Porto, and Tomas Reyes runs the bakery."),
               P("c", "menu", "Locals say that Quill sells the best rye bread.")])
    assert "quill" in graph.entities()
    short = set(graph.index.short_names())
    assert ("marta", "marta quill") in short
    assert not any(word == "quill" for word, _ in short)  # 'Quill' ends one name, begins another


def test_refreshing_a_document_forgets_its_old_chunks_and_moves_the_rest(extractor):
    from graphmem.corpus import Corpus

    def chunk(pid, text, position):
        return P(pid, "guide", text, {"document": "guide.md", "section": "", "position": str(position)})

    graph = CorpusGraph(extractor=extractor)
    first = [chunk("a", "Ana lives in Lisbon.", 0), chunk("b", "Ben works in Porto.", 1)]
    graph.add(first)
    # An edit: a new chunk before "b", and "a" rewritten as "a2".
    edited = [chunk("a2", "Ana lives in Faro.", 0), chunk("n", "Cara paints boats.", 1), chunk("b", "Ben works in Porto.", 2)]
    graph.add(edited)
    stale, moved = graph.refresh_documents(Corpus(edited, ["guide.md"]))
    assert stale == ["a"] and moved == 1  # "b" kept its facts and took position 2
    assert "a" not in graph and graph.store.get_episode("b").meta["position"] == "2"
    ids = ["a2", "b", "n"]
    before, after = graph.index.neighbours(ids)
    assert before.tolist() == after.tolist() == [0, 1, 2]  # chunks are no sequence: none lends its score
