"""pytest fixtures of a real ArcadeDB Bolt server (``graphmem.testing.arcadedb``)."""
from __future__ import annotations

from pathlib import Path

import pytest

from graphmem.testing.arcadedb import PASSWORD, USER, ArcadeServer


def start_server(root: Path) -> ArcadeServer:
    """Start a server or fail the test with the reason (CI has no server: never skip silently)."""
    server = ArcadeServer(root)
    try:
        server.start()
    except Exception as e:  # noqa: BLE001 - reported as a test failure with the log
        pytest.fail(f"Could not start the ArcadeDB test server (PyPI arcadedb-embedded, Bolt "
                    f"plugin): {e}", pytrace=False)
    return server


@pytest.fixture(scope="session")
def arcadedb_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("arcadedb"))
    yield server
    server.stop()


@pytest.fixture
def bolt_store_factory(arcadedb_server):
    """Factory of BoltStores, each on a brand-new database; all closed after the test."""
    from graphmem.store.bolt import BoltStore

    opened = []

    def make(database: str | None = None) -> BoltStore:
        store = BoltStore(arcadedb_server.uri, USER, PASSWORD,
                          database or arcadedb_server.fresh_database())
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
