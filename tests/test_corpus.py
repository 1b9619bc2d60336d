"""The one corpus reader: every shape gives `build` (load_corpus) and eval-qa (load_dataset) the same
passages, ids and order; HotpotQA's sentences with their leading spaces are joined by one space."""
import json
import os
from pathlib import Path

import pytest

from graphmem_environments.qa import load_dataset
from graphmem.corpus import former_ids, load_corpus
from graphmem.model import passage_id

ALPHA = ["Alpha is a band.", " It formed in 1990.", " "]  # HotpotQA style: leading spaces, a blank
JOINED = "Alpha is a band. It formed in 1990."


def _json(data):
    return lambda folder: (folder / "corpus.json").write_text(json.dumps(data))


def _txt_folder(folder):
    # eval-qa reads DIR/corpus.json, which may be a folder of .txt files like any corpus
    (folder / "corpus.json").mkdir()
    (folder / "corpus.json" / "Alpha.txt").write_text(JOINED)
    (folder / "corpus.json" / "Beta.txt").write_text("Beta is a city.\n")


SHAPES = {
    "list of title/text": (_json([{"title": "Alpha", "text": JOINED}, {"title": "Beta", "text": " Beta. "}]),
                           [("Alpha", JOINED), ("Beta", " Beta. ")]),
    "list with sentence lists": (_json([{"title": "Alpha", "text": ALPHA}, {"text": ["Beta."]}]),
                                 [("Alpha", JOINED), ("", "Beta.")]),
    "dict of sentence lists": (_json({"Alpha": ALPHA, "Beta": [" Beta is a city."]}),
                               [("Alpha", JOINED), ("Beta", "Beta is a city.")]),
    "dict of strings": (_json({"Alpha": " Alpha is a band. ", "Beta": "Beta."}),
                        [("Alpha", "Alpha is a band."), ("Beta", "Beta.")]),
    "list of strings": (_json([" Alpha is a band.", "Beta."]), [("", " Alpha is a band."), ("", "Beta.")]),
    # Documents are read in chunks: a short file is one, its text without the white space around it.
    "folder of .txt": (_txt_folder, [("Alpha", JOINED), ("Beta", "Beta is a city.")]),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_build_and_eval_qa_read_the_same_passages(tmp_path, shape):
    write, expected = SHAPES[shape]
    write(tmp_path)
    (tmp_path / "questions.json").write_text("[]")
    built = load_corpus(tmp_path / "corpus.json")
    assert [(p.title, p.text) for p in built] == expected
    assert [p.id for p in built] == [passage_id(t, x) for t, x in expected]
    assert load_dataset(str(tmp_path)).passages == built


def test_identical_passages_are_read_once(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps([{"title": "A", "text": "a."}, {"title": "B", "text": "b."},
                                {"title": "A", "text": "a."}]))
    assert [p.title for p in load_corpus(path)] == ["A", "B"]


def test_former_ids_are_those_of_sentences_joined_as_they_came(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"Alpha": ALPHA, "Beta": ["Beta is a city."]}))
    # Beta's sentences need no stripping: its id did not change
    assert former_ids(path) == {passage_id("Alpha", " ".join(ALPHA))}
    path.write_text(json.dumps([{"title": "Alpha", "text": " Alpha. "}]))
    assert former_ids(path) == set()


@pytest.mark.slow
def test_lone_surrogates_and_undecodable_file_names_become_replacement_characters(tmp_path):
    from graphmem.cli import main

    doc = tmp_path / "c.json"
    doc.write_text('[{"title": "Ka\\ud800", "text": "A lone \\udfff surrogate in Kassel."}]')
    folder = tmp_path / "docs"
    folder.mkdir()
    (Path(os.fsdecode(bytes(folder))) / os.fsdecode(b"caf\xe9.txt")).write_text("The cafe is open.")
    assert [(p.title, p.text) for p in load_corpus(doc)] == [("Ka\ufffd", "A lone \ufffd surrogate in Kassel.")]
    assert [p.title for p in load_corpus(folder)] == ["caf\ufffd"]
    for corpus in (doc, folder):
        assert main(["build", str(corpus), "--out", str(tmp_path / f"{corpus.name}.gmem")]) == 0
