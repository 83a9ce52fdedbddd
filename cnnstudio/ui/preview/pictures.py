"""A layer's preview as a small picture: a colour-mapped channel mosaic for image outputs,
a bar strip for flat ones.  Shared by the canvas thumbnails and the inspector."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from cnnstudio.lab.preview import LayerPreview, bar_values, channel_mosaic

from .. import theme
from ..training.colormap import colormap_rgb, rgb_image, scale_to_unit

POSITIVE = QColor("#26A69A")
NEGATIVE = QColor("#EF5350")


def mosaic_image(layer: LayerPreview, max_channels: int = 16) -> QImage:
    """The first ``max_channels`` maps on one shared colour scale; gaps in the canvas colour."""
    mosaic = channel_mosaic(layer.maps(), max_channels)
    gaps = np.isnan(mosaic)
    values = np.where(gaps, 0.0, mosaic)
    shown = values[~gaps]
    low, high = (float(shown.min()), float(shown.max())) if shown.size else (0.0, 0.0)
    rgb = colormap_rgb(scale_to_unit(values, low, high))
    background = theme.canvas_background()
    rgb[gaps] = (background.red(), background.green(), background.blue())
    return rgb_image(rgb)


def draw_bars(painter: QPainter, rect: QRectF, values: np.ndarray, max_bars: int = 48) -> None:
    """``values`` as bars from a zero line, positive up in teal and negative down in red."""
    bars = bar_values(values, max_bars)
    if not bars.size:
        return
    top, bottom = max(float(bars.max()), 0.0), min(float(bars.min()), 0.0)
    span = (top - bottom) or 1.0
    zero_y = rect.top() + rect.height() * top / span
    width = rect.width() / len(bars)
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    for index, value in enumerate(bars):
        height = rect.height() * abs(float(value)) / span
        painter.setBrush(POSITIVE if value >= 0 else NEGATIVE)
        y = zero_y - height if value >= 0 else zero_y
        painter.drawRect(QRectF(rect.left() + index * width + 0.5, y, max(width - 1.0, 0.8), max(height, 0.5)))
    painter.setPen(theme.muted_text())
    painter.drawLine(rect.left(), zero_y, rect.right(), zero_y)
    painter.restore()


def fitted(rect: QRectF, width: int, height: int) -> QRectF:
    """The largest rectangle of ``width:height`` centred in ``rect``."""
    scale = min(rect.width() / max(width, 1), rect.height() / max(height, 1))
    w, h = width * scale, height * scale
    return QRectF(rect.center().x() - w / 2, rect.center().y() - h / 2, w, h)
