"""Graph stores: the embedded file store (default) and, for URIs, a Bolt server store."""
from __future__ import annotations

import os

from .base import CypherError, GraphStore, StoreError
from .embedded import EmbeddedStore

__all__ = ["CypherError", "EmbeddedStore", "GraphStore", "StoreError", "open_store"]


def open_store(spec: str | os.PathLike | None = None, *, create: bool = True) -> GraphStore:
    """A store for a file path (embedded; None = in memory only) or a bolt:// / neo4j:// URI."""
    text = str(spec) if spec is not None else ""
    if text.startswith(("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")):
        from .bolt import BoltStore

        return BoltStore(text)
    return EmbeddedStore(spec, create=create)
