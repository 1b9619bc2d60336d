"""The embedded store's triples: an opened archive's are answered from its columns (``TripleTable``)
until the first write, and from then on, like every other graph's, from Python objects
(``TripleIndex``). Opening a million-triple graph to read it makes no triple objects."""
from __future__ import annotations

from typing import Collection, Iterable

from ..util.gcpause import gc_paused
from ..model import Triple
from .triple_index import TripleIndex
from .triple_table import TripleTable


class EmbeddedTriples:
    """Every read goes to ``table`` while there is one, else to the index; writes thaw it first."""

    def __init__(self) -> None:
        self.table: TripleTable | None = None  # an opened archive's triples, in time order
        self._index = TripleIndex()

    def thaw(self) -> None:
        """Before the first write to an opened archive: index its triples as Python objects (the
        ones handed out already stay the same objects). The table is dropped only once that worked:
        a damaged file found now (its vectors are first read here) leaves everything as it was."""
        table = self.table
        if table is None:
            return
        with gc_paused():
            self._index = TripleIndex.of_table(table)
        self.table = None

    # --- writes --------------------------------------------------------------------------------
    def add(self, triples: list[Triple]) -> None:
        self.thaw()
        self._index.add(triples)

    def retire(self, triple_ids: Iterable[str], step: int, by: str | None) -> list[str]:
        self.thaw()
        return self._index.retire(triple_ids, step, by)

    def delete_source(self, source_id: str) -> list[str]:
        self.thaw()
        return self._index.delete_source(source_id)

    # --- reads ---------------------------------------------------------------------------------
    def get(self, triple_id: str) -> Triple | None:
        if self.table is not None:
            row = self.table.row_of.get(triple_id)
            return None if row is None else self.table.triple(row)
        return self._index.get(triple_id)

    def ordered(self) -> list[Triple]:
        """All triples by (valid_from, id): the list kept, not a copy."""
        return self.table.all() if self.table is not None else self._index.ordered()

    def find_current(self, subject: str, relation: str, obj: str) -> Triple | None:
        self.thaw()  # asked before writing: the fact index is built once for the writes to come
        return self._index.find_current(subject, relation, obj)

    def of_entity(self, entity: str, current_only: bool) -> list[Triple]:
        if self.table is not None:
            return list(map(self.table.triple, self.table.entity_rows(entity, current_only).tolist()))
        return self._index.of_entity(entity, current_only)

    def current_ids(self, entity: str) -> list[str]:
        """Ids of the current triples touching ``entity``, by (valid_from, id)."""
        return self.table.entity_ids(entity) if self.table is not None else self._index.current_ids(entity)

    def entity_names(self) -> Collection[str]:
        return self.table.entity_names() if self.table is not None else self._index.entity_names()

    def retired_ids(self) -> list[str]:
        if self.table is not None:
            return self.table.retired_ids()
        return [t.id for t in self._index.ordered() if not t.current]

    def __len__(self) -> int:
        return len(self.table) if self.table is not None else len(self._index)

    def count_current(self) -> int:
        return len(self.table.current_rows()) if self.table is not None else self._index.count_current()
