"""A wire: a smooth curve from one block's output port to another's input port."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from .. import theme

#: wires longer than this that run straight down would pass behind other blocks
SKIP_DROP = 150.0
SKIP_WIDTH = 160.0


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A vertical S-curve. A wire that skips rows (a residual shortcut) bows out to
    the right so it is not hidden behind the blocks it passes."""
    path = QPainterPath(start)
    drop = end.y() - start.y()
    if drop > SKIP_DROP and abs(end.x() - start.x()) < SKIP_WIDTH:
        side = max(start.x(), end.x()) + SKIP_WIDTH * 0.75
        path.cubicTo(QPointF(start.x(), start.y() + 60), QPointF(side, start.y() + 20), QPointF(side, start.y() + drop / 2))
        path.cubicTo(QPointF(side, end.y() - 20), QPointF(end.x(), end.y() - 60), end)
        return path
    bend = max(40.0, abs(drop) / 2, -drop * 0.8)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


class EdgeItem(QGraphicsPathItem):
    """One wire of the network.  Its ends are the blocks that show its two layers: the
    layers themselves, or the collapsed groups they are hidden in."""

    def __init__(self, source_item, target_item, key: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.source_item = source_item
        self.target_item = target_item
        self._key = key or (source_item.node_id, target_item.node_id)
        self.shape_text = ""
        self._hovered = False
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        source_item.edges.append(self)
        target_item.edges.append(self)
        self.refresh_path()
        self.refresh_style()

    @property
    def key(self) -> tuple[str, str]:
        """The wire's (source node id, target node id), whatever blocks show them."""
        return self._key

    def detach(self) -> None:
        for item in (self.source_item, self.target_item):
            if self in item.edges:
                item.edges.remove(self)

    def set_ends(self, source_item, target_item) -> None:
        """Attach to the blocks that now show the wire's layers; hidden when both are one block."""
        if (source_item, target_item) != (self.source_item, self.target_item):
            self.detach()
            self.source_item, self.target_item = source_item, target_item
            source_item.edges.append(self)
            target_item.edges.append(self)
            self.refresh_style()
        self.setVisible(source_item is not target_item)
        if self.isVisible():
            self.refresh_path()

    def refresh_path(self) -> None:
        self.setPath(wire_path(self.source_item.output_port(), self.target_item.input_port()))

    def set_shape_text(self, text: str) -> None:
        if text == self.shape_text:
            return
        self.shape_text = text
        self.setToolTip(f"{self.source_item.name} → {self.target_item.name}<br>tensor {text}")

    def refresh_style(self) -> None:
        color = theme.family_color(self.source_item.family)
        if self.isSelected():
            color = QColor("#FFB300")
        width = 3.2 if (self._hovered or self.isSelected()) else 2.0
        pen = QPen(color, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.setPen(pen)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def hoverEnterEvent(self, event) -> None:
        self._hovered = True
        self.refresh_style()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        self.refresh_style()
        super().hoverLeaveEvent(event)

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.refresh_style()
        return super().itemChange(change, value)
