"""GraphService argument checks (the MCP server's tools reach the service through these)."""
import pytest

from graphmem.service import GraphService, ServiceError
from graphmem.store import open_store


@pytest.mark.parametrize("k", [None, 0, "5", True])
def test_ask_refuses_a_k_that_is_not_a_positive_integer(tmp_path, k):
    # k=None once slipped through as "no value" and reached the retrieval as None.
    with GraphService(open_store(tmp_path / "m.json")) as service:
        with pytest.raises(ServiceError, match=f"k must be an integer in \\[1, .*not {k!r}"):
            service.ask("where is the knife?", k)
