"""Turn FalkorDB result values (nodes, edges, paths) into plain JSON-friendly Python, as
``values.plain`` does for Bolt drivers: properties only, so answers match across backends."""
from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    from falkordb import Edge, Node, Path

    if isinstance(value, (Node, Edge)):
        return {k: plain(v) for k, v in value.properties.items()}
    if isinstance(value, Path):
        # Walk order: nodes[i] -edges[i]- nodes[i+1].
        nodes, edges = value.nodes(), value.edges()
        items: list[Any] = [plain(nodes[0])]
        for edge, node in zip(edges, nodes[1:]):
            items += [plain(edge), plain(node)]
        return items
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
