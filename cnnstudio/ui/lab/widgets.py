"""Small widgets every lab page shares: a heat map that can be clicked and marked,
a colour scale with its minimum and maximum, a number grid (editable or not) and
the plain-words header each page starts with.

They only draw arrays the ``cnnstudio.lab`` computations return; no maths here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QSizePolicy, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from .. import theme
from ..training.colormap import LUT, colormap_rgb, grey_image, rgb_image, scale_to_unit

#: highlight colours, half transparent so they read on light and dark backgrounds
WINDOW_COLOR = QColor(255, 152, 0)      # orange: the window / footprint
CHOSEN_COLOR = QColor(229, 57, 53)      # red: the one cell a max took, the current output cell
PADDING_COLOR = QColor(128, 128, 128)   # grey: padded zeros


def number_text(value: float) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def header(title: str, text: str) -> QWidget:
    """The page title and a short explanation in plain words."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 4)
    heading = QLabel(title)
    font = heading.font()
    font.setPointSizeF(font.pointSizeF() + 4)
    font.setBold(True)
    heading.setFont(font)
    body = QLabel(text)
    body.setWordWrap(True)
    body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    layout.addWidget(heading)
    layout.addWidget(body)
    return box


def wrapped(text: str = "", selectable: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


@dataclass
class Mark:
    """A rectangle drawn over a heat map: rows ``top..bottom``, columns ``left..right`` (inclusive)."""

    top: int
    left: int
    bottom: int
    right: int
    color: QColor
    filled: bool = True


class HeatMap(QWidget):
    """Draws a 2-D array (colour map) or an image (grey ``(H, W)`` in [0, 1] / RGB ``(3, H, W)``),
    stretched to fit, with optional marks, grid lines and numbers in cells that are large enough.

    ``cellClicked(row, col)`` and ``cellHovered(row, col)`` report the cell under the mouse."""

    cellClicked = Signal(int, int)
    cellHovered = Signal(int, int)

    def __init__(self, parent=None, keep_aspect: bool = True, numbers: bool = True) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(80, 80)
        self.values: np.ndarray | None = None
        self.image: QImage | None = None
        self.keep_aspect = keep_aspect
        self.numbers = numbers
        self.grid_lines = True
        self.marks: list[Mark] = []
        self.placeholder = ""
        self.low = self.high = 0.0

    def sizeHint(self) -> QSize:
        return QSize(300, 300)

    # ------------------------------------------------------------------ content
    def set_values(self, values: np.ndarray | None, low: float | None = None, high: float | None = None) -> None:
        """A 2-D array drawn with the colour map (``low``/``high`` default to its min/max)."""
        self.values = None if values is None else np.asarray(values, dtype=np.float64)
        if self.values is None or not self.values.size:
            self.image = None
        else:
            self.low = float(self.values.min()) if low is None else low
            self.high = float(self.values.max()) if high is None else high
            self.image = rgb_image(colormap_rgb(scale_to_unit(self.values, self.low, self.high)))
        self.update()

    def set_picture(self, pixels: np.ndarray) -> None:
        """A grey ``(H, W)`` or colour ``(3, H, W)`` image with values in [0, 1]."""
        array = np.asarray(pixels, dtype=np.float64)
        self.values = array if array.ndim == 2 else array.mean(axis=0)
        self.low, self.high = 0.0, 1.0
        if array.ndim == 3 and array.shape[0] == 3:
            self.image = rgb_image((np.clip(array.transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8))
        else:
            self.image = grey_image(array if array.ndim == 2 else array[0])
        self.update()

    def set_marks(self, marks: list[Mark]) -> None:
        self.marks = list(marks)
        self.update()

    @property
    def shape(self) -> tuple[int, int]:
        return (0, 0) if self.image is None else (self.image.height(), self.image.width())

    # ------------------------------------------------------------------ geometry
    def target_rect(self) -> QRectF:
        rows, cols = self.shape
        if not rows:
            return QRectF()
        area = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        if not self.keep_aspect:
            return area
        scale = min(area.width() / cols, area.height() / rows)
        width, height = cols * scale, rows * scale
        return QRectF(area.x() + (area.width() - width) / 2, area.y() + (area.height() - height) / 2, width, height)

    def cell_rect(self, top: int, left: int, bottom: int | None = None, right: int | None = None) -> QRectF:
        rows, cols = self.shape
        target = self.target_rect()
        bottom = top if bottom is None else bottom
        right = left if right is None else right
        ch, cw = target.height() / rows, target.width() / cols
        return QRectF(target.x() + left * cw, target.y() + top * ch, (right - left + 1) * cw, (bottom - top + 1) * ch)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        rows, cols = self.shape
        target = self.target_rect()
        if not rows or not target.contains(x, y):
            return None
        row = int((y - target.y()) / target.height() * rows)
        col = int((x - target.x()) / target.width() * cols)
        return min(row, rows - 1), min(col, cols - 1)

    # ------------------------------------------------------------------ drawing
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), theme.canvas_background())
        if self.image is None:
            painter.setPen(theme.muted_text())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        target = self.target_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, self.image)
        rows, cols = self.shape
        cell_w, cell_h = target.width() / cols, target.height() / rows
        if self.grid_lines and min(cell_w, cell_h) >= 6:
            painter.setPen(QPen(theme.grid_dot(), 1))
            for r in range(rows + 1):
                y = target.y() + r * cell_h
                painter.drawLine(int(target.left()), int(y), int(target.right()), int(y))
            for c in range(cols + 1):
                x = target.x() + c * cell_w
                painter.drawLine(int(x), int(target.top()), int(x), int(target.bottom()))
        if self.numbers and self.values is not None and min(cell_w, cell_h) >= 22 and rows * cols <= 900:
            font = painter.font()
            font.setPointSizeF(max(6.5, min(11.0, cell_h / 3)))
            painter.setFont(font)
            unit = scale_to_unit(self.values, self.low, self.high)
            for r in range(rows):
                for c in range(cols):
                    painter.setPen(QColor("black") if unit[r, c] > 0.55 else QColor("white"))
                    painter.drawText(self.cell_rect(r, c), Qt.AlignmentFlag.AlignCenter, number_text(self.values[r, c]))
        for mark in self.marks:
            rect = self.cell_rect(mark.top, mark.left, mark.bottom, mark.right)
            if mark.filled:
                fill = QColor(mark.color)
                fill.setAlpha(90)
                painter.fillRect(rect, fill)
            painter.setPen(QPen(mark.color, 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)

    # ------------------------------------------------------------------ mouse
    def mouseMoveEvent(self, event) -> None:
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell is not None:
            self.cellHovered.emit(*cell)

    def mousePressEvent(self, event) -> None:
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell is not None:
            self.cellClicked.emit(*cell)



class ColorScale(QWidget):
    """The colour map as a bar with the shown minimum and maximum written at its ends."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.low = self.high = 0.0
        self.setFixedHeight(34)
        self.setMinimumWidth(120)

    def set_range(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self.update()

    @property
    def texts(self) -> tuple[str, str]:
        return f"min {self.low:.4g}", f"max {self.high:.4g}"

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        bar = QRectF(4, 2, self.width() - 8, 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for i in range(0, 256, 32):
            gradient.setColorAt(i / 255, QColor(*LUT[i]))
        gradient.setColorAt(1.0, QColor(*LUT[255]))
        painter.fillRect(bar, QBrush(gradient))
        painter.setPen(theme.text_color())
        low, high = self.texts
        text_rect = QRectF(4, 15, self.width() - 8, 18)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, low)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, high)


class HeatPanel(QWidget):
    """A titled heat map with its colour scale underneath."""

    def __init__(self, title: str = "", parent=None, scale: bool = True, keep_aspect: bool = True,
                 numbers: bool = True) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.title = QLabel(title)
        self.title.setWordWrap(True)
        self.map = HeatMap(keep_aspect=keep_aspect, numbers=numbers)
        self.scale = ColorScale()
        self.scale.setVisible(scale)
        layout.addWidget(self.title)
        layout.addWidget(self.map, 1)
        layout.addWidget(self.scale)

    @property
    def values(self) -> np.ndarray | None:
        return self.map.values

    def set_values(self, values: np.ndarray, title: str | None = None) -> None:
        self.map.set_values(values)
        self.scale.set_range(self.map.low, self.map.high)
        if title is not None:
            self.title.setText(title)

    def set_picture(self, pixels: np.ndarray, title: str | None = None) -> None:
        self.map.set_picture(pixels)
        self.scale.set_range(float(np.min(pixels)), float(np.max(pixels)))
        if title is not None:
            self.title.setText(title)


class NumberGrid(QTableWidget):
    """A small grid of numbers, editable or read-only, with per-cell highlight colours."""

    def __init__(self, editable: bool = False, cell: int = 34, parent=None) -> None:
        super().__init__(parent)
        self.cell = cell
        self.editable = editable
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers if editable
                             else QAbstractItemView.EditTrigger.NoEditTriggers)
        for head in (self.horizontalHeader(), self.verticalHeader()):
            head.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            head.setDefaultSectionSize(cell)
            head.setMinimumSectionSize(12)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)

    def set_array(self, array: np.ndarray, texts: list[list[str]] | None = None, locked: np.ndarray | None = None,
                  row_labels: list[str] | None = None, col_labels: list[str] | None = None) -> None:
        """Fill the grid; ``locked`` cells (e.g. padding) are never editable."""
        array = np.asarray(array)
        self.blockSignals(True)
        self.setRowCount(array.shape[0])
        self.setColumnCount(array.shape[1])
        for r in range(array.shape[0]):
            for c in range(array.shape[1]):
                text = texts[r][c] if texts is not None else number_text(array[r, c])
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                if self.editable and (locked is None or not locked[r, c]):
                    flags |= Qt.ItemFlag.ItemIsEditable
                item.setFlags(flags)
                self.setItem(r, c, item)
        self.setVerticalHeaderLabels(row_labels or [str(r) for r in range(array.shape[0])])
        self.setHorizontalHeaderLabels(col_labels or [str(c) for c in range(array.shape[1])])
        self.blockSignals(False)
        self.fit()

    def texts(self) -> list[list[str]]:
        return [[(self.item(r, c).text() if self.item(r, c) else "") for c in range(self.columnCount())]
                for r in range(self.rowCount())]

    def numbers(self) -> np.ndarray:
        """The shown cells as floats (empty cells are NaN)."""
        out = np.full((self.rowCount(), self.columnCount()), np.nan)
        for r, row in enumerate(self.texts()):
            for c, text in enumerate(row):
                try:
                    out[r, c] = float(text)
                except ValueError:
                    pass
        return out

    def paint(self, cells: dict[tuple[int, int], QColor]) -> None:
        """Background colours for some cells; every other cell is cleared."""
        self.blockSignals(True)
        for r in range(self.rowCount()):
            for c in range(self.columnCount()):
                item = self.item(r, c)
                if item is None:
                    continue
                color = cells.get((r, c))
                if color is None:
                    item.setData(Qt.ItemDataRole.BackgroundRole, None)
                else:
                    fill = QColor(color)
                    fill.setAlpha(110)
                    item.setBackground(fill)
        self.blockSignals(False)

    def fit(self) -> None:
        width = self.verticalHeader().sizeHint().width() + self.cell * self.columnCount() + 2 * self.frameWidth() + 2
        height = self.horizontalHeader().sizeHint().height() + self.cell * self.rowCount() + 2 * self.frameWidth() + 2
        self.setFixedSize(max(width, 60), max(height, 40))




def clear_layout(layout, keep: tuple[QWidget, ...] = ()) -> None:
    """Take every widget out of ``layout`` at once (hidden and unparented now, deleted later)."""
    while layout.count():
        widget = layout.takeAt(0).widget()
        if widget is not None and widget not in keep:
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()


class FollowsNetwork:
    """For pages that show the open network: an edit marks them stale, and they recompute when
    shown (or at once if visible), not on every keystroke while hidden. The page defines on_shown()."""

    def follow_network(self, document) -> None:
        self._stale = True
        document.analysisChanged.connect(self._mark_stale)

    def _mark_stale(self) -> None:
        self._stale = True
        if self.isVisible():
            self.on_shown()
