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


def anchor(network: Network, group_id: str, groups: Groups | None = None) -> Position:
    """The top-left corner of a group's layers: where its collapsed block is drawn."""
    groups = groups if groups is not None else network.groups
    positions = [network.node(n).position for n in groups.descendant_nodes(group_id)]
    return min(x for x, _ in positions), min(y for _, y in positions)


def block_rect(network: Network, group_id: str, groups: Groups | None = None) -> Rect:
    x, y = anchor(network, group_id, groups)
    return Rect(x, y, BLOCK_WIDTH, BLOCK_HEIGHT)


def frame_rect(network: Network, group_id: str, groups: Groups | None = None) -> Rect:
    """The frame of a group shown expanded: around its layers and its nested groups as they are shown."""
    groups = groups if groups is not None else network.groups
    rects = [_node_rect(network, n) for n in groups.get(group_id).node_ids]
    for child in groups.children(group_id):
        rects.append(block_rect(network, child, groups) if groups.get(child).collapsed
                     else frame_rect(network, child, groups))
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


def expand_moves(network: Network, group_id: str, groups: Groups | None = None) -> dict[str, Position]:
    """New node positions that open ``group_id`` in place: its frame starts where its block
    was, and everything shown below the block moves down to make room.  ``groups`` (default:
    the network's) lets a new group make room for its frame before it exists."""
    groups = (groups if groups is not None else network.groups).with_collapsed(group_id, True)
    block = block_rect(network, group_id, groups)
    frame = frame_rect(network, group_id, groups)
    drop = block.y - frame.y
    extra = frame.bottom + drop - block.bottom
    inside = set(groups.descendant_nodes(group_id))
    moves = _shifted(network, inside, 0.0, drop)
    for unit in visible_units(network, groups):
        if unit.id != group_id and not inside.intersection(unit.node_ids) and _top(network, unit) > block.y:
            moves.update(_shifted(network, unit.node_ids, 0.0, extra))
    return {n: p for n, p in moves.items() if p != network.node(n).position}


def collapse_moves(network: Network, group_id: str, groups: Groups | None = None) -> dict[str, Position]:
    """New node positions that close ``group_id`` in place: the inverse of ``expand_moves``."""
    groups = (groups if groups is not None else network.groups).with_collapsed(group_id, False)
    frame = frame_rect(network, group_id, groups)
    _, top = anchor(network, group_id, groups)
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


GAP = 32.0


def tidy_top_level(network: Network, origin: Position = (0.0, 0.0)) -> dict[str, Position]:
    """Tidy layout for a network with groups: the top-level layers and groups in rows by depth,
    each group moved as a whole (its block, or its open frame with everything inside)."""
    groups = network.groups
    units: dict[str, list[str]] = {}
    unit_of: dict[str, str] = {}
    for node in network.nodes:
        top = groups.ancestors(groups.owner(node.id))
        key = top[-1] if top else node.id
        units.setdefault(key, []).append(node.id)
        unit_of[node.id] = key
    rects: dict[str, Rect] = {}
    for key in units:
        if key in groups:
            rects[key] = block_rect(network, key) if groups.get(key).collapsed else frame_rect(network, key)
        else:
            rects[key] = _node_rect(network, key)
    inputs: dict[str, list[str]] = {key: [] for key in units}
    for edge in network.edges:
        source, target = unit_of[edge.source], unit_of[edge.target]
        if source != target and source not in inputs[target]:
            inputs[target].append(source)
    depth = _unit_depths(list(units), inputs)
    rows: dict[int, list[str]] = {}
    for key in units:
        rows.setdefault(depth[key], []).append(key)
    moves: dict[str, Position] = {}
    y = origin[1]
    for row in sorted(rows):
        members = rows[row]
        width = sum(rects[k].width for k in members) + GAP * (len(members) - 1)
        x = origin[0] + BLOCK_WIDTH / 2 - width / 2
        for key in members:
            rect = rects[key]
            dx, dy = x - rect.x, y - rect.y
            for node_id in units[key]:
                px, py = network.node(node_id).position
                moves[node_id] = (px + dx, py + dy)
            x += rect.width + GAP
        y += max(rects[k].height for k in members) + GAP
    return moves


def _unit_depths(order: list[str], inputs: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from a source, in one pass; a group whose layers feed each other both ways
    (a loop between units) is placed after the units it has already met."""
    outputs: dict[str, list[str]] = {key: [] for key in order}
    waiting = {key: len(inputs[key]) for key in order}
    for key in order:
        for source in inputs[key]:
            outputs[source].append(key)
    depth: dict[str, int] = {}
    ready = [key for key in order if not waiting[key]]
    pending = list(reversed(order))
    while len(depth) < len(order):
        if not ready:  # a loop: take the first unplaced unit in document order
            while pending[-1] in depth:
                pending.pop()
            ready = [pending[-1]]
        key = ready.pop(0)
        if key in depth:
            continue
        depth[key] = max((depth[s] + 1 for s in inputs[key] if s in depth), default=0)
        for target in outputs[key]:
            waiting[target] -= 1
            if waiting[target] <= 0 and target not in depth:
                ready.append(target)
    return depth
