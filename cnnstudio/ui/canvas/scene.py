"""``NetworkScene`` mirrors the document: one ``NodeItem`` per node, one ``EdgeItem`` per
wire, and for group blocks a ``GroupBlockItem`` (collapsed) or a ``GroupFrameItem``
(expanded).  Layers inside a collapsed group are hidden and their wires attach to the
group's block.  The scene follows the network's change events and the fresh analysis;
user gestures that edit (moving blocks, drawing a wire, opening a group) end in one
undo command pushed on the document."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from cnnstudio.core.group_layout import anchor, frame_rect
from cnnstudio.core.group_summary import GroupSummary, summarize_groups
from cnnstudio.core.layers.base import format_shape
from cnnstudio.core.network import Change, NetworkError

from ..commands import Connect, Move
from ..document import NetworkDocument
from ..group_commands import toggle_group_command
from .edge_item import EdgeItem, wire_path
from .group_item import GroupBlockItem, GroupFrameItem
from .node_item import ROW, BlockItem, NodeItem


class NetworkScene(QGraphicsScene):
    message = Signal(str)  # a refusal or hint for the status bar

    def __init__(self, document: NetworkDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self.group_blocks: dict[str, GroupBlockItem] = {}
        self.group_frames: dict[str, GroupFrameItem] = {}
        self.group_summaries: dict[str, GroupSummary] = {}
        self.order = "torch"
        self.snap_to_grid = True
        self._drag_start: dict[BlockItem, tuple[float, float]] = {}
        self._wire_from: BlockItem | None = None
        self._wire_preview: QGraphicsPathItem | None = None
        document.networkChanged.connect(self._on_change)
        document.analysisChanged.connect(self.refresh_analysis)
        document.projectReplaced.connect(self.rebuild)
        self.rebuild()

    # ------------------------------------------------------------------ mirroring
    def rebuild(self) -> None:
        self.clearSelection()
        for item in [*self.nodes.values(), *self.edges.values(), *self.group_blocks.values(),
                     *self.group_frames.values()]:
            self.removeItem(item)
        self.nodes.clear()
        self.edges.clear()
        self.group_blocks.clear()
        self.group_frames.clear()
        network = self.document.network
        for node in network.nodes:
            self._add_node_item(node.id)
        for edge in network.edges:
            self._add_edge_item(edge.source, edge.target)
        self._sync_groups()
        self.refresh_analysis()

    def _add_node_item(self, node_id: str) -> NodeItem:
        node = self.document.network.node(node_id)
        item = NodeItem(node_id)
        item.snap_to_grid = self.snap_to_grid
        item.setPos(QPointF(*node.position))
        self.addItem(item)
        self.nodes[node_id] = item
        item.update_from(node, self.document.analysis.nodes.get(node_id), self.order)
        return item

    def _add_edge_item(self, source: str, target: str) -> None:
        edge = EdgeItem(self.nodes[source], self.nodes[target])
        self.addItem(edge)
        self.edges[(source, target)] = edge

    def _remove_edge_item(self, key: tuple[str, str]) -> None:
        edge = self.edges.pop(key, None)
        if edge is not None:
            edge.detach()
            self.removeItem(edge)

    def _on_change(self, change: Change) -> None:
        network = self.document.network
        if change.kind == "reset":
            self.rebuild()
        elif change.kind == "node_added":
            for node_id in change.node_ids:
                self._add_node_item(node_id)
            for edge in network.edges:  # a restore brings its wires back too
                if (edge.source, edge.target) not in self.edges:
                    self._add_edge_item(edge.source, edge.target)
            self._sync_groups()
        elif change.kind == "node_removed":
            for key in [k for k in self.edges if k[0] in change.node_ids or k[1] in change.node_ids]:
                self._remove_edge_item(key)
            for node_id in change.node_ids:
                item = self.nodes.pop(node_id, None)
                if item is not None:
                    self.removeItem(item)
            self._sync_groups()
        elif change.kind == "edge_added":
            self._add_edge_item(*change.node_ids)
            self._route_edges()
        elif change.kind == "edge_removed":
            self._remove_edge_item(tuple(change.node_ids))
        elif change.kind == "groups_changed":
            self._sync_groups()
        elif change.kind == "moved":
            for node_id in change.node_ids:
                x, y = network.node(node_id).position
                item = self.nodes[node_id]
                if (item.pos().x(), item.pos().y()) != (x, y):
                    item.setPos(QPointF(x, y))
            if len(network.groups):
                self._place_groups()

    # ------------------------------------------------------------------ groups
    def _sync_groups(self) -> None:
        """Which layers are shown, which groups are blocks and which are frames, and where wires end."""
        groups = self.document.network.groups
        for node_id, item in self.nodes.items():
            shown = groups.hidden_in(node_id) is None
            if item.isVisible() != shown:
                item.setVisible(shown)
                item.setSelected(item.isSelected() and shown)
        blocks = {g.id for g in groups if g.collapsed and groups.group_hidden_in(g.id) is None}
        frames = {g.id for g in groups if not g.collapsed and groups.group_hidden_in(g.id) is None}
        for items, wanted in ((self.group_blocks, blocks), (self.group_frames, frames)):
            for group_id in [g for g in items if g not in wanted]:
                item = items.pop(group_id)
                for edge in list(getattr(item, "edges", ())):
                    edge.detach()
                self.removeItem(item)
        for group_id in blocks - set(self.group_blocks):
            block = GroupBlockItem(group_id)
            block.snap_to_grid = self.snap_to_grid
            self.addItem(block)
            self.group_blocks[group_id] = block
        for group_id in frames - set(self.group_frames):
            frame = GroupFrameItem(group_id, len(groups.ancestors(group_id)))
            self.addItem(frame)
            self.group_frames[group_id] = frame
        self._place_groups()
        self._route_edges()
        self._refresh_groups()

    def _place_groups(self) -> None:
        network = self.document.network
        for group_id, block in self.group_blocks.items():
            x, y = anchor(network, group_id)
            if (block.pos().x(), block.pos().y()) != (x, y):
                block.setPos(QPointF(x, y))
        for group_id, frame in self.group_frames.items():
            frame.set_rect(frame_rect(network, group_id))

    def _route_edges(self) -> None:
        for (source, target), edge in self.edges.items():
            edge.set_ends(self.item_showing(source), self.item_showing(target))

    def _refresh_groups(self) -> None:
        if not self.group_blocks and not self.group_frames:
            self.group_summaries = {}
            return
        groups = self.document.network.groups
        self.group_summaries = summarize_groups(self.document.network, self.document.analysis)
        for group_id, block in self.group_blocks.items():
            group = groups.get(group_id)
            block.update_from(group.name, group.kind, self.group_summaries.get(group_id), self.order)
        for group_id, frame in self.group_frames.items():
            group = groups.get(group_id)
            frame.update_from(group.name, group.kind, self.group_summaries.get(group_id))

    def item_showing(self, node_id: str) -> BlockItem:
        """The block that shows ``node_id``: its own, or the collapsed group it is hidden in."""
        hidden_in = self.document.network.groups.hidden_in(node_id)
        return self.nodes[node_id] if hidden_in is None else self.group_blocks[hidden_in]

    def visible_blocks(self) -> list[BlockItem]:
        return [item for item in self.nodes.values() if item.isVisible()] + list(self.group_blocks.values())

    def refresh_analysis(self) -> None:
        analysis = self.document.analysis
        network = self.document.network
        for node_id, item in self.nodes.items():
            item.update_from(network.node(node_id), analysis.nodes.get(node_id), self.order)
        for (source, _), edge in self.edges.items():
            result = analysis.nodes.get(source)
            edge.set_shape_text(format_shape(result.output_shape if result else None, self.order))
        self._refresh_groups()

    def set_order(self, order: str) -> None:
        self.order = order
        self.refresh_analysis()

    def set_snap_to_grid(self, enabled: bool) -> None:
        self.snap_to_grid = enabled
        for item in [*self.nodes.values(), *self.group_blocks.values()]:
            item.snap_to_grid = enabled

    # ------------------------------------------------------------------ queries
    def selected_group_ids(self) -> list[str]:
        """Groups selected as a block or by their frame's header, in the document's order."""
        chosen = {g for g, item in [*self.group_blocks.items(), *self.group_frames.items()] if item.isSelected()}
        return [g.id for g in self.document.network.groups if g.id in chosen]

    def selected_node_ids(self) -> list[str]:
        """Selected layers, with every layer of a selected group, in the document's order."""
        network = self.document.network
        chosen = {node_id for node_id, item in self.nodes.items() if item.isVisible() and item.isSelected()}
        for group_id in self.selected_group_ids():
            chosen.update(network.groups.descendant_nodes(group_id))
        return [n.id for n in network.nodes if n.id in chosen]

    def selected_edges(self) -> list[tuple[str, str]]:
        return [key for key, edge in self.edges.items() if edge.isSelected() and edge.isVisible()]

    def select_nodes(self, node_ids) -> None:
        """Select these layers; one hidden in a collapsed group selects that group's block."""
        wanted = set(node_ids)
        self.clearSelection()
        for node_id in wanted:
            if node_id in self.nodes:
                self.item_showing(node_id).setSelected(True)

    def select_groups(self, group_ids) -> None:
        self.clearSelection()
        for group_id in group_ids:
            item = self.group_blocks.get(group_id) or self.group_frames.get(group_id)
            if item is not None:
                item.setSelected(True)

    def node_at(self, point: QPointF) -> BlockItem | None:
        """The block under ``point``: a layer or a collapsed group."""
        for item in self.items(point):
            if isinstance(item, BlockItem) and item.isVisible():
                return item
        return None

    def frame_at(self, point: QPointF) -> GroupFrameItem | None:
        for item in self.items(point):
            if isinstance(item, GroupFrameItem) and item.contains_header(point):
                return item
        return None

    def edge_at(self, point: QPointF) -> EdgeItem | None:
        for item in self.items(point):
            if isinstance(item, EdgeItem) and item.isVisible():
                return item
        return None

    def port_node(self, item: BlockItem, output: bool) -> str:
        """The layer a wire drawn from (``output``) or to a block connects."""
        if isinstance(item, GroupBlockItem):
            summary = self.group_summaries[item.group_id]
            return summary.exit if output else summary.entry
        return item.node_id

    def free_position_below(self, node_id: str | None) -> tuple[float, float]:
        """Where a block appended after ``node_id`` (or at the end) goes."""
        if node_id is not None and node_id in self.nodes:
            pos = self.item_showing(node_id).pos()
            return pos.x(), pos.y() + ROW
        bottom = max((item.pos().y() for item in self.visible_blocks()), default=-ROW)
        return 0.0, bottom + ROW

    # ------------------------------------------------------------------ gestures
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self.document.read_only:
            item = self.node_at(event.scenePos())
            if item is not None and item.near_output_port(event.scenePos()):
                self._start_wire(item)
                event.accept()
                return
        super().mousePressEvent(event)
        self._drag_start = {item: (item.pos().x(), item.pos().y()) for item in self.visible_blocks()
                            if item.isSelected()}

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Double-click a group's block to open it in place, or its frame's header to close it."""
        point = event.scenePos()
        item = self.node_at(point)
        group_id = item.group_id if isinstance(item, GroupBlockItem) else None
        if group_id is None and item is None:
            frame = self.frame_at(point)
            group_id = frame.group_id if frame is not None else None
        if group_id is not None:
            self.document.push(toggle_group_command(self.document.network, group_id))
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire_from is not None:
            self._wire_preview.setPath(wire_path(self._wire_from.output_port(), event.scenePos()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire_from is not None:
            self._finish_wire(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._commit_drag()

    def _start_wire(self, item: BlockItem) -> None:
        self._wire_from = item
        self._wire_preview = QGraphicsPathItem()
        pen = QPen(QColor("#FFB300"), 2.0, Qt.PenStyle.DashLine)
        self._wire_preview.setPen(pen)
        self._wire_preview.setZValue(2)
        self.addItem(self._wire_preview)

    def _finish_wire(self, point: QPointF) -> None:
        source = self._wire_from
        self.removeItem(self._wire_preview)
        self._wire_from = self._wire_preview = None
        target = self.node_at(point)
        if target is None or target is source:
            return
        self.connect_nodes(self.port_node(source, output=True), self.port_node(target, output=False))

    def connect_nodes(self, source: str, target: str) -> bool:
        """Push a Connect command, or say in the status bar why the wire is refused."""
        network = self.document.network
        try:
            network.check_connection(source, target)
        except NetworkError as error:
            self.message.emit(str(error))
            return False
        return self.document.push(Connect(network, source, target))

    def _commit_drag(self) -> None:
        """One Move for the drag: a moved group block moves every layer in it by the same step."""
        if not self._drag_start:
            return
        start, self._drag_start = self._drag_start, {}
        network = self.document.network
        before: dict[str, tuple[float, float]] = {}
        after: dict[str, tuple[float, float]] = {}
        for item, (x0, y0) in start.items():
            if item.scene() is not self:
                continue
            dx, dy = item.pos().x() - x0, item.pos().y() - y0
            if not dx and not dy:
                continue
            members = (network.groups.descendant_nodes(item.group_id) if isinstance(item, GroupBlockItem)
                       else [item.node_id])
            for node_id in members:
                x, y = network.node(node_id).position
                before[node_id], after[node_id] = (x, y), (x + dx, y + dy)
        if after and not self.document.read_only:
            self.document.push(Move(network, before, after))
        elif after:  # locked while training: put the blocks back
            for item, (x, y) in start.items():
                item.setPos(QPointF(x, y))
