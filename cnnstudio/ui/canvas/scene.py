"""``NetworkScene`` mirrors the document: one ``NodeItem`` per node, one
``EdgeItem`` per wire.  It follows the network's change events and the fresh
analysis; user gestures that edit (moving blocks, drawing a wire) end in one
undo command pushed on the document."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from cnnstudio.core.layers.base import format_shape
from cnnstudio.core.network import Change, NetworkError

from ..commands import Connect, Move
from ..document import NetworkDocument
from .edge_item import EdgeItem, wire_path
from .node_item import ROW, NodeItem


class NetworkScene(QGraphicsScene):
    message = Signal(str)  # a refusal or hint for the status bar

    def __init__(self, document: NetworkDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self.order = "torch"
        self.snap_to_grid = True
        self._drag_start: dict[str, tuple[float, float]] = {}
        self._wire_from: NodeItem | None = None
        self._wire_preview: QGraphicsPathItem | None = None
        document.networkChanged.connect(self._on_change)
        document.analysisChanged.connect(self.refresh_analysis)
        document.projectReplaced.connect(self.rebuild)
        self.rebuild()

    # ------------------------------------------------------------------ mirroring
    def rebuild(self) -> None:
        self.clearSelection()
        for item in list(self.nodes.values()) + list(self.edges.values()):
            self.removeItem(item)
        self.nodes.clear()
        self.edges.clear()
        network = self.document.network
        for node in network.nodes:
            self._add_node_item(node.id)
        for edge in network.edges:
            self._add_edge_item(edge.source, edge.target)
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
        elif change.kind == "node_removed":
            for key in [k for k in self.edges if k[0] in change.node_ids or k[1] in change.node_ids]:
                self._remove_edge_item(key)
            for node_id in change.node_ids:
                item = self.nodes.pop(node_id, None)
                if item is not None:
                    self.removeItem(item)
        elif change.kind == "edge_added":
            self._add_edge_item(*change.node_ids)
        elif change.kind == "edge_removed":
            self._remove_edge_item(tuple(change.node_ids))
        elif change.kind == "moved":
            for node_id in change.node_ids:
                x, y = network.node(node_id).position
                item = self.nodes[node_id]
                if (item.pos().x(), item.pos().y()) != (x, y):
                    item.setPos(QPointF(x, y))

    def refresh_analysis(self) -> None:
        analysis = self.document.analysis
        network = self.document.network
        for node_id, item in self.nodes.items():
            item.update_from(network.node(node_id), analysis.nodes.get(node_id), self.order)
        for (source, _), edge in self.edges.items():
            result = analysis.nodes.get(source)
            edge.set_shape_text(format_shape(result.output_shape if result else None, self.order))

    def set_order(self, order: str) -> None:
        self.order = order
        self.refresh_analysis()

    def set_snap_to_grid(self, enabled: bool) -> None:
        self.snap_to_grid = enabled
        for item in self.nodes.values():
            item.snap_to_grid = enabled

    # ------------------------------------------------------------------ queries
    def selected_node_ids(self) -> list[str]:
        network = self.document.network
        return [n.id for n in network.nodes if n.id in self.nodes and self.nodes[n.id].isSelected()]

    def selected_edges(self) -> list[tuple[str, str]]:
        return [key for key, edge in self.edges.items() if edge.isSelected()]

    def select_nodes(self, node_ids) -> None:
        wanted = set(node_ids)
        self.clearSelection()
        for node_id in wanted:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    def node_at(self, point: QPointF) -> NodeItem | None:
        for item in self.items(point):
            if isinstance(item, NodeItem):
                return item
        return None

    def edge_at(self, point: QPointF) -> EdgeItem | None:
        for item in self.items(point):
            if isinstance(item, EdgeItem):
                return item
        return None

    def free_position_below(self, node_id: str | None) -> tuple[float, float]:
        """Where a block appended after ``node_id`` (or at the end) goes."""
        if node_id is not None and node_id in self.nodes:
            pos = self.nodes[node_id].pos()
            return pos.x(), pos.y() + ROW
        bottom = max((item.pos().y() for item in self.nodes.values()), default=-ROW)
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
        self._drag_start = {node_id: tuple(self.document.network.node(node_id).position)
                            for node_id in self.selected_node_ids()}

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

    def _start_wire(self, item: NodeItem) -> None:
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
        self.connect_nodes(source.node_id, target.node_id)

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
        if not self._drag_start:
            return
        before = self._drag_start
        self._drag_start = {}
        after = {node_id: (self.nodes[node_id].pos().x(), self.nodes[node_id].pos().y())
                 for node_id in before if node_id in self.nodes}
        moved = {k: v for k, v in after.items() if v != before[k]}
        if moved and not self.document.read_only:
            self.document.push(Move(self.document.network, {k: before[k] for k in moved}, moved))
        elif moved:  # locked while training: put the blocks back
            for node_id, (x, y) in before.items():
                self.nodes[node_id].setPos(QPointF(x, y))

