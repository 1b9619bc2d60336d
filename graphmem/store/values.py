"""Turn driver result values (nodes, relationships, paths) into plain JSON-friendly Python."""
from __future__ import annotations

from typing import Any

from neo4j.graph import Node, Path, Relationship


def plain(value: Any) -> Any:
    # Properties only, as the embedded store returns them, so answers match across backends.
    if isinstance(value, (Node, Relationship)):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        # Walk order, not relationship direction: nodes[i] -rels[i]- nodes[i+1].
        items: list[Any] = [plain(value.nodes[0])]
        for rel, node in zip(value.relationships, value.nodes[1:]):
            items += [plain(rel), plain(node)]
        return items
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
