"""The embedded store's episodes (and passages), by id. An opened archive's episode vectors are read
in place, and their entry is checked before any episode is first handed out, to be used or saved."""
from __future__ import annotations

from typing import Iterable

from ..model import Episode
from .archive import InPlaceArray


class EmbeddedEpisodes:
    def __init__(self) -> None:
        self._by_id: dict[str, Episode] = {}
        self._vectors: InPlaceArray | None = None  # unchecked yet: see _vectors_verified

    def load(self, episodes: Iterable[Episode], vectors: InPlaceArray | None) -> None:
        """Hold an opened archive's episodes, whose vectors are rows of ``vectors``."""
        self._by_id = {e.id: e for e in episodes}
        self._vectors = vectors

    def add(self, episode: Episode) -> None:
        self._by_id[episode.id] = episode

    def get(self, episode_id: str) -> Episode | None:
        self._vectors_verified()
        return self._by_id.get(episode_id)

    def ordered(self) -> list[Episode]:
        """All episodes by (step, id)."""
        self._vectors_verified()
        return sorted(self._by_id.values(), key=lambda e: (e.step, e.id))

    def delete_source(self, source_id: str, deleted_triple_ids: list[str]) -> None:
        """Drop the episode ``source_id`` and the deleted triples' ids from the others."""
        self._by_id.pop(source_id, None)
        gone = set(deleted_triple_ids)
        for ep in self._by_id.values():
            if gone.intersection(ep.triple_ids):
                ep.triple_ids = [i for i in ep.triple_ids if i not in gone]

    def __len__(self) -> int:
        return len(self._by_id)

    def _vectors_verified(self) -> None:
        """Check the vectors' entry (see ``archive.ArchiveReader.verify``) on the first call."""
        if self._vectors is not None:
            self._vectors()
            self._vectors = None
