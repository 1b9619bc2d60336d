"""Graph stores: the embedded file store (default) and, for URIs, a Bolt or FalkorDB server store."""
from __future__ import annotations

import os

from .base import DEFAULT_NAMESPACE, CypherError, GraphStore, StoreError
from .cypher_limits import CypherLimits
from .embedded import EmbeddedStore

__all__ = ["DEFAULT_NAMESPACE", "CypherError", "CypherLimits", "EmbeddedStore", "GraphStore", "StoreError",
           "is_bolt_uri", "is_falkor_uri", "is_server_uri", "open_store"]

BOLT_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
FALKOR_SCHEMES = ("falkor://", "redis://")


def is_bolt_uri(spec: str | os.PathLike | None) -> bool:
    return isinstance(spec, str) and spec.lower().startswith(BOLT_SCHEMES)


def is_falkor_uri(spec: str | os.PathLike | None) -> bool:
    return isinstance(spec, str) and spec.lower().startswith(FALKOR_SCHEMES)


def is_server_uri(spec: str | os.PathLike | None) -> bool:
    """A graph server's URI (Bolt or FalkorDB), not a file path."""
    return is_bolt_uri(spec) or is_falkor_uri(spec)


def open_store(
    spec: str | os.PathLike | None = None,
    *,
    create: bool = True,
    readonly: bool = False,
    replace: bool = False,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    shared: bool = False,
) -> GraphStore:
    """A store for a file path (embedded; None = in memory only), a bolt:// / neo4j:// URI or a
    falkor:// / redis:// URI (``falkor://HOST:PORT[/GRAPH]``, graph ``graphmem`` by default), for
    one ``namespace`` of the memory there (``store.namespaces``).

    For Bolt servers, ``user``/``password``/``database`` default to NEO4J_USER, NEO4J_PASSWORD and
    NEO4J_DATABASE (a FalkorDB URI carries its own: ``falkor://USER:PASSWORD@HOST:PORT/GRAPH``); the
    driver is imported only then. ``readonly``, ``replace`` and ``shared`` apply
    to files (see EmbeddedStore): a server is read-only per query (``cypher(write=False)``), and
    every write there is a transaction of its own.
    """
    if is_bolt_uri(spec):
        from .bolt import BoltStore

        return BoltStore(str(spec), user, password, database, namespace=namespace)
    if is_falkor_uri(spec):
        from .falkor import FalkorStore

        return FalkorStore(str(spec), namespace=namespace)
    if isinstance(spec, str) and "://" in spec:
        raise StoreError(f"unknown store URI {spec!r}: use bolt://HOST:PORT, neo4j://HOST:PORT, "
                         f"falkor://HOST:PORT or a graph file path")
    return EmbeddedStore(spec, create=create, readonly=readonly, replace=replace, namespace=namespace,
                         shared=shared)
