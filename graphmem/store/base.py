"""The GraphStore contract that every backend (embedded networkx, Bolt server) fulfils.

A store holds triples (edges between entity nodes, with validity and sources), episodes, and the
embeddings that came with them. It knows nothing about extraction or retrieval scoring: those live
in ``Memory``. Every backend runs the same contract suite (``tests/store_contract.py``).
"""
from __future__ import annotations

from typing import Iterable, Protocol, runtime_checkable

from ..errors import GraphmemError
from ..model import Episode, Triple


class StoreError(GraphmemError, RuntimeError):
    """A store operation failed in a way the user must act on (message says what to do)."""


class CypherError(StoreError):
    """A Cypher query was rejected: syntax error, unsupported feature, or a write without opt-in."""


@runtime_checkable
class GraphStore(Protocol):
    # --- triples -------------------------------------------------------------------------------
    def add_triples(self, triples: Iterable[Triple]) -> None:
        """Insert or replace triples by id (sources and validity are taken as given)."""

    def get_triple(self, triple_id: str) -> Triple | None: ...

    def triples(self, current_only: bool = True) -> list[Triple]:
        """All triples, ordered by (valid_from, id)."""

    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        """The current triple for this fact, if any."""

    def triples_of_entity(self, entity: str, current_only: bool = True) -> list[Triple]:
        """Triples with ``entity`` as subject or object, ordered by (valid_from, id)."""

    def retire(self, triple_ids: Iterable[str], step: int) -> list[str]:
        """Set ``valid_until=step`` on current triples; returns the ids actually retired."""

    def entities(self) -> list[str]:
        """Names of entities that appear in at least one triple, sorted."""

    # --- episodes ------------------------------------------------------------------------------
    def add_episode(self, episode: Episode) -> None: ...

    def get_episode(self, episode_id: str) -> Episode | None: ...

    def episodes(self) -> list[Episode]:
        """All episodes ordered by (step, id)."""

    # --- provenance ----------------------------------------------------------------------------
    def delete_source(self, source_id: str) -> list[str]:
        """Remove an episode/passage and everything only it supported; returns deleted triple ids."""

    # --- metadata (small JSON-able values: embedder name, step counters, config) ---------------
    def meta(self) -> dict: ...

    def set_meta(self, key: str, value) -> None: ...

    # --- queries and lifecycle -----------------------------------------------------------------
    def cypher(self, query: str, params: dict | None = None, write: bool = False) -> list[dict]:
        """Run Cypher; read-only unless ``write``. Raises CypherError with a clear message."""

    def counts(self) -> dict:
        """{"triples": n_all, "current_triples": n, "entities": n, "episodes": n}."""

    def flush(self) -> None:
        """Persist pending state (atomic); a no-op where writes are already durable."""

    def close(self) -> None: ...
