"""The preview beside a block: a small picture of the layer's output and its statistics.

A child item of the block, so it moves with it and leaves the block's own painting alone;
clicks pass through it (it is not part of the block's shape), its tooltip has the figures."""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from cnnstudio.core.layout import BLOCK_HEIGHT, BLOCK_WIDTH
from cnnstudio.lab.preview import LayerPreview

from .. import theme
from .pictures import draw_bars, fitted, mosaic_image

PICTURE = 58.0
GAP = 8.0
TEXT_WIDTH = 92.0


class PreviewThumbnail(QGraphicsItem):
    """Right of its block: the channel mosaic (or bar strip) and mean ± std, zeros, range."""

    def __init__(self, block: QGraphicsItem) -> None:
        super().__init__(block)
        self.layer: LayerPreview | None = None
        self.image: QImage | None = None
        self.lines: tuple[str, ...] = ()
        self.setPos(BLOCK_WIDTH + GAP, (BLOCK_HEIGHT - PICTURE) / 2)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_layer(self, layer: LayerPreview) -> None:
        self.layer = layer
        self.image = None if layer.is_flat else mosaic_image(layer)
        stats = layer.stats
        self.lines = (f"μ {stats.mean:.3g} ± {stats.std:.3g}", f"zeros {stats.zero_share:.0%}",
                      f"[{stats.minimum:.3g}, {stats.maximum:.3g}]")
        shape = "x".join(str(d) for d in layer.values.shape)
        shown = "" if layer.is_flat or layer.maps().shape[0] <= 16 else " (first 16 channels)"
        self.setToolTip(f"<b>Live preview of {html.escape(layer.name)}</b>: {shape}{shown}<br>"
                        f"{html.escape(stats.text())}")
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, PICTURE + 6 + TEXT_WIDTH, PICTURE)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self.layer is None:
            return
        frame = QRectF(0, 0, PICTURE, PICTURE)
        painter.setPen(QPen(theme.muted_text(), 0.8))
        painter.setBrush(theme.block_fill())
        painter.drawRoundedRect(frame, 4, 4)
        inner = frame.adjusted(3, 3, -3, -3)
        if self.image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(fitted(inner, self.image.width(), self.image.height()), self.image)
        else:
            draw_bars(painter, inner, self.layer.values)
        font = QFont(painter.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() - 2))
        painter.setFont(font)
        painter.setPen(theme.muted_text())
        for row, line in enumerate(self.lines):
            painter.drawText(QRectF(PICTURE + 6, 4 + row * 17, TEXT_WIDTH, 16),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, line)


def show_preview(block: QGraphicsItem, layer: LayerPreview | None) -> None:
    """Give ``block`` a thumbnail of ``layer``, or take it away (``None``)."""
    thumbnail = next((child for child in block.childItems() if isinstance(child, PreviewThumbnail)), None)
    if layer is None:
        if thumbnail is not None:
            thumbnail.setParentItem(None)
            if thumbnail.scene() is not None:
                thumbnail.scene().removeItem(thumbnail)
        return
    if thumbnail is None:
        thumbnail = PreviewThumbnail(block)
    thumbnail.set_layer(layer)


def thumbnail_of(block: QGraphicsItem) -> PreviewThumbnail | None:
    return next((child for child in block.childItems() if isinstance(child, PreviewThumbnail)), None)
