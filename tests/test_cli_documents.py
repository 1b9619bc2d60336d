"""build, add and forget on folders of documents, end to end with the real embedder and the
offline extractor: chunks that say where they came from, forgetting a document, and an add of a
changed file that re-reads only its changed chunks."""
import json

import pytest

from graphmem.cli import main
from graphmem.model import passage_id
from graphmem.store.embedded import EmbeddedStore

pytestmark = pytest.mark.slow  # the real embedder and spaCy

RIVERS = """# Rivers

The Danube flows through Ulm. The Danube is a long river.

The Rhine flows through Basel. Basel is in Switzerland.

## Towns

Ulm is a city in Germany. Einstein was born in Ulm.
"""
WARSAW = "<title>Warsaw guide</title><h1>Warsaw</h1><p>Warsaw is the capital of Poland.</p>"
SIZES = ["--chunk-min", "20", "--chunk-max", "80"]  # one chunk per paragraph of RIVERS


def _json(capsys, argv) -> dict:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def _chunks(graph) -> dict:
    """Episode id -> (text, meta, triple ids) of the graph's passages."""
    return {e.id: (e.text, e.meta, e.triple_ids) for e in EmbeddedStore(graph, readonly=True).episodes()}


def _folder(tmp_path):
    docs = tmp_path / "docs"
    (docs / "europe").mkdir(parents=True)
    (docs / "europe" / "rivers.md").write_text(RIVERS)
    (docs / "warsaw.html").write_text(WARSAW)
    (docs / "notes.csv").write_text("river,town")
    return docs


def test_a_folder_builds_into_chunks_that_say_where_they_came_from_and_forget_takes_a_document(tmp_path, capsys):
    docs, graph = _folder(tmp_path), tmp_path / "g.gmem"
    out = _json(capsys, ["build", str(docs), "--out", str(graph), *SIZES])
    assert (out["passages"], out["added"], out["files_skipped"], out["files_failed"]) == (4, 4, 1, [])
    chunks = _chunks(graph)
    assert sorted((m["document"], m["position"], m["section"], text) for text, m, _ in chunks.values()) == [
        ("europe/rivers.md", "0", "Rivers", "Rivers\n\nThe Danube flows through Ulm. The Danube is a long river."),
        ("europe/rivers.md", "1", "Rivers", "The Rhine flows through Basel. Basel is in Switzerland."),
        ("europe/rivers.md", "2", "Rivers > Towns", "Towns\n\nUlm is a city in Germany. Einstein was born in Ulm."),
        ("warsaw.html", "0", "Warsaw", "Warsaw\n\nWarsaw is the capital of Poland."),
    ]
    assert {m.get("document_title") for _, m, _ in chunks.values()} == {None, "Warsaw guide"}
    rivers = {pid for pid, (_, m, _) in chunks.items() if m["document"] == "europe/rivers.md"}
    assert passage_id("europe/rivers", "The Rhine flows through Basel. Basel is in Switzerland.") in rivers

    out = _json(capsys, ["forget", "--graph", str(graph), "europe/rivers.md"])
    assert out["passages_forgotten"] == 3 and set(out["forgotten"]) == rivers
    left = _chunks(graph)
    assert [m["document"] for _, m, _ in left.values()] == ["warsaw.html"]
    store = EmbeddedStore(graph, readonly=True)
    assert all(set(t.sources) <= set(left) for t in store.triples(current_only=False))
    assert main(["forget", "--graph", str(graph), "europe/rivers.md"]) == 2
    assert "no passage with id, title or document 'europe/rivers.md'" in capsys.readouterr().err


def test_add_of_a_changed_file_reads_only_its_changed_chunks(tmp_path, capsys):
    docs, graph = _folder(tmp_path), tmp_path / "g.gmem"
    _json(capsys, ["build", str(docs), "--out", str(graph), *SIZES])
    before = _chunks(graph)
    towns = next(pid for pid, (text, _, _) in before.items() if text.startswith("Towns"))
    # A paragraph before the others (the heading's chunk changes), a sentence changed, the rest as it was.
    (docs / "europe" / "rivers.md").write_text(
        RIVERS.replace("# Rivers\n", "# Rivers\n\nThe Elbe flows through Dresden. Dresden is in Saxony.\n")
        .replace("Basel is in Switzerland.", "Basel is a Swiss city."))
    # One file of the folder, named as in the folder: warsaw.html is not read and stays as it was.
    out = _json(capsys, ["add", str(docs / "europe" / "rivers.md"), "--root", str(docs), "--graph", str(graph), *SIZES])
    assert (out["added"], out["skipped"], out["removed"], out["meta_updated"]) == (3, 1, 2, 1)
    after = _chunks(graph)
    assert out["passages_in_graph"] == len(after) == 5
    assert sorted((m["document"], m["position"], " ".join(text.split()[:3])) for text, m, _ in after.values()) == [
        ("europe/rivers.md", "0", "Rivers The Elbe"), ("europe/rivers.md", "1", "The Danube flows"),
        ("europe/rivers.md", "2", "The Rhine flows"), ("europe/rivers.md", "3", "Towns Ulm is"),
        ("warsaw.html", "0", "Warsaw Warsaw is")]
    # The unchanged chunk kept its facts (not extracted again) and took its new position.
    assert after[towns][2] == before[towns][2] and after[towns][1]["position"] == "3"
    store = EmbeddedStore(graph, readonly=True)
    assert all(set(t.sources) <= set(after) for t in store.triples(current_only=False))
    again = _json(capsys, ["add", str(docs), "--graph", str(graph), *SIZES])
    assert (again["added"], again["skipped"], again["removed"], again["meta_updated"]) == (0, 5, 0, 0)


def test_a_graph_of_whole_txt_files_is_not_added_to_in_chunks(tmp_path, capsys):
    docs, graph = tmp_path / "docs", tmp_path / "g.json"
    docs.mkdir()
    (docs / "ulm.txt").write_text("Ulm lies on the Danube.\n")
    out = _json(capsys, ["build", str(docs), "--out", str(graph), "--no-chunking"])
    assert list(_chunks(graph)) == [passage_id("ulm", "Ulm lies on the Danube.\n")] and out["added"] == 1
    assert main(["add", str(docs), "--graph", str(graph)]) == 2
    assert "--no-chunking" in capsys.readouterr().err
    assert _json(capsys, ["add", str(docs), "--graph", str(graph), "--no-chunking"])["skipped"] == 1


def test_jsonl_chunks_of_a_document_are_brought_up_to_date_too(tmp_path, capsys):
    path, graph = tmp_path / "chunks.jsonl", tmp_path / "g.json"

    def write(*texts: str) -> None:
        path.write_text("\n".join(json.dumps({"title": "Rivers", "text": t, "document": "rivers.md"}) for t in texts))

    write("The Danube flows through Ulm.", "The Rhine flows through Basel.")
    assert _json(capsys, ["build", str(path), "--out", str(graph)])["added"] == 2
    write("The Danube flows through Ulm.", "The Rhine flows through Cologne.")
    out = _json(capsys, ["add", str(path), "--graph", str(graph)])
    assert (out["added"], out["skipped"], out["removed"], out["meta_updated"]) == (1, 1, 1, 0)
    assert sorted(text for text, _, _ in _chunks(graph).values()) == [
        "The Danube flows through Ulm.", "The Rhine flows through Cologne."]
