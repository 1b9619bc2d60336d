"""Issue 28, the third reliability sweep: bad steps and texts refused before anything is written, a
failed write that leaves the graph as it was, a closed memory that writes nothing, a memory shared by
threads, and the small input checks (recall settings, query vectors, MCP integers, corpus titles)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from fakes import HashingEmbedder, ScriptedExtractor
from graphmem.corpus import load_corpus
from graphmem.errors import ConfigError
from graphmem.memory import Memory

SCRIPT = {f"The box {i} is in the attic.": [(f"box {i}", "in", "attic")] for i in range(100)}


def memory(path=None) -> Memory:
    return Memory(path, embedder=HashingEmbedder(), extractor=ScriptedExtractor(SCRIPT))


def box(i: int) -> str:
    return f"The box {i} is in the attic."


def counts(mem: Memory) -> tuple[int, int]:
    stats = mem.stats()
    return stats["triples"], stats["episodes"]


# --- group 14: small input checks --------------------------------------------------------------
@pytest.mark.parametrize("setting", [{"width": 0}, {"top_k": 0}])
def test_recall_settings_that_would_retrieve_nothing_are_refused(setting):
    mem = memory()
    mem.add_triples([("box 1", "in", "attic")])
    with pytest.raises(ConfigError, match=f"{next(iter(setting))} must be a whole number >= 1"):
        mem.recall("box 1", **setting)
    assert len(mem.recall("box 1", depth=0).triples) == 1  # no expansion is said with depth


@pytest.mark.parametrize("value", [np.nan, np.inf, 0.0])
def test_query_vectors_without_a_direction_are_refused(value):
    mem = memory()
    mem.add_triples([("box 1", "in", "attic")])
    vectors = np.ones((2, mem.embedder.dim), dtype=np.float32)
    vectors[1] = value
    with pytest.raises(ConfigError, match="query_vectors must be finite and non-zero"):
        mem.recall(["box 1", "attic"], query_vectors=vectors)


@pytest.mark.parametrize("text", [None, 3, b"The box 1 is in the attic."])
def test_a_text_that_is_not_a_string_is_refused(text):
    mem = memory()
    with pytest.raises(ConfigError, match="must be a string"):
        mem.observe(text, 0)
    with pytest.raises(ConfigError, match="must be a string"):
        mem.observe_many([("p0", "", box(0)), ("p1", "", text)], batch_size=1)
    assert counts(mem) == (0, 0)


def test_a_null_title_in_a_corpus_is_no_title(tmp_path):
    corpus = tmp_path / "c.json"
    corpus.write_text(json.dumps([{"title": None, "text": "Ulm is in Germany."},
                                  {"title": 1905, "text": "A year."}, {"text": "No title."}]))
    assert [p.title for p in load_corpus(corpus)] == ["", "1905", ""]
