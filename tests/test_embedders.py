"""Embedders: length batching (same vectors as one text at a time), the embedder a graph is built
with (stored, checked on open) and verified model folders unpacked from split packages."""
import zipfile

import numpy as np
import pytest

from graphmem.embedders import precision, sentence_transformer
from graphmem.embedders.batching import length_batches
from graphmem.embedders.precision import native_bf16
from graphmem.embedders.sentence_transformer import SentenceTransformerEmbedder, default_embedder
from graphmem.embedders import ModelUnavailable, embedder_named, unpack_verified
from graphmem.errors import ConfigError
from graphmem.memory import Memory
from graphmem.util.verified import sha256_file

TEXTS = ["a cat", "The Kestrel Lighthouse stands on a cliff near Varrow. " * 6, "",
         "Zorblat Kirvani was born in Quenthaven.", "x" * 3000, "Ilsa Moravec is the mayor."] * 3


def test_length_batches_cover_every_text_once_within_the_budget():
    batches = length_batches(TEXTS, char_budget=400, max_batch=4, max_chars=1024)
    assert sorted(i for b in batches for i in b) == list(range(len(TEXTS)))
    for b in batches:
        longest = max(max(1, min(len(TEXTS[i]), 1024)) for i in b)
        assert len(b) <= 4 and (len(b) == 1 or len(b) * longest <= 400)
    # longest first: a batch never holds a text longer than one of an earlier batch
    firsts = [min(len(TEXTS[i]) for i in b) for b in batches]
    lasts = [max(len(TEXTS[i]) for i in b) for b in batches]
    assert all(lasts[n + 1] <= firsts[n] for n in range(len(batches) - 1))


@pytest.mark.slow
def test_batched_encoding_equals_one_text_at_a_time():
    small = SentenceTransformerEmbedder(char_budget=300, batch_size=3)
    together = small.encode(TEXTS)
    alone = np.stack([default_embedder().encode([t])[0] for t in TEXTS])
    assert together.shape == (len(TEXTS), 384) and together.dtype == np.float32
    np.testing.assert_allclose(together, alone, atol=2e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    few = default_embedder().encode(TEXTS[:6])  # a few texts go through the model's modules directly
    assert few.dtype == np.float32
    np.testing.assert_allclose(few, together[:6], atol=2e-5)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 3])
def test_batches_run_side_by_side_or_one_at_a_time_give_the_same_vectors(workers):
    # Three workers each take length batches on one torch thread; one runs them in turn on every core.
    small = SentenceTransformerEmbedder(char_budget=300, batch_size=3, workers=workers)
    alone = np.stack([default_embedder().encode([t])[0] for t in TEXTS])
    np.testing.assert_allclose(small.encode(TEXTS), alone, atol=2e-5)
    spans = [[[(0, 5)]] if t else [] for t in TEXTS]
    tokens = small.encode_tokens(TEXTS)
    np.testing.assert_allclose(tokens.vectors, alone, atol=2e-5)
    pooled = [tokens.pool(i, s) for i, s in enumerate(spans)]
    pooled_alone = default_embedder().encode_tokens(TEXTS[:2]).pool(1, spans[1])
    np.testing.assert_allclose(pooled[1][0], pooled_alone[0], atol=2e-5)
    assert [len(p) for p in pooled] == [len(s) for s in spans]


@pytest.mark.slow
def test_workers_share_the_tokenizer_without_reconfiguring_it():
    # A fast tokenizer's padding and truncation are state that must not change while another
    # worker tokenizes ("Already borrowed"): they are settled once, and offsets use a copy.
    e = SentenceTransformerEmbedder(char_budget=300, batch_size=3, workers=2)
    shared = e.model.tokenizer._tokenizer
    settled = (shared.truncation, shared.padding)
    e.encode_tokens(TEXTS)
    e.encode(TEXTS)
    assert (shared.truncation, shared.padding) == settled and settled[1] is not None


@pytest.mark.slow
def test_a_graph_remembers_its_embedder_and_refuses_another(tmp_path):
    path = tmp_path / "g.json"
    with Memory(str(path)) as m:
        m.add_triples([("Quenthaven", "mayor", "Ilsa Moravec")])
    renamed = SentenceTransformerEmbedder(name="renamed-minilm")
    with pytest.raises(ConfigError, match="built with the embedder 'all-MiniLM-L6-v2'.*renamed-minilm"):
        Memory(str(path), embedder=renamed)
    with Memory(str(path)) as m:  # no embedder given: the stored one
        assert m.embedder.name == "all-MiniLM-L6-v2" and len(m.current()) == 1
    with pytest.raises(ConfigError, match="unknown embedder"):
        embedder_named("word2vec")


def _split_zip(tmp_path, files: dict[str, bytes], parts: int) -> list:
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    blob = archive.read_bytes()
    step = len(blob) // parts + 1
    paths = []
    for i in range(parts):
        p = tmp_path / f"model.zip.{i + 1:03d}"
        p.write_bytes(blob[i * step:(i + 1) * step])
        paths.append(p)
    return paths


def test_split_model_is_unpacked_only_when_its_weights_verify(tmp_path):
    weights = b"\x00weights\x01" * 1000
    parts = _split_zip(tmp_path, {"m/model.safetensors": weights, "m/config.json": b"{}"}, parts=3)
    (tmp_path / "w").write_bytes(weights)
    good = sha256_file(tmp_path / "w")
    with pytest.raises(ModelUnavailable, match="not the published"):
        unpack_verified(parts, tmp_path / "models", "m", "model.safetensors", "0" * 64)
    assert not (tmp_path / "models" / "m").exists()
    folder = unpack_verified(parts, tmp_path / "models", "m", "model.safetensors", good)
    assert (folder / "model.safetensors").read_bytes() == weights and (folder / "config.json").exists()
    assert unpack_verified([], tmp_path / "models", "m", "model.safetensors", good) == folder  # remembered


@pytest.mark.slow
@pytest.mark.skipif(not native_bf16(), reason="this CPU has no native bfloat16")
def test_bf16_encoding_gives_the_f32_vectors_within_1e_4_cosine_in_every_path():
    bf16 = SentenceTransformerEmbedder(char_budget=300, batch_size=3, precision="bf16")
    f32 = default_embedder().encode(TEXTS)
    batched = bf16.encode(TEXTS)
    few = bf16.encode(TEXTS[:3])  # the query path, through the model's modules
    tokens = bf16.encode_tokens(TEXTS)
    for vectors in (batched, few, tokens.vectors):
        assert vectors.dtype == np.float32
        cosines = (vectors * f32[: len(vectors)]).sum(axis=1)
        assert cosines.min() > 1 - 1e-4
    # bf16 really ran: the vectors are not float32's bit for bit
    assert np.abs(batched - f32).max() > 1e-6
    assert tokens.tokens[1][0].dtype == np.float32


def test_an_unknown_or_unsupported_precision_is_refused_with_what_to_do(monkeypatch):
    with pytest.raises(ConfigError, match="unknown embedding precision 'fp8'.*f32, bf16"):
        SentenceTransformerEmbedder(precision="fp8")
    monkeypatch.setenv("GRAPHMEM_EMBED_PRECISION", "half")
    with pytest.raises(ConfigError, match="GRAPHMEM_EMBED_PRECISION"):
        SentenceTransformerEmbedder()
    monkeypatch.setattr(precision, "native_bf16", lambda: False)
    with pytest.raises(ConfigError, match="no native bfloat16.*--embed-precision f32"):
        SentenceTransformerEmbedder(precision="bf16")
    monkeypatch.delenv("GRAPHMEM_EMBED_PRECISION")
    assert SentenceTransformerEmbedder().precision == "f32"


def test_the_global_option_reaches_the_embedders_a_command_makes(monkeypatch, capsys, tmp_path):
    from graphmem.cli import main

    monkeypatch.setenv("GRAPHMEM_EMBED_PRECISION", "f32")  # restored after the test: main() sets it
    monkeypatch.setattr(precision, "native_bf16", lambda: False)
    monkeypatch.setattr(sentence_transformer, "_default", None)  # as in a new process
    # refused where the CPU lacks bfloat16: one line that says what to do, exit 2, nothing written
    graph, notes = tmp_path / "g.json", tmp_path / "notes.txt"
    notes.write_text("Ilsa Moravec is the mayor of Quenthaven.\n")
    assert main(["--embed-precision", "bf16", "build", str(notes), "--out", str(graph)]) == 2
    assert "no native bfloat16" in capsys.readouterr().err
    assert not graph.exists()
