"""The graphmem command end to end (in process for speed, plus one real subprocess): building and
recalling with the real models (slow); reading commands on a graph written with the hashing embedder."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fakes import HashingEmbedder
from graphmem.cli import main
from graphmem.memory import Memory

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample_corpus.json"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    """The sample corpus built with the real models."""
    path = tmp_path_factory.mktemp("g") / "sample.json"
    assert main(["build", str(SAMPLE), "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def facts_graph(tmp_path_factory):
    """A graph file of a few facts, for the commands that only read it."""
    path = tmp_path_factory.mktemp("f") / "facts.json"
    with Memory(str(path), embedder=HashingEmbedder()) as memory:
        memory.add_triples([("marie curie", "born in", "warsaw"), ("warsaw", "capital of", "poland")], step=0,
                           source_id="Marie Curie", text="Marie Curie was born in Warsaw.")
    return path


@pytest.mark.slow
def test_build_summary(tmp_path, capsys):
    code, out, _ = run(capsys, "build", str(SAMPLE), "--out", str(tmp_path / "x.json"))
    summary = json.loads(out)
    assert code == 0
    assert summary["passages"] == 5 and summary["triples"] >= 10 and summary["entities"] >= 10
    assert summary["seconds"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["dict", "strings", "folder"])
def test_build_accepts_corpus_shapes(shape, tmp_path, capsys):
    if shape == "dict":
        src = tmp_path / "c.json"
        src.write_text(json.dumps({"Warsaw": ["Warsaw is the capital of Poland.", "It lies on the Vistula."]}))
    elif shape == "strings":
        src = tmp_path / "c.json"
        src.write_text(json.dumps(["Warsaw is the capital of Poland."]))
    else:
        src = tmp_path / "docs"
        src.mkdir()
        (src / "warsaw.txt").write_text("Warsaw is the capital of Poland.")
    code, out, _ = run(capsys, "build", str(src), "--out", str(tmp_path / "g.json"))
    assert code == 0 and json.loads(out)["triples"] >= 1


def test_build_bad_corpus(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    code, _, err = run(capsys, "build", str(bad), "--out", str(tmp_path / "g.json"))
    assert code == 2 and "not valid JSON" in err
    code, _, err = run(capsys, "build", str(tmp_path / "missing.json"), "--out", str(tmp_path / "g.json"))
    assert code == 2 and "no corpus" in err


def test_cypher_json_rows(facts_graph, capsys):
    code, out, _ = run(capsys, "cypher", "--graph", str(facts_graph), "--json",
                       "MATCH (a)-[r]->(b) WHERE a.name = 'marie curie' AND r.relation = 'born in' RETURN b.name")
    assert code == 0 and json.loads(out) == [{"b.name": "warsaw"}]


@pytest.mark.parametrize("query,needle", [("CREATE (n {name: 'x'})", "read-only"),
                                          ("MATCH (n) // x\rDETACH DELETE n", "read-only"),
                                          ("MATCH (a RETURN a", "cannot run")])
def test_cypher_errors_exit_2(facts_graph, capsys, query, needle):
    code, out, err = run(capsys, "cypher", "--graph", str(facts_graph), query)
    assert code == 2 and needle in err and out == ""


@pytest.mark.slow
@pytest.mark.parametrize("query", ["MATCH (a) RETURN a.name LIMIT -1", "MATCH (a) RETURN a.name SKIP -2",
                                   "MATCH (a) RETURN a.name LIMIT 1.5", "MATCH (a) RETURN a.name SKIP .5"])
def test_cypher_negative_bounds_are_refused_not_sliced(graph, capsys, query):
    code, out, err = run(capsys, "cypher", "--graph", str(graph), query)
    assert code == 2 and "non-negative" in err and out == ""


@pytest.mark.slow
def test_cypher_a_string_naming_a_negative_limit_is_still_read(graph, capsys):
    code, out, _ = run(capsys, "cypher", "--graph", str(graph), "--json",
                       "MATCH (a) WHERE a.name = 'limit -1' RETURN a.name")
    assert code == 0 and json.loads(out) == []


@pytest.mark.slow
@pytest.mark.parametrize("command", [["cypher", "MATCH (a) RETURN a"], ["serve-mcp"]])
def test_write_on_a_graph_file_is_refused_at_start(graph, capsys, command):
    code, out, err = run(capsys, command[0], "--graph", str(graph), "--write", *command[1:])
    assert code == 2 and "--write needs a graph server" in err and out == ""


def test_serve_mcp_on_a_busy_port_is_one_line_before_the_graph_opens(tmp_path, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run(capsys, "serve-mcp", "--graph", str(tmp_path / "g.json"), "--http", f"127.0.0.1:{port}")
    assert code == 2 and "cannot listen on 127.0.0.1" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "g.json").exists()


def test_cypher_missing_graph(tmp_path, capsys):
    code, _, err = run(capsys, "cypher", "--graph", str(tmp_path / "nope.json"), "MATCH (a) RETURN a")
    assert code == 2 and "build one first" in err


@pytest.mark.slow
def test_recall_json(graph, capsys):
    code, out, _ = run(capsys, "recall", "--graph", str(graph), "--json", "--depth", "1",
                       "Where was Marie Curie born?")
    data = json.loads(out)
    assert code == 0
    assert data["triples"][0]["subject"] == "marie curie" and data["triples"][0]["object"] == "warsaw"
    assert any("born in Warsaw" in e["text"] for e in data["episodes"])


def test_view_is_self_contained(facts_graph, tmp_path, capsys):
    out_file = tmp_path / "g.html"
    code, _, _ = run(capsys, "view", "--graph", str(facts_graph), "--out", str(out_file))
    page = out_file.read_text()
    assert code == 0 and "marie curie" in page
    assert not re.search(r"(src|href)=[\"']?https?:", page)  # nothing fetched from the network
    assert "fetch(" not in page and "import " not in page


@pytest.mark.slow
def test_extract_json(capsys):
    code, out, _ = run(capsys, "extract", "--json", "There is a knife in the drawer.")
    assert code == 0 and json.loads(out) == [["knife", "in", "drawer"]]


@pytest.mark.slow
def test_extract_text_that_is_not_utf8(capsys):
    # What a shell passes for $'caf\xe9 is open': the byte 0xe9 arrives as a lone surrogate.
    code, out, _ = run(capsys, "extract", "--json", "caf\udce9 is open")
    assert code == 0 and json.loads(out) == [["caf", "is", "open"]]


def test_a_crash_report_is_written_whatever_argv_holds(monkeypatch, tmp_path):
    from graphmem.cli.crash import report_crash

    monkeypatch.setenv("GRAPHMEM_CRASH_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["graphmem", "extract", "caf\udce9"])
    assert report_crash("extract", RuntimeError("boom")) == 1
    (report,) = tmp_path.iterdir()
    assert "caf\\udce9" in report.read_text(encoding="utf-8") and "boom" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("module", ["graphmem", "graphmem.cli"])
def test_console_script_help(module):
    proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for cmd in ("extract", "build", "cypher", "recall", "view"):
        assert cmd in proc.stdout
