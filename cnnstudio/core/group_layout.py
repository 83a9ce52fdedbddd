"""Where group blocks and their frames sit, and the moves that expand or collapse one in place.

Node positions stay the one truth: a collapsed group is drawn as one block at the
top-left corner of its layers (its *anchor*); an expanded group is a frame around
what it shows, with a header above.  Expanding moves the group's layers down so
the frame starts where the block was, and moves everything below the block down
by the extra height; collapsing undoes exactly that.  Pure geometry, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .groups import Groups
from .layout import BLOCK_HEIGHT, BLOCK_WIDTH
from .network import Network

FRAME_SIDE = 12.0
FRAME_TOP = 30.0  # the header with the group's name, and a margin
FRAME_BOTTOM = 12.0

Position = tuple[float, float]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def united(self, other: "Rect") -> "Rect":
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Rect(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)


@dataclass(frozen=True)
class Unit:
    """Something the canvas shows at one level: a layer, or a collapsed group with all its layers."""

    kind: str  # "node" or "group"
    id: str
    node_ids: tuple[str, ...]


def anchor(network: Network, group_id: str) -> Position:
    """The top-left corner of a group's layers: where its collapsed block is drawn."""
    positions = [network.node(n).position for n in network.groups.descendant_nodes(group_id)]
    return min(x for x, _ in positions), min(y for _, y in positions)


def block_rect(network: Network, group_id: str) -> Rect:
    x, y = anchor(network, group_id)
    return Rect(x, y, BLOCK_WIDTH, BLOCK_HEIGHT)


def frame_rect(network: Network, group_id: str, groups: Groups | None = None) -> Rect:
    """The frame of a group shown expanded: around its layers and its nested groups as they are shown."""
    groups = groups if groups is not None else network.groups
    rects = [_node_rect(network, n) for n in groups.get(group_id).node_ids]
    for child in groups.children(group_id):
        rects.append(block_rect(network, child) if groups.get(child).collapsed else frame_rect(network, child, groups))
    inner = rects[0]
    for rect in rects[1:]:
        inner = inner.united(rect)
    return Rect(inner.x - FRAME_SIDE, inner.y - FRAME_TOP, inner.width + 2 * FRAME_SIDE,
                inner.height + FRAME_TOP + FRAME_BOTTOM)


def _node_rect(network: Network, node_id: str) -> Rect:
    x, y = network.node(node_id).position
    return Rect(x, y, BLOCK_WIDTH, BLOCK_HEIGHT)


def visible_units(network: Network, groups: Groups | None = None) -> list[Unit]:
    """Every layer not hidden in a collapsed group, and every outermost collapsed group."""
    groups = groups if groups is not None else network.groups
    units = [Unit("node", n.id, (n.id,)) for n in network.nodes if groups.hidden_in(n.id) is None]
    units += [Unit("group", g.id, tuple(groups.descendant_nodes(g.id))) for g in groups
              if g.collapsed and groups.group_hidden_in(g.id) is None]
    return units


def _top(network: Network, unit: Unit) -> float:
    return min(network.node(n).position[1] for n in unit.node_ids)


def _shifted(network: Network, node_ids: Iterable[str], dx: float, dy: float) -> dict[str, Position]:
    return {n: (network.node(n).position[0] + dx, network.node(n).position[1] + dy) for n in node_ids}


def expand_moves(network: Network, group_id: str) -> dict[str, Position]:
    """New node positions that open ``group_id`` in place: its frame starts where its block
    was, and everything shown below the block moves down to make room."""
    groups = network.groups.with_collapsed(group_id, True)
    block = block_rect(network, group_id)
    frame = frame_rect(network, group_id, groups)
    drop = block.y - frame.y
    extra = frame.bottom + drop - block.bottom
    inside = set(groups.descendant_nodes(group_id))
    moves = _shifted(network, inside, 0.0, drop)
    for unit in visible_units(network, groups):
        if unit.id != group_id and not inside.intersection(unit.node_ids) and _top(network, unit) > block.y:
            moves.update(_shifted(network, unit.node_ids, 0.0, extra))
    return {n: p for n, p in moves.items() if p != network.node(n).position}


def collapse_moves(network: Network, group_id: str) -> dict[str, Position]:
    """New node positions that close ``group_id`` in place: the inverse of ``expand_moves``."""
    groups = network.groups.with_collapsed(group_id, False)
    frame = frame_rect(network, group_id, groups)
    _, top = anchor(network, group_id)
    shorter = frame.height - BLOCK_HEIGHT
    inside = set(groups.descendant_nodes(group_id))
    moves = _shifted(network, inside, 0.0, frame.y - top)
    for unit in visible_units(network, groups):
        if not inside.intersection(unit.node_ids) and _top(network, unit) > frame.y:
            moves.update(_shifted(network, unit.node_ids, 0.0, -shorter))
    return {n: p for n, p in moves.items() if p != network.node(n).position}


def collapse_all(network: Network) -> None:
    """Collapse every group, innermost first (how templates open: a readable chain of blocks)."""
    for group in reversed(_depth_first(network.groups)):
        if not network.groups.get(group).collapsed:
            network.move(collapse_moves(network, group))
            network.set_groups(network.groups.with_collapsed(group, True))


def _depth_first(groups: Groups) -> list[str]:
    order: list[str] = []

    def visit(parent: str | None) -> None:
        for child in groups.children(parent):
            order.append(child)
            visit(child)

    visit(None)
    return order
