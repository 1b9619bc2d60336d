"""scripts/bench_poison.py on a tiny generated MuSiQue-shaped folder, graph and BM25 only: crafted
passages reach the top, the trust defence keeps them out, and forget restores the clean ranking."""
import json
from pathlib import Path

import pytest

from script_module import load_script

pytestmark = pytest.mark.slow  # builds a corpus graph (real spaCy and embedder)

FACTS = [("Zorblat Kirvani", "Zorblat Kirvani is a painter born in Quenthaven."),
         ("Quenthaven", "Quenthaven is a fishing port. Ilsa Moravec is the mayor of Quenthaven."),
         ("Tomas Hale", "Tomas Hale is a sculptor born in Brindlecombe."),
         ("Brindlecombe", "Brindlecombe is a market town. Lena Voss is the mayor of Brindlecombe."),
         ("Kestrel Lighthouse", "The Kestrel Lighthouse stands on a cliff near Varrow."),
         ("Varrow", "Varrow is a village known for its cheese.")]
ASKED = [("Who is the mayor of the town where Zorblat Kirvani was born?", "Ilsa Moravec", [0, 1]),
         ("Who is the mayor of the town where Tomas Hale was born?", "Lena Voss", [2, 3]),
         ("What is the village near the Kestrel Lighthouse known for?", "cheese", [4, 5])]


def _folder(tmp_path: Path) -> Path:
    data = tmp_path / "tiny"
    data.mkdir()
    (data / "corpus.json").write_text(json.dumps([{"title": t, "text": x} for t, x in FACTS]))
    questions = [{"id": f"q{i}", "question": q, "answer": a, "answer_aliases": [],
                  "paragraphs": [{"idx": n, "title": t, "paragraph_text": x, "is_supporting": n in gold}
                                 for n, (t, x) in enumerate(FACTS)]}
                 for i, (q, a, gold) in enumerate(ASKED)]
    (data / "questions.json").write_text(json.dumps(questions))
    return data


def _bench():
    return load_script("bench_poison")


def test_bench_poison_attacks_defends_and_forgets(tmp_path, capsys):
    bench = _bench()
    code = bench.main(["--data", str(_folder(tmp_path)), "--split", "all", "--retrievers", "graph,bm25",
                       "--k-poison", "2", "--top", "2", "--trust", "0.1",
                       "--cache-dir", str(tmp_path / "cache"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["restored_after_forget"]
    attacks = report["attacks"]
    assert set(attacks["none"]) == {"graph", "bm25"}
    assert attacks["none"]["graph"]["attack"] == attacks["none"]["bm25"]["attack"] == 1.0
    assert attacks["trust+corroboration"]["graph"]["attack"] < attacks["none"]["graph"]["attack"]
    assert report["clean_recall"]["graph"] > 0


def test_bench_poison_refuses_unknown_names(tmp_path, capsys):
    bench = _bench()
    for option, name in (("--retrievers", "graph,bm2"), ("--answer-attacks", "none,trusted")):
        with pytest.raises(SystemExit) as stop:
            bench.main(["--data", str(tmp_path), option, name])
        assert stop.value.code == 2 and f"unknown {option[2:].replace('-', ' ')} " in capsys.readouterr().err
