"""Colours and sizes shared by every widget: one accent colour per layer family,
used the same way in the palette, on blocks and in the summary."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

FAMILY_COLORS = {
    "Input": "#546E7A",
    "Convolution": "#1E88E5",
    "Pooling": "#00897B",
    "Core": "#8E24AA",
    "Normalization": "#6D4C41",
    "Activation": "#43A047",
    "Merge": "#D81B60",
}
ERROR_COLOR = "#E53935"
WARNING_COLOR = "#FB8C00"


def family_color(family: str) -> QColor:
    return QColor(FAMILY_COLORS.get(family, "#757575"))


def is_dark() -> bool:
    palette = QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def block_fill() -> QColor:
    return QColor("#2B2F36") if is_dark() else QColor("#FFFFFF")


def canvas_background() -> QColor:
    return QColor("#1E2126") if is_dark() else QColor("#F4F5F7")


def grid_dot() -> QColor:
    return QColor("#3A3F47") if is_dark() else QColor("#C9CDD3")


def text_color() -> QColor:
    return QGuiApplication.palette().color(QPalette.ColorRole.WindowText)


def muted_text() -> QColor:
    color = text_color()
    color.setAlpha(170)
    return color
