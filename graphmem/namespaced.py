"""The namespaces of one memory served together (the MCP server): a ``GraphService`` per namespace,
opened on first use and kept open, each its own graph (``graphmem.store.namespaces``).

Every call names its namespace or gets the server's; ``get`` also reads the namespace's graph again
when another process changed its file, so each call sees the writes that other processes made
before it. Which namespaces exist is told only when the server allows it (``list_namespaces``): a
client of one namespace learns nothing of the others.
"""
from __future__ import annotations

import threading
from typing import Callable

from .service import GraphService, ServiceError
from .store.base import GraphStore
from .store.namespaces import checked_namespace


class NamespacedService:
    """``store``: the store of the namespace that calls naming none use (closed with the service);
    the others are opened from it (``GraphStore.open_namespace``) and served as ``make(store)``.
    ``list_namespaces``: let ``namespaces()`` tell which namespaces the memory holds."""

    def __init__(self, store: GraphStore, make: Callable[[GraphStore], GraphService] = GraphService, *,
                 list_namespaces: bool = False):
        self.namespace = store.namespace
        self.list_namespaces = list_namespaces
        self._store = store
        self._make = make
        self._lock = threading.Lock()
        self._services = {self.namespace: _served(make, store)}

    def name(self, namespace: str | None = None) -> str:
        """The namespace a call naming ``namespace`` is served by; NamespaceError for a bad name."""
        return self.namespace if namespace is None else checked_namespace(namespace)

    def get(self, namespace: str | None = None) -> GraphService:
        """The service of ``namespace`` (None: the default one), up to date with its file."""
        name = self.name(namespace)
        with self._lock:
            service = self._services.get(name)
            if service is None:
                service = self._services[name] = _served(self._make, self._store.open_namespace(name))
        service.refresh()
        return service

    def namespaces(self) -> dict:
        if not self.list_namespaces:
            raise ServiceError("this server does not list namespaces (start it with --list-namespaces to allow it)")
        return {"namespaces": self._store.namespaces(), "default": self.namespace}

    def close(self) -> None:
        """Close every namespace's service, the default one's last (others may share its connection)."""
        with self._lock:
            first = self._services.pop(self.namespace)
            try:
                for service in self._services.values():
                    service.close()
            finally:
                self._services.clear()
                first.close()

    def __enter__(self) -> "NamespacedService":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _served(make: Callable[[GraphStore], GraphService], store: GraphStore) -> GraphService:
    """``make(store)``; the store closed if that fails (the service owns it once made)."""
    try:
        return make(store)
    except BaseException:
        store.close()
        raise
