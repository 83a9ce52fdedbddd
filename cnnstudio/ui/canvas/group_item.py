"""Group blocks on the canvas: a collapsed group is one block (``GroupBlockItem``) that
stands for all its layers; an expanded one is a frame (``GroupFrameItem``) behind them
whose header names it.  Both mirror the document and its analysis, never edit them."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from cnnstudio.core.group_layout import FRAME_SIDE, FRAME_TOP, Rect
from cnnstudio.core.group_summary import GroupSummary
from cnnstudio.core.layers.base import format_shape

from .. import theme
from .node_item import HEADER, HEIGHT, WIDTH, BlockItem

GROUP_COLOR = "#455A64"
HEADER_HEIGHT = FRAME_TOP - 6


def _shapes_text(summary: GroupSummary | None, order: str) -> str:
    if summary is None:
        return ""
    inputs = ", ".join(format_shape(s, order) for s in summary.input_shapes) or "–"
    return f"{inputs} → {format_shape(summary.output_shape, order)}"


def _size_text(summary: GroupSummary | None) -> str:
    if summary is None:
        return ""
    return f"{summary.layers} layers · {summary.params:,} params"


class GroupBlockItem(BlockItem):
    """A collapsed group: its name and kind, the shapes it takes and gives, its layer and
    parameter totals; drawn as a stack of cards so it reads as "several blocks in one"."""

    def __init__(self, group_id: str) -> None:
        super().__init__()
        self.group_id = group_id
        self.kind = ""
        self.shape_text = ""
        self.size_text = ""
        self.problem = ""
        self._shown: tuple | None = None

    def update_from(self, name: str, kind: str, summary: GroupSummary | None, order: str) -> None:
        key = (name, kind, summary, order)
        if key == self._shown:
            return
        self._shown = key
        self.name, self.kind = name, kind
        self.shape_text = _shapes_text(summary, order)
        self.size_text = _size_text(summary)
        errors, warnings = (summary.errors, summary.warnings) if summary else ((), ())
        self.severity = "error" if errors else "warning" if warnings else ""
        self.problem = "\n".join(errors or warnings)
        tooltip = (f"<b>{name}</b> ({kind})<br>{self.size_text}<br>{self.shape_text}<br>"
                   "<i>Double-click to open it in place.</i>")
        if self.problem:
            color = theme.ERROR_COLOR if errors else theme.WARNING_COLOR
            tooltip += f"<br><br><span style='color:{color}'>{self.problem.replace(chr(10), '<br>')}</span>"
        self.setToolTip(tooltip)
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = QColor(GROUP_COLOR)
        for offset in (6.0, 3.0):  # the cards behind
            painter.setPen(QPen(accent.lighter(140), 1.0))
            painter.setBrush(theme.block_fill())
            painter.drawRoundedRect(QRectF(offset, -offset, WIDTH, HEIGHT), 8, 8)
        title, small = self.paint_card(painter, accent, accent)
        self.paint_header_text(painter, "▸ " + self.name, self.kind, title, small)
        body = QFontMetrics(small)
        painter.setPen(theme.text_color())
        painter.drawText(QRectF(8, HEADER + 3, WIDTH - 16, 20), Qt.AlignmentFlag.AlignVCenter,
                         body.elidedText(self.shape_text, Qt.TextElideMode.ElideMiddle, int(WIDTH - 16)))
        painter.setPen(theme.muted_text())
        painter.drawText(QRectF(8, HEADER + 25, WIDTH - 16, 20), Qt.AlignmentFlag.AlignVCenter,
                         body.elidedText(self.size_text, Qt.TextElideMode.ElideRight, int(WIDTH - 16)))
        self.paint_problem_mark(painter, title)
        self.paint_ports(painter, accent)

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(0, -8, 8, 0)  # the cards behind stick out


class GroupFrameItem(QGraphicsObject):
    """An expanded group: a tinted frame behind its blocks, with a header to select it (and so
    all its layers) or double-click it closed.  Only the header takes clicks."""

    def __init__(self, group_id: str, depth: int) -> None:
        super().__init__()
        self.group_id = group_id
        self.name = ""
        self.kind = ""
        self.size_text = ""
        self.severity = ""
        self._rect = QRectF()
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-10 + depth)  # nested frames above the frames around them, all behind wires
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # Qt caches only what is in view
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_rect(self, rect: Rect) -> None:
        new = QRectF(rect.x, rect.y, rect.width, rect.height)
        if new != self._rect:
            self.prepareGeometryChange()
            self._rect = new

    def update_from(self, name: str, kind: str, summary: GroupSummary | None) -> None:
        shown = (name, kind, _size_text(summary), "error" if summary and summary.errors else "")
        if shown == (self.name, self.kind, self.size_text, self.severity):
            return  # a frame is large: repainting it would repaint every block inside
        border_changed = shown[3] != self.severity
        self.name, self.kind, self.size_text, self.severity = shown
        self.setToolTip(f"<b>{name}</b> ({kind})<br>{self.size_text}<br><i>Double-click the header to close it.</i>")
        self.update(self.boundingRect() if border_changed else self.header_rect())

    def header_rect(self) -> QRectF:
        return QRectF(self._rect.x(), self._rect.y(), self._rect.width(), HEADER_HEIGHT)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.header_rect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = QColor(GROUP_COLOR)
        fill = QColor(accent)
        fill.setAlpha(18)
        border = QColor("#FFB300") if self.isSelected() else (
            QColor(theme.ERROR_COLOR) if self.severity else accent.lighter(130))
        painter.setPen(QPen(border, 2.2 if self.isSelected() else 1.2, Qt.PenStyle.DashLine))
        painter.setBrush(fill)
        painter.drawRoundedRect(self._rect, 10, 10)
        header = self.header_rect()
        band = QColor(accent)
        band.setAlpha(200)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(band)
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.WindingFill)
        path.addRoundedRect(header, 10, 10)
        path.addRect(header.adjusted(0, header.height() / 2, 0, 0))
        painter.drawPath(path.simplified())
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        text_rect = header.adjusted(FRAME_SIDE - 4, 0, -FRAME_SIDE, 0)
        metrics = QFontMetrics(font)
        label = f"▾ {self.name}"
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, label)
        small = QFont(font)
        small.setBold(False)
        painter.setFont(small)
        detail = f"{self.kind} · {self.size_text}"
        room = int(text_rect.width() - metrics.horizontalAdvance(label) - 12)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                         QFontMetrics(small).elidedText(detail, Qt.TextElideMode.ElideRight, max(room, 0)))

    def contains_header(self, point: QPointF) -> bool:
        return self.header_rect().contains(point)
