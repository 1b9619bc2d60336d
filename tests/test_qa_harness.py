"""eval-qa's cached corpus graph: evaluating it holds no writer's lock (real extractor and embedder)."""
import pytest

from graphmem_agents.qa.harness import build_graph, build_retrievers
from graphmem_environments.qa import Passage, QADataset, Question
from graphmem.store import open_store

PASSAGES = [Passage("p-k", "Zorblat Kirvani", "Zorblat Kirvani was born in Quenthaven."),
            Passage("p-q", "Quenthaven", "Ilsa Moravec is the mayor of Quenthaven.")]
LATER = Passage("p-b", "Brindlecombe", "Tomas Hale is the mayor of Brindlecombe.")
QUESTION = Question("q1", "Who is the mayor of the town where Zorblat Kirvani was born?", "Ilsa Moravec",
                    gold_ids=["p-k", "p-q"])

pytestmark = pytest.mark.slow  # real models


def test_a_graph_being_evaluated_lets_other_runs_read_and_grow_its_file(tmp_path):
    data = QADataset("tiny", [QUESTION], PASSAGES)
    first = build_retrievers(["graph"], data, str(tmp_path), progress=False)  # builds the file
    # while the first run still evaluates, a second one (another split, a replay) reads the cache
    second = build_retrievers(["graph"], data, str(tmp_path), progress=False)
    assert (first.cached["graph"], second.cached["graph"]) == (False, True)
    assert first.retrievers["graph"].retrieve(QUESTION.question, 1)[0][0] in {"p-k", "p-q"}
    path = tmp_path / "graph.json"
    graph, added = build_graph(data, str(path), progress=False)
    grown, more = build_graph(QADataset("tiny", [QUESTION], PASSAGES + [LATER]), str(path), progress=False)
    assert (added, more) == (2, 1) and "p-b" in grown and "p-b" not in graph
    assert graph.store.readonly and grown.store.readonly
    open_store(str(path)).close()  # no run holds the writer's lock once its graph is built
