"""Tidy layout: place blocks in rows by depth so chains read top to bottom and
branches sit side by side.  Pure geometry, no Qt, so it is tested directly."""

from __future__ import annotations

from .network import Network

ROW_SPACING = 110.0
COLUMN_SPACING = 240.0


def tidy_positions(network: Network, origin: tuple[float, float] = (0.0, 0.0)) -> dict[str, tuple[float, float]]:
    """New positions for every node: depth = longest path from a source; within a
    row, nodes are ordered by the mean column of their inputs to limit crossings."""
    inputs, _ = network.adjacency()
    order = network.topological_order()
    depth: dict[str, int] = {}
    for node_id in order:
        depth[node_id] = max((depth[s] + 1 for s in inputs[node_id]), default=0)
    rows: dict[int, list[str]] = {}
    for node_id in order:
        rows.setdefault(depth[node_id], []).append(node_id)
    column: dict[str, float] = {}
    positions: dict[str, tuple[float, float]] = {}
    for row in sorted(rows):
        members = rows[row]
        members.sort(key=lambda n: (sum(column[s] for s in inputs[n]) / len(inputs[n])) if inputs[n] else 0.0)
        count = len(members)
        for index, node_id in enumerate(members):
            column[node_id] = index - (count - 1) / 2
            positions[node_id] = (origin[0] + column[node_id] * COLUMN_SPACING, origin[1] + row * ROW_SPACING)
    return positions


def chain_end_above(network: Network, point: tuple[float, float], block: tuple[float, float],
                    reach: float) -> str | None:
    """The block a new block dropped with its centre at ``point`` should follow: a block with
    no outgoing wire whose bottom lies at most ``reach`` above ``point`` and that overlaps it
    sideways (``block`` is a block's ``(width, height)``; positions are top-left corners).
    The nearest such block, or ``None`` when the drop is not just below a chain's end."""
    width, height = block
    x, y = point
    _, outputs = network.adjacency()
    best: tuple[float, str] | None = None
    for node in network.nodes:
        if outputs[node.id]:
            continue
        left, top = node.position
        below = y - (top + height)
        beside = abs(x - (left + width / 2))
        if 0 <= below <= reach and beside < width:
            distance = below + beside
            if best is None or distance < best[0]:
                best = (distance, node.id)
    return best[1] if best is not None else None


def room_below(network: Network, top: float, row: float, keep: set[str] | frozenset[str] = frozenset()
               ) -> dict[str, tuple[float, float]]:
    """New positions that move every block from height ``top`` down (less half a row) one
    ``row`` further, except ``keep``: room for a block inserted at ``top``."""
    return {node.id: (node.position[0], node.position[1] + row) for node in network.nodes
            if node.id not in keep and node.position[1] >= top - row / 2}
