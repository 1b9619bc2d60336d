"""Namespaces: separate graphs in one memory (per project, user or agent), each with its own facts,
episodes, entities, metadata and Cypher, none of them seeing another's.

A namespace is a graph of its own rather than a tag on shared data, so every store answers for one
namespace with the code it answers for one graph, and no query can reach past it:

- a graph file holds the ``default`` namespace, as it always did (files written before namespaces
  load unchanged); namespace ``a`` of ``memory.json`` is the graph file
  ``memory.json.namespaces/a.json`` beside it, in the same format, with its own lock;
- on a Bolt server the ``default`` namespace keeps the labels it always had (``Entity``, ``REL``,
  ``Episode``, ``GraphmemMeta``) and namespace ``a`` has labels of its own (``Entity__a``...), with
  its own constraints and indexes (``bolt_layout.Labels``).

Names are lowercase letters, digits, ``-`` and ``_`` (a file name and a label everywhere, and never
two names for one namespace on a case-insensitive disk).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .base import DEFAULT_NAMESPACE, StoreError

__all__ = ["DEFAULT_NAMESPACE", "NamespaceError", "checked_namespace", "file_namespaces", "label_suffix",
           "namespace_file", "namespaces_folder"]

MAX_NAME = 64
_NAME = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_NAME - 1}}}")
FOLDER_SUFFIX = ".namespaces"


class NamespaceError(StoreError):
    """A namespace name that is not allowed, or a store that keeps one namespace only."""


def checked_namespace(name: object) -> str:
    """``name`` if it is a valid namespace name; NamespaceError saying what a name may be."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise NamespaceError(f"namespace {name!r} is not a valid name: use 1 to {MAX_NAME} lowercase "
                             f"letters, digits, '-' and '_', starting with a letter or digit")
    return name


def namespace_file(root: str | os.PathLike, namespace: str) -> Path:
    """The graph file of ``namespace`` in the memory whose default namespace is the file ``root``:
    ``root`` itself for the default one, else a file named after the namespace, with ``root``'s
    suffix (its format), in the folder ``ROOT.namespaces`` beside it."""
    root = Path(root)
    if checked_namespace(namespace) == DEFAULT_NAMESPACE:
        return root
    return namespaces_folder(root) / f"{namespace}{root.suffix}"


def namespaces_folder(root: str | os.PathLike) -> Path:
    root = Path(root)
    return root.with_name(root.name + FOLDER_SUFFIX)


def file_namespaces(root: str | os.PathLike) -> list[str]:
    """The namespaces a graph file's memory holds (whose file exists), sorted."""
    root = Path(root)
    found = {DEFAULT_NAMESPACE} if root.exists() else set()
    folder = namespaces_folder(root)
    if folder.is_dir():
        for entry in folder.iterdir():  # lock and temp files start with a dot: no valid name
            name = entry.name[:len(entry.name) - len(root.suffix)] if root.suffix else entry.name
            if entry.name.endswith(root.suffix) and _NAME.fullmatch(name) and entry.is_file():
                found.add(name)
    return sorted(found)


def label_suffix(namespace: str) -> str:
    """What a namespace's labels on a server end with: nothing for the default namespace, else
    ``__`` and the name, with ``_`` and ``-`` spelt ``_5f`` and ``_2d`` (labels are plain words,
    and no two names get one suffix)."""
    if checked_namespace(namespace) == DEFAULT_NAMESPACE:
        return ""
    return "__" + namespace.replace("_", "_5f").replace("-", "_2d")
