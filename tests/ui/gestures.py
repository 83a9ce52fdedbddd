"""Gestures that QTest cannot make by itself: a drag from the palette, as the events
the canvas receives (enter, move, drop) at one viewport point."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from cnnstudio.ui.canvas.view import LAYER_MIME


def drag_events(mime: QMimeData, point: QPointF):
    action, button, keys = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    return (QDragEnterEvent(point.toPoint(), action, mime, button, keys),
            QDragMoveEvent(point.toPoint(), action, mime, button, keys),
            QDropEvent(point, action, mime, button, keys))


def drop_from_palette(view, type_name: str, point: QPointF) -> None:
    """Drag ``type_name`` from the palette and let go at viewport ``point``."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, type_name.encode("utf-8"))
    for event in drag_events(mime, point):
        QApplication.sendEvent(view.viewport(), event)
        assert event.isAccepted()
