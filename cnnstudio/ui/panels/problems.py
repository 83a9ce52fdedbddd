"""The problems list: every diagnostic of the analysis, with its fix; clicking
one selects the block it belongs to."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle

from .. import theme
from ..document import NetworkDocument

NODE_ROLE = Qt.ItemDataRole.UserRole + 1


class ProblemsPanel(QListWidget):
    nodesSelected = Signal(list)
    countChanged = Signal(int, int)  # errors, warnings

    def __init__(self, document: NetworkDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.itemClicked.connect(self._on_click)
        document.analysisChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.clear()
        diagnostics = self.document.analysis.diagnostics
        errors = sum(d.is_error for d in diagnostics)
        for diagnostic in sorted(diagnostics, key=lambda d: not d.is_error):
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical if diagnostic.is_error
                                             else QStyle.StandardPixmap.SP_MessageBoxWarning)
            item = QListWidgetItem(icon, diagnostic.text)
            item.setData(NODE_ROLE, diagnostic.node_id)
            item.setToolTip(diagnostic.text)
            if diagnostic.is_error:
                item.setForeground(QBrush(QColor(theme.ERROR_COLOR)))
            self.addItem(item)
        if not diagnostics:
            item = QListWidgetItem("No problems: every layer fits its input.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)
        self.countChanged.emit(errors, len(diagnostics) - errors)

    def messages(self) -> list[str]:
        return [d.text for d in self.document.analysis.diagnostics]

    def _on_click(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.nodesSelected.emit([node_id])
