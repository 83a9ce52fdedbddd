"""Training-health marks on the blocks: a small round mark with a pulse line at a
block's top-left corner when the last run found a problem in that layer (dead
ReLUs, vanishing gradients, non-finite values...); its tooltip tells the finding.

Kept apart from the block items: a mark is a child item of the block that shows
the layer (the group block when the layer is inside a collapsed group), so it
moves with it, and ``show_health_marks`` replaces them all when another run's
findings arrive.  The findings are ``training.health.Finding.to_json()`` dicts.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from .. import theme

SIZE = 18


class HealthMark(QGraphicsItem):
    """The mark on one block; ``findings`` are the findings that name its layer(s)."""

    def __init__(self, block: QGraphicsItem, findings: list[dict]) -> None:
        super().__init__(block)
        self.findings = findings
        self.severity = "error" if any(f.get("severity") == "error" for f in findings) else "warning"
        self.setPos(-SIZE / 2, -SIZE / 2)
        self.setZValue(2)
        self.setToolTip("<br><br>".join(f"<b>Training: {html.escape(str(f.get('title', '')))}</b><br>"
                                        f"{html.escape(str(f.get('cause', '')))}<br><i>Fix: "
                                        f"{html.escape(str(f.get('fix', '')))}</i>" for f in findings))

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, SIZE, SIZE)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(QColor(theme.ERROR_COLOR if self.severity == "error" else theme.WARNING_COLOR))
        painter.drawEllipse(self.boundingRect().adjusted(1, 1, -1, -1))
        # a pulse line: this is about how the layer trained, not about how it is wired
        middle = SIZE / 2
        painter.drawPolyline([QPointF(3.5, middle), QPointF(6.5, middle), QPointF(8, middle - 4.5),
                              QPointF(10, middle + 4.5), QPointF(11.5, middle), QPointF(14.5, middle)])


def show_health_marks(scene, findings: list[dict]) -> list[HealthMark]:
    """Put a mark on each block whose layer a finding names, replacing the marks shown before;
    returns the new marks.  ``scene`` is the ``NetworkScene``."""
    for mark in [item for item in scene.items() if isinstance(item, HealthMark)]:
        scene.removeItem(mark)
    network = scene.document.network
    by_block: dict[int, tuple[QGraphicsItem, list[dict]]] = {}
    for finding in findings:
        for layer in finding.get("layers") or ():
            node = network.node_by_name(str(layer))
            if node is None or node.id not in scene.nodes:
                continue
            block = scene.item_showing(node.id)
            entry = by_block.setdefault(id(block), (block, []))
            if finding not in entry[1]:
                entry[1].append(finding)
    return [HealthMark(block, block_findings) for block, block_findings in by_block.values()]


__all__ = ["HealthMark", "show_health_marks"]
