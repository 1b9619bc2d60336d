"""Files checked against a published SHA-256 once: a marker next to the file remembers the check
(keyed by the expected hash, size and mtime), so later loads skip hashing hundreds of megabytes."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as src:
        while block := src.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _fingerprint(path: Path, sha256: str) -> dict:
    st = path.stat()
    return {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def is_verified(path: Path, sha256: str) -> bool:
    try:
        return json.loads(_marker(path).read_text()) == _fingerprint(path, sha256)
    except (OSError, ValueError):
        return False


def mark_verified(path: Path, sha256: str) -> None:
    _marker(path).write_text(json.dumps(_fingerprint(path, sha256)))
