"""Source trust (episode meta "trust"): parsed and refused clearly, and weighed by the corpus graph's
ranking, on a scripted extractor and the hashing embedder (fast)."""
import pytest

from fakes import HashingEmbedder, ScriptedExtractor
from graphmem.cli import main
from graphmem.corpus import Passage as P
from graphmem.errors import ConfigError
from graphmem.memory import Memory
from graphmem.profiles import DOCUMENTS
from graphmem.rag.config import GraphRAGConfig
from graphmem.rag.graph import CorpusGraph
from graphmem.trust import parse_trust, trust_of, with_trust

TEXT = "Ilsa Moravec is the mayor of Quenthaven."
SCRIPT = {TEXT: [("Ilsa Moravec", "is", "mayor of Quenthaven")],
          "Tomas Hale is the mayor of Brindlecombe.": [("Tomas Hale", "is", "mayor of Brindlecombe")]}
QUESTION = "Who is the mayor of Quenthaven?"


def graph(passages, **config) -> CorpusGraph:
    g = CorpusGraph(extractor=ScriptedExtractor(SCRIPT), embedder=HashingEmbedder(),
                    config=GraphRAGConfig(**config))
    g.add(passages)
    return g


@pytest.mark.parametrize("value,expected", [("0", 0.0), ("0.3", 0.3), ("1", 1.0), (0.5, 0.5)])
def test_trust_parses_numbers_in_the_unit_range(value, expected):
    assert parse_trust(value) == expected
    assert trust_of({"trust": str(value)}) == expected


def test_trust_defaults_to_full():
    assert trust_of(None) == trust_of({}) == trust_of({"speaker": "Ann"}) == 1.0


@pytest.mark.parametrize("value", ["high", "", "1.5", "-0.1", "nan", "inf", True, None])
def test_bad_trust_is_refused_with_one_clear_line(value):
    with pytest.raises(ConfigError, match=r"trust must be a number in \[0, 1\]"):
        parse_trust(value)


def test_a_bad_trust_is_refused_before_anything_is_written():
    memory = Memory(profile=DOCUMENTS, embedder=HashingEmbedder(), extractor=ScriptedExtractor(SCRIPT))
    with pytest.raises(ConfigError, match="trust"):
        memory.observe_many([("p1", "Quenthaven", TEXT, {"trust": "very"})])
    assert memory.store.counts()["episodes"] == 0
    memory.observe_many([("p1", "Quenthaven", TEXT, with_trust(None, 0.25))])
    assert trust_of(memory.store.get_episode("p1").meta) == 0.25


@pytest.mark.parametrize("untrusted", ["p-a", "p-b"])
def test_a_low_trust_passage_ranks_below_an_identical_trusted_one(untrusted):
    passages = [P(pid, "Quenthaven", TEXT, with_trust(None, 0.3) if pid == untrusted else None)
                for pid in ("p-a", "p-b")]
    passages.append(P("p-c", "Brindlecombe", "Tomas Hale is the mayor of Brindlecombe."))
    ranked = [pid for pid, _ in graph(passages).retrieve(QUESTION, 3)]
    trusted = "p-b" if untrusted == "p-a" else "p-a"
    assert ranked.index(trusted) < ranked.index(untrusted)


def test_forgetting_an_untrusted_passage_forgets_its_trust():
    g = graph([P("p-a", "Quenthaven", TEXT, with_trust(None, 0.3))])
    assert g.index.trust == {"p-a": 0.3}
    g.remove(["p-a"])
    assert g.index.trust == {} and g.index.origins == {}


def test_facts_of_independent_sources_weigh_more_and_untrusted_sources_less():
    passages = [P("p-a", "Quenthaven", TEXT), P("p-b", "Quenthaven town hall", TEXT),
                P("p-c", "Quenthaven", "Ilsa Moravec is the mayor of Quenthaven. She was elected."),
                P("p-u", "Upload", TEXT, with_trust(None, 0.2))]
    index = graph(passages).index
    assert index.fact_weight(["p-a"], 0.5) == 1.0
    assert index.fact_weight(["p-a", "p-c"], 0.5) == 1.0  # one title: one origin
    assert index.fact_weight(["p-a", "p-b"], 0.5) == 1.5
    assert index.fact_weight(["p-a", "p-b"], 0.0) == 1.0
    assert index.fact_weight(["p-u"], 0.5) == pytest.approx(0.2)
    assert index.fact_weight(["p-a", "p-u"], 0.5) == pytest.approx(1.1)  # corroborated by its trust


def test_corroboration_must_not_be_negative():
    with pytest.raises(ConfigError, match="corroboration"):
        GraphRAGConfig(corroboration=-1)


def test_cli_trust_option_is_checked(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["add", "corpus.json", "--graph", "g.json", "--trust", "2"])
    assert exc.value.code == 2
    assert "--trust: 2 is out of range: expected [0, 1]" in capsys.readouterr().err


def test_the_service_observe_takes_a_passage_trust_and_refuses_a_bad_one(tmp_path):
    from graphmem.service import GraphService, ServiceError
    from graphmem.store import open_store

    with GraphService(open_store(tmp_path / "docs.json"), profile="documents",
                      extractor=ScriptedExtractor(SCRIPT)) as service:
        reply = service.observe(TEXT, title="Quenthaven", trust=0.3)
        assert trust_of(service.store.get_episode(reply["passage"]).meta) == 0.3
        with pytest.raises(ConfigError, match=r"trust must be a number in \[0, 1\], got 1.5"):
            service.observe("Tomas Hale is the mayor of Brindlecombe.", title="Brindlecombe", trust=1.5)
        assert service.store.counts()["episodes"] == 1
    with GraphService(open_store(tmp_path / "game.json")) as service:
        with pytest.raises(ServiceError, match="trust weighs a corpus graph's passages"):
            service.observe("You see a knife.", trust=0.5)


def test_build_and_add_trust_mark_the_passages_they_add(tmp_path, capsys):
    import json

    from graphmem.store import open_store

    corpus, upload = tmp_path / "corpus.json", tmp_path / "upload.json"
    corpus.write_text(json.dumps([{"title": "Quenthaven", "text": TEXT}]))
    upload.write_text(json.dumps([{"title": "Upload", "text": "Tomas Hale is the mayor of Quenthaven."}]))
    graph_file = tmp_path / "g.json"
    assert main(["build", str(corpus), "--out", str(graph_file), "--quiet"]) in (0, None)
    assert main(["add", str(upload), "--graph", str(graph_file), "--trust", "0.3", "--quiet"]) in (0, None)
    capsys.readouterr()
    store = open_store(graph_file, readonly=True)
    trusts = {e.title: trust_of(e.meta) for e in store.episodes()}
    store.close()
    assert trusts == {"Quenthaven": 1.0, "Upload": 0.3}


def test_corroboration_flag_refuses_a_negative_value(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ask", "--graph", "g", "q", "--corroboration", "-1"])
    assert exc.value.code == 2
