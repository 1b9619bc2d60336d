"""Persistent LLM response cache in SQLite (plain text columns, no pickle).

A reply is stored under the sha256 of everything that determines it: backend, model, messages,
schema and sampling parameters. Several processes may share one file (WAL journal).
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CACHE_MODES = ("on", "off", "replay")


def default_cache_dir() -> Path:
    """GRAPHMEM_CACHE_DIR, else $XDG_CACHE_HOME/graphmem, else ~/.cache/graphmem."""
    if os.environ.get("GRAPHMEM_CACHE_DIR"):
        return Path(os.environ["GRAPHMEM_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "graphmem"


def cache_key(**parts: object) -> str:
    """sha256 of the canonical JSON of ``parts`` (sorted keys, so dict order never matters)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedReply:
    text: str
    prompt_tokens: int
    completion_tokens: int


class ResponseCache:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_cache_dir() / "llm-cache.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses ("
            " key TEXT PRIMARY KEY, backend TEXT, model TEXT, text TEXT NOT NULL,"
            " prompt_tokens INTEGER, completion_tokens INTEGER, created REAL)"
        )
        self._db.commit()

    def get(self, key: str) -> CachedReply | None:
        with self._lock:
            row = self._db.execute(
                "SELECT text, prompt_tokens, completion_tokens FROM responses WHERE key = ?", (key,)
            ).fetchone()
        return CachedReply(*row) if row else None

    def put(self, key: str, reply: CachedReply, *, backend: str, model: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, backend, model, reply.text, reply.prompt_tokens, reply.completion_tokens,
                 time.time()),
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
