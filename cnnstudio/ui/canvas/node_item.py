"""One block on the canvas: it mirrors a node and its analysis, never edits them."""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from cnnstudio.core.analysis import NodeAnalysis
from cnnstudio.core.layers import spec_for
from cnnstudio.core.layers.base import format_shape

from .. import theme

WIDTH = 220.0
HEADER = 24.0
HEIGHT = 78.0
ROW = HEIGHT + 32  # one block and the gap below it, in a chain
PORT_RADIUS = 5.5
GRID = 10.0


@functools.lru_cache(maxsize=2)
def _block_shape(with_input_port: bool) -> QPainterPath:
    """The block's outline with its ports: they stick out half-way, and without them a
    press on a port's outer half misses the block and starts a rubber band, not a wire."""
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, WIDTH, HEIGHT), 8, 8)
    ports = QPainterPath()
    ports.addEllipse(QPointF(WIDTH / 2, HEIGHT), PORT_RADIUS, PORT_RADIUS)
    if with_input_port:
        ports.addEllipse(QPointF(WIDTH / 2, 0), PORT_RADIUS, PORT_RADIUS)
    return path.united(ports)


class NodeItem(QGraphicsObject):
    """A rounded block: coloured header (name, type), key settings, output shape
    and a parameter badge; an input port on top and an output port at the bottom."""

    def __init__(self, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id
        self.name = ""
        self.type_name = ""
        self.settings = ""
        self.shape_text = ""
        self.params_text = ""
        self.problem = ""
        self.severity = ""
        self.has_input_port = True
        self.order = "torch"
        self.edges: list = []
        self._shown: tuple | None = None
        self.snap_to_grid = True
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setZValue(1)

    # ------------------------------------------------------------------ data
    def update_from(self, node, result: NodeAnalysis | None, order: str) -> None:
        key = (node.name, node.type, repr(node.params), order, result.output_shape if result else None,
               result.params if result else None, tuple(d.text for d in result.diagnostics) if result else ())
        if key == self._shown:
            return  # nothing this block displays has changed
        self._shown = key
        spec = spec_for(node.type)
        self.name = node.name
        self.type_name = node.type
        self.family = spec.family
        self.settings = spec.key_settings(node.params)
        self.has_input_port = spec.max_inputs != 0
        self.order = order
        shape = result.output_shape if result else None
        self.shape_text = "→ " + format_shape(shape, order) if shape is not None else "→ ?"
        count = result.params.total if result else 0
        self.params_text = f"{count:,} params" if count else ""
        problems = result.diagnostics if result else []
        errors = [d for d in problems if d.is_error]
        shown = errors or problems
        self.severity = ("error" if errors else "warning") if shown else ""
        self.problem = "\n".join(d.text for d in shown)
        tooltip = f"<b>{node.name}</b> ({node.type})<br>{spec.summary}"
        if self.problem:
            tooltip += "<br><br><span style='color:%s'>%s</span>" % (
                theme.ERROR_COLOR if errors else theme.WARNING_COLOR, self.problem.replace("\n", "<br>"))
        self.setToolTip(tooltip)
        self.update()

    # ------------------------------------------------------------------ geometry
    def boundingRect(self) -> QRectF:
        return QRectF(-4, -PORT_RADIUS - 4, WIDTH + 16, HEIGHT + 2 * PORT_RADIUS + 8)

    def shape(self) -> QPainterPath:
        return _block_shape(self.has_input_port)

    def input_port(self) -> QPointF:
        return self.mapToScene(QPointF(WIDTH / 2, 0))

    def output_port(self) -> QPointF:
        return self.mapToScene(QPointF(WIDTH / 2, HEIGHT))

    def near_output_port(self, scene_point: QPointF) -> bool:
        local = self.mapFromScene(scene_point)
        return (local - QPointF(WIDTH / 2, HEIGHT)).manhattanLength() <= PORT_RADIUS * 3

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = theme.family_color(getattr(self, "family", ""))
        body = QRectF(0, 0, WIDTH, HEIGHT)
        outline = QColor(theme.ERROR_COLOR) if self.severity == "error" else (
            QColor(theme.WARNING_COLOR) if self.severity == "warning" else accent.darker(115))
        selected = self.isSelected()
        painter.setPen(QPen(outline if self.severity or not selected else QColor("#FFB300"),
                            2.6 if (selected or self.severity == "error") else 1.2))
        painter.setBrush(theme.block_fill())
        painter.drawRoundedRect(body, 8, 8)

        header = QPainterPath()
        header.setFillRule(Qt.FillRule.WindingFill)  # the overlap of the two shapes must stay filled
        header.addRoundedRect(QRectF(0, 0, WIDTH, HEADER), 8, 8)
        header.addRect(QRectF(0, HEADER / 2, WIDTH, HEADER / 2))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawPath(header.simplified())

        title_font = QFont(painter.font())
        title_font.setBold(True)
        title_font.setPointSizeF(max(title_font.pointSizeF(), 9.0))
        painter.setFont(title_font)
        painter.setPen(QColor("white"))
        metrics = QFontMetrics(title_font)
        small = QFont(title_font)
        small.setBold(False)
        type_width = QFontMetrics(small).horizontalAdvance(self.type_name)
        # the layer's own name matters most: it keeps at least 55% of the header
        name_room = max(WIDTH * 0.55, WIDTH - type_width - 28)
        painter.drawText(QRectF(8, 0, name_room, HEADER), Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(self.name, Qt.TextElideMode.ElideRight, int(name_room)))
        painter.setFont(small)
        type_room = WIDTH - 16 - min(metrics.horizontalAdvance(self.name), name_room) - 10
        painter.drawText(QRectF(8, 0, WIDTH - 16, HEADER), Qt.AlignmentFlag.AlignVCenter
                         | Qt.AlignmentFlag.AlignRight,
                         QFontMetrics(small).elidedText(self.type_name, Qt.TextElideMode.ElideRight, int(type_room)))

        body_font = QFont(small)
        painter.setFont(body_font)
        painter.setPen(theme.text_color())
        body_metrics = QFontMetrics(body_font)
        settings = body_metrics.elidedText(self.settings or self.type_name, Qt.TextElideMode.ElideRight,
                                           int(WIDTH - 16))
        painter.drawText(QRectF(8, HEADER + 3, WIDTH - 16, 20), Qt.AlignmentFlag.AlignVCenter, settings)
        painter.setPen(theme.muted_text())
        painter.drawText(QRectF(8, HEADER + 25, WIDTH - 16, 20), Qt.AlignmentFlag.AlignVCenter, self.shape_text)
        if self.params_text:
            badge_width = body_metrics.horizontalAdvance(self.params_text) + 12
            badge = QRectF(WIDTH - badge_width - 6, HEADER + 27, badge_width, 17)
            fill = QColor(accent)
            fill.setAlpha(40)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(badge, 8, 8)
            painter.setPen(theme.text_color())
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, self.params_text)

        if self.severity:
            mark = QRectF(WIDTH - 9, -9, 18, 18)
            painter.setPen(QPen(QColor("white"), 1.5))
            painter.setBrush(QColor(theme.ERROR_COLOR if self.severity == "error" else theme.WARNING_COLOR))
            painter.drawEllipse(mark)
            bold = QFont(title_font)
            painter.setFont(bold)
            painter.drawText(mark, Qt.AlignmentFlag.AlignCenter, "!")

        painter.setPen(QPen(theme.block_fill(), 1.5))
        painter.setBrush(accent)
        if self.has_input_port:
            painter.drawEllipse(QPointF(WIDTH / 2, 0), PORT_RADIUS, PORT_RADIUS)
        painter.drawEllipse(QPointF(WIDTH / 2, HEIGHT), PORT_RADIUS, PORT_RADIUS)

    # ------------------------------------------------------------------ movement
    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.snap_to_grid:
            point = QPointF(value)
            return QPointF(round(point.x() / GRID) * GRID, round(point.y() / GRID) * GRID)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.refresh_path()
        return super().itemChange(change, value)
