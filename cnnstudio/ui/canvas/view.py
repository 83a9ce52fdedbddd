"""The canvas view: dotted grid, zoom and pan, rubber-band selection, and drops
from the palette (onto empty space to add, onto a wire to insert)."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView

from cnnstudio.core.layers import spec_for
from cnnstudio.core.layout import chain_end_above

from .. import theme
from ..commands import AddNode, append_after_command, insert_on_wire_command, make_room_below
from .node_item import GRID, HEIGHT, ROW, WIDTH
from .scene import NetworkScene

LAYER_MIME = "application/x-cnnstudio-layer"
MIN_ZOOM, MAX_ZOOM = 0.15, 3.0


class NetworkView(QGraphicsView):
    zoomChanged = Signal(float)

    def __init__(self, scene: NetworkScene, parent=None) -> None:
        super().__init__(scene, parent)
        self.network_scene = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self.setSceneRect(QRectF(-5000, -5000, 10000, 10000))
        self._panning_from: QPointF | None = None

    # ------------------------------------------------------------------ zoom and pan
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = min(max(factor, MIN_ZOOM), MAX_ZOOM)
        self.scale(factor / self.zoom, factor / self.zoom)
        self.zoomChanged.emit(self.zoom)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * 1.2)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / 1.2)

    def zoom_to_fit(self) -> None:
        items = self.network_scene.nodes.values()
        if not items:
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoomChanged.emit(self.zoom)
            return
        bounds = QRectF()
        for item in items:
            bounds = bounds.united(item.sceneBoundingRect())
        bounds.adjust(-40, -40, 40, 40)
        self.fitInView(bounds, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.25:
            self.set_zoom(1.25)
        self.centerOn(bounds.center())
        self.zoomChanged.emit(self.zoom)

    def show_network(self, readable_zoom: float = 0.7) -> None:
        """Fit the network when it fits at a readable size; otherwise show its top
        (the Input) at that size, so text on the blocks stays legible."""
        self.zoom_to_fit()
        if self.zoom >= readable_zoom or not self.network_scene.nodes:
            return
        self.set_zoom(readable_zoom)
        bounds = QRectF()
        for item in self.network_scene.nodes.values():
            bounds = bounds.united(item.sceneBoundingRect())
        visible_height = self.viewport().height() / self.zoom
        self.centerOn(bounds.center().x(), bounds.top() - 30 + visible_height / 2)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier or not event.pixelDelta().y():
            steps = event.angleDelta().y() / 120
            if steps:
                self.set_zoom(self.zoom * math.pow(1.15, steps))
                event.accept()
                return
        super().wheelEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._panning_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._panning_from is not None:
            delta = event.position() - self._panning_from
            self._panning_from = event.position()
            self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - delta.x()))
            self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._panning_from is not None:
            self._panning_from = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        step = 60
        moves = {Qt.Key.Key_Left: (-step, 0), Qt.Key.Key_Right: (step, 0),
                 Qt.Key.Key_Up: (0, -step), Qt.Key.Key_Down: (0, step)}
        if event.key() in moves and not self.network_scene.selectedItems():
            dx, dy = moves[event.key()]
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + dx)
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + dy)
            event.accept()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ background
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, theme.canvas_background())
        spacing = GRID * 3
        if self.zoom < 0.4:
            return
        painter.setPen(theme.grid_dot())
        left = math.floor(rect.left() / spacing) * spacing
        top = math.floor(rect.top() / spacing) * spacing
        points = []
        y = top
        while y < rect.bottom():
            x = left
            while x < rect.right():
                points.append(QPointF(x, y))
                x += spacing
            y += spacing
        painter.drawPoints(points)

    # ------------------------------------------------------------------ drops from the palette
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME) and not self.network_scene.document.read_only:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        if not event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            return
        type_name = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8")
        self.drop_layer(type_name, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()

    def drop_layer(self, type_name: str, scene_point: QPointF) -> str | None:
        """Add ``type_name`` where it was dropped: on a wire it is inserted into it (the blocks
        below make room); just below the end of a chain it is wired after it; elsewhere it is
        added on its own.  Each is one undo step.  Returns the new node's id."""
        scene = self.network_scene
        document = scene.document
        x = round((scene_point.x() - WIDTH / 2) / GRID) * GRID
        y = round((scene_point.y() - HEIGHT / 2) / GRID) * GRID
        edge = scene.edge_at(scene_point)
        network = document.network
        before = set(n.id for n in network.nodes)
        takes_input = spec_for(type_name).max_inputs != 0
        end = chain_end_above(network, (scene_point.x(), scene_point.y()), (WIDTH, HEIGHT), reach=2.5 * ROW) \
            if edge is None and takes_input else None
        if edge is not None:
            source, target = edge.key
            position = scene.free_position_below(source)
            command = insert_on_wire_command(network, source, target, type_name, position)
            make_room_below(network, command, position[1], ROW, keep={source})
            document.push(command)
        elif end is not None:
            position = scene.free_position_below(end)
            command = append_after_command(network, end, type_name, position)
            make_room_below(network, command, position[1], ROW, keep={end})
            document.push(command)
        else:
            document.push(AddNode(network, type_name, position=(x, y)))
        added = [n.id for n in network.nodes if n.id not in before]
        if added:
            scene.select_nodes(added)
            return added[0]
        return None
