"""A damaged graph archive is refused, never served: whichever reader first touches a damaged entry
(opening, recall, Cypher, the CLI) stops with one line naming the file and the entry and saying how
to recover, and no writer saves the damage over with fresh CRCs."""
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from graphmem.cli import main
from graphmem.memory import Memory
from graphmem.model import Episode, Triple
from graphmem.store.archive import ArchiveDamaged, ArchiveReader
from graphmem.store.base import StoreError
from graphmem.store.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_corpus.json"
TABLES = ["graphmem.json", "strings.json", "triples.npy", "triple_sources.npy", "triple_source_ends.npy",
          "episodes.json", "episode_triples.npy", "episode_triple_ends.npy"]  # read whole on open
VECTORS = ["triple_vectors.npy", "episode_vectors.npy"]  # read in place, checked on first use
QUESTION = "Where was Marie Curie born?"
COUNT = "MATCH (a)-[r]->(b) RETURN count(r) AS n"

pytestmark = pytest.mark.slow  # every test builds a graph with the real models


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _crash_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_CRASH_DIR", str(tmp_path / "crashes"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A corpus graph built by the CLI (the real extractor and embedder)."""
    path = tmp_path_factory.mktemp("archive") / "g.gmem"
    assert main(["build", str(SAMPLE), "--out", str(path)]) == 0
    return path


def data_span(path: Path, entry: str) -> tuple[int, int]:
    """Where the data of ``entry`` lies in the file (after the .npy header of an array)."""
    reader = ArchiveReader(path)
    start, size = reader.span(entry)
    reader.close()
    head = 0
    if entry.endswith(".npy"):
        head = 10 + struct.unpack_from("<H", path.read_bytes(), start + 8)[0]  # .npy version 1.0
    assert size > head, f"{entry} holds no data to damage"
    return start + head, start + size


def flipped(src: Path, dst: Path, entry: str) -> Path:
    """A copy of ``src`` with one bit flipped in the middle of ``entry``'s data: what a bad sector or
    a torn copy leaves, and a change that still parses (a JSON character, a number, a float)."""
    raw = bytearray(src.read_bytes())
    a, b = data_span(src, entry)
    raw[(a + b) // 2] ^= 0x01
    dst.write_bytes(bytes(raw))
    return dst


def with_crcs_fixed(path: Path, entry: str) -> None:
    """Write ``entry``'s true CRC-32 into its local and central headers: a file as a faulty writer
    saves it, valid as a ZIP file."""
    raw = bytearray(path.read_bytes())
    reader = ArchiveReader(path)
    start, size = reader.span(entry)
    header = reader._info(entry).header_offset
    reader.close()
    crc = zlib.crc32(raw[start:start + size])
    struct.pack_into("<I", raw, header + 14, crc)
    name = entry.encode()
    at = raw.find(b"PK\x01\x02")
    while at != -1:
        if raw[at + 46:at + 46 + struct.unpack_from("<H", raw, at + 28)[0]] == name:
            struct.pack_into("<I", raw, at + 16, crc)
        at = raw.find(b"PK\x01\x02", at + 1)
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None


def assert_refused(code: int, out: str, err: str, path: Path, entry: str, why: str = "is damaged") -> None:
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"entry {entry} {why}" in err and str(path.resolve()) in err, err
    assert "graphmem build" in err and "bug" not in err


def test_an_intact_archive_verifies_and_answers(built, capsys):
    with zipfile.ZipFile(built) as zf:
        assert zf.namelist() == TABLES + VECTORS
    reader = ArchiveReader(built)
    for entry in TABLES + VECTORS:
        reader.verify(entry)
    reader.close()
    code, out, _ = run(capsys, "recall", "--graph", built, QUESTION)
    assert code == 0 and "warsaw" in out.lower()
    code, out, _ = run(capsys, "cypher", "--graph", built, COUNT, "--json")
    st = EmbeddedStore(built, readonly=True)
    assert code == 0 and json.loads(out) == [{"n": st.count_triples()}]
    st.close()


@pytest.mark.parametrize("entry", TABLES + VECTORS)
def test_a_damaged_entry_is_refused_by_readers(built, tmp_path, capsys, entry):
    bad = flipped(built, tmp_path / "bad.gmem", entry)
    assert_refused(*run(capsys, "recall", "--graph", bad, QUESTION), bad, entry)
    if entry != "episode_vectors.npy":  # Cypher reads the triples and their vectors, no episode's
        assert_refused(*run(capsys, "cypher", "--graph", bad, COUNT), bad, entry)
    with pytest.raises(ArchiveDamaged, match=f"entry {entry} is damaged"):
        Memory(EmbeddedStore(bad, readonly=True))


@pytest.mark.parametrize("entry", TABLES + VECTORS)
def test_a_writer_refuses_a_damaged_file_and_leaves_it_as_it_was(built, tmp_path, capsys, entry):
    bad = flipped(built, tmp_path / "bad.gmem", entry)
    before = bad.read_bytes()
    corpus = tmp_path / "more.json"
    corpus.write_text(json.dumps([{"title": "Oslo", "text": "Oslo is the capital of Norway."}]))
    assert_refused(*run(capsys, "add", "--graph", bad, corpus), bad, entry)
    assert_refused(*run(capsys, "import", "--from", bad, "--out", tmp_path / "copy.gmem"), bad, entry)
    assert bad.read_bytes() == before and not (tmp_path / "copy.gmem").exists()
    assert not list(tmp_path.glob("*.tmp")) and not (tmp_path / "crashes").exists()


@pytest.mark.parametrize("entry", VECTORS)
def test_vectors_are_checked_on_first_use_and_before_any_save(built, tmp_path, entry):
    bad = flipped(built, tmp_path / "bad.gmem", entry)
    before = bad.read_bytes()
    st = EmbeddedStore(bad)  # opening maps the vectors without reading them
    counts = st.counts()
    first_use = st.triple_vectors if entry == "triple_vectors.npy" else st.episodes
    for _ in range(2):  # refused every time, not only the first
        with pytest.raises(ArchiveDamaged, match=f"entry {entry} is damaged"):
            first_use()
    if entry == "episode_vectors.npy":
        st.add_triples([Triple("oslo", "is capital of", "norway", valid_from=99)])  # needs no episode
    st.add_episode(Episode("late", 99, "Oslo is the capital of Norway."))
    with pytest.raises(ArchiveDamaged, match=f"entry {entry} is damaged"):
        st.close()  # the save copies every entry: the damaged one is checked first
    assert bad.read_bytes() == before
    again = EmbeddedStore(bad)
    if entry == "triple_vectors.npy":  # the first write reads the vectors: refused, nothing changed
        with pytest.raises(ArchiveDamaged):
            again.add_triples([Triple("oslo", "is capital of", "norway", valid_from=99)])
        assert again.counts() == counts
    again.close()
    assert bad.read_bytes() == before


def test_nan_vectors_are_refused_on_load_and_never_written(built, tmp_path, capsys):
    bad = tmp_path / "nan.gmem"
    raw = bytearray(built.read_bytes())
    a, _ = data_span(built, "triple_vectors.npy")
    raw[a + 4:a + 8] = np.float32("nan").tobytes()
    bad.write_bytes(bytes(raw))
    with_crcs_fixed(bad, "triple_vectors.npy")
    assert_refused(*run(capsys, "recall", "--graph", bad, QUESTION), bad, "triple_vectors.npy",
                   why="is damaged (it holds NaN or infinite vectors")
    st = EmbeddedStore(tmp_path / "new.gmem")
    t = Triple("oslo", "is capital of", "norway")
    t.embedding = np.array([np.inf, 0, 0], dtype=np.float32)
    st.add_triples([t])
    with pytest.raises(StoreError, match=f"triple {t.id} has a vector holding NaN or infinite values"):
        st.close()
    assert not (tmp_path / "new.gmem").exists()


def test_a_damaged_ann_index_is_the_same_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("graphmem.vectors.vector_index.ANN_THRESHOLD", 300)
    path = tmp_path / "m.gmem"
    with Memory(str(path)) as memory:
        for i in range(0, 400, 10):
            memory.add_triples([(f"node {j}", "links", f"node {j + 1}") for j in range(i, i + 10)],
                               step=i, source_id=f"s{i}")
    code, out, _ = run(capsys, "recall", "--graph", path, "node 17")
    assert code == 0 and "node 17" in out
    for entry in ("attachments/triple-ann", "attachments/triple-ann-ids"):
        bad = flipped(path, tmp_path / "bad.gmem", entry)
        assert_refused(*run(capsys, "recall", "--graph", bad, "node 17"), bad, entry)
        with pytest.raises(ArchiveDamaged, match=f"entry {entry} is damaged"):
            Memory(EmbeddedStore(bad, readonly=True))
