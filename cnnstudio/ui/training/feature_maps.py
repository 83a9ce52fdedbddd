"""Feature-map and filter viewers: every channel of a layer as a labelled mosaic
with a colour map and a shared or per-map scale. Hovering a map names the
channel and value and draws, on the input sample, the region that neuron sees."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import theme
from .colormap import colormap_rgb, rgb_image, sample_image, scale_to_unit

LABEL_HEIGHT = 14
GAP = 6


class MapMosaic(QWidget):
    """Draws ``maps`` (C, H, W) as a grid of colour-mapped tiles."""

    hovered = Signal(int, int, int, float)  # channel, row, column, value
    left = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.maps: np.ndarray | None = None
        self.tiles: list[QImage] = []
        self.shared_scale = True
        self.title = ""
        self._grid = (0, 0, 0.0)  # columns, rows, tile size in pixels

    def set_maps(self, maps: np.ndarray | None, title: str = "", rgb: bool = False) -> None:
        """``rgb``: tiles are (3, H, W) colour images (first-layer filters of colour inputs)."""
        self.maps = maps
        self.title = title
        self.tiles = []
        if maps is not None and len(maps):
            if rgb:
                self.tiles = [rgb_image((scale_to_unit(m) * 255).astype(np.uint8).transpose(1, 2, 0)) for m in maps]
            else:
                low, high = (float(maps.min()), float(maps.max())) if self.shared_scale else (None, None)
                self.tiles = [rgb_image(colormap_rgb(scale_to_unit(m, low, high))) for m in maps]
        self.update()

    def set_shared_scale(self, shared: bool) -> None:
        self.shared_scale = shared
        self.set_maps(self.maps, self.title)

    def sizeHint(self) -> QSize:
        return QSize(480, 360)

    def _layout(self) -> tuple[int, int, float]:
        count = len(self.tiles)
        if not count:
            return 0, 0, 0.0
        width, height = self.width() - GAP, self.height() - GAP
        aspect = self.tiles[0].height() / self.tiles[0].width()
        best = (1, count, 0.0)
        for columns in range(1, count + 1):
            rows = math.ceil(count / columns)
            size = min(width / columns - GAP, ((height / rows) - GAP - LABEL_HEIGHT) / aspect)
            if size > best[2]:
                best = (columns, rows, size)
        return best

    def tile_rect(self, index: int) -> QRectF:
        columns, _, size = self._grid
        aspect = self.tiles[0].height() / self.tiles[0].width()
        row, column = divmod(index, columns)
        x = GAP + column * (size + GAP)
        y = GAP + row * (size * aspect + GAP + LABEL_HEIGHT) + LABEL_HEIGHT
        return QRectF(x, y, size, size * aspect)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), theme.canvas_background())
        self._grid = self._layout()
        if not self.tiles:
            painter.setPen(theme.muted_text())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.title or "No feature maps yet")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        font = painter.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        painter.setFont(font)
        for index, tile in enumerate(self.tiles):
            rect = self.tile_rect(index)
            painter.drawImage(rect, tile)
            painter.setPen(theme.muted_text())
            painter.drawText(QRectF(rect.x(), rect.y() - LABEL_HEIGHT, rect.width(), LABEL_HEIGHT),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"#{index}")

    def map_at(self, point: QPointF) -> tuple[int, int, int] | None:
        for index in range(len(self.tiles)):
            rect = self.tile_rect(index)
            if rect.contains(point):
                _, height, width = self.maps.shape[:3] if self.maps.ndim == 3 else (0, *self.maps.shape[-2:])
                row = int((point.y() - rect.y()) / rect.height() * self.tiles[index].height())
                column = int((point.x() - rect.x()) / rect.width() * self.tiles[index].width())
                return index, min(row, self.tiles[index].height() - 1), min(column, self.tiles[index].width() - 1)
        return None

    def mouseMoveEvent(self, event) -> None:
        found = self.map_at(event.position()) if self.tiles else None
        if found is None:
            self.left.emit()
            return
        channel, row, column = found
        value = float(self.maps[channel][..., row, column]) if self.maps.ndim == 3 else float("nan")
        self.hovered.emit(channel, row, column, value)

    def leaveEvent(self, event) -> None:
        self.left.emit()


class SampleView(QWidget):
    """The input sample, with the receptive-field region of the hovered neuron drawn on it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.region: tuple[tuple[int, int], tuple[int, int]] | None = None
        self.caption = ""
        self.setMinimumSize(140, 160)

    def set_sample(self, sample: np.ndarray | None, caption: str = "") -> None:
        self.image = sample_image(sample) if sample is not None else None
        self.caption = caption
        self.region = None
        self.update()

    def set_region(self, region) -> None:
        self.region = region
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), theme.canvas_background())
        if self.image is None:
            return
        side = min(self.width() - 8, self.height() - 28)
        target = QRectF((self.width() - side) / 2, 4, side, side)
        painter.drawImage(target, self.image)
        if self.region is not None:
            (top, bottom), (left, right) = self.region
            scale_y = side / self.image.height()
            scale_x = side / self.image.width()
            painter.setPen(QPen(QColor("#FFB300"), 2))
            painter.drawRect(QRectF(target.x() + left * scale_x, target.y() + top * scale_y,
                                    (right - left + 1) * scale_x, (bottom - top + 1) * scale_y))
        painter.setPen(theme.text_color())
        painter.drawText(QRectF(0, side + 6, self.width(), 20), Qt.AlignmentFlag.AlignCenter, self.caption)
