"""Copy a whole graph between stores (file <-> server): every triple, retired ones included, with
validity, sources and embeddings, every episode, and the metadata."""
from __future__ import annotations

import os
from pathlib import Path

from ..util.filelock import FileLock
from .base import DEFAULT_NAMESPACE, GraphStore, StoreError
from .embedded import EmbeddedStore

BATCH = 5000


def copy_store(source: GraphStore, target: GraphStore, batch: int = BATCH) -> dict:
    """Copy ``source`` into ``target`` (upsert by id) and return the target's counts afterwards.

    Triples go in batches of ``batch``, each its own write, as a bulk load (``GraphStore.bulk_load``:
    on FalkorDB the vector indexes are made once, at the end, and waited for); copying again after
    an error is safe because every write replaces by id.
    """
    triples = source.triples(current_only=False)
    with target.bulk_load(wait=True):  # a server's vector indexes made once, at the end
        for i in range(0, len(triples), batch):
            target.add_triples(triples[i:i + batch])
        target.add_episodes(source.episodes())  # one round trip on a server
    for key, value in sorted(source.meta().items()):
        target.set_meta(key, value)
    target.flush()
    return target.counts()


def write_graph_file(source: GraphStore, path: str | os.PathLike) -> dict:
    """Write the whole graph in ``source`` to a graph file at ``path`` and return its counts: copied
    into an in-memory file store, which saves it atomically (``GraphStore.save`` for servers)."""
    copy = EmbeddedStore()
    counts = copy_store(source, copy)
    copy.save(path)
    return counts


def export_graph(path: str | os.PathLike, target: GraphStore, *, merge: bool = False,
                 namespace: str = DEFAULT_NAMESPACE) -> dict:
    """Copy the graph file at ``path`` (its ``namespace``) into ``target`` (closed afterwards);
    returns its counts."""
    try:
        source = EmbeddedStore(path, create=False, readonly=True, namespace=namespace)
        existing = target.counts()
        if not merge and (existing["triples"] or existing["episodes"]):
            raise StoreError(f"the target already holds a graph ({existing['triples']} triples, "
                             f"{existing['episodes']} episodes): use an empty database, or "
                             f"--merge to add to it")
        return copy_store(source, target)
    finally:
        target.close()


def import_graph(source: GraphStore, path: str | os.PathLike, *, force: bool = False) -> dict:
    """Write the graph in ``source`` (closed afterwards) to a new graph file at ``path``.

    The copy is built in memory and saved atomically at the end, so a failure part-way leaves
    no file (or the old one) behind, never a partial graph; the file is locked meanwhile.
    """
    path = Path(path)
    try:
        with FileLock(path, "graph file"):
            if path.exists() and not force:
                raise StoreError(f"{path} exists: pass --force to replace it")
            return write_graph_file(source, path)
    finally:
        source.close()
