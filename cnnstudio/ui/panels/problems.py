"""The problems list: every diagnostic of the analysis, with its fix, then the
training-health findings of the last run (``training.health``); clicking one
selects the block it belongs to."""

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
        self.training_findings: list[dict] = []   # Finding.to_json() of the run shown
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
        for finding in self.training_findings:
            self.addItem(self._finding_item(finding))
        if not diagnostics and not self.training_findings:
            item = QListWidgetItem("No problems: every layer fits its input.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)
        training_errors = sum(f.get("severity") == "error" for f in self.training_findings)
        self.countChanged.emit(errors + training_errors,
                               len(diagnostics) - errors + len(self.training_findings) - training_errors)

    def show_training_findings(self, findings: list[dict]) -> None:
        """The training-health findings of the run just made (or chosen) join the list."""
        self.training_findings = list(findings)
        self.refresh()

    def _finding_item(self, finding: dict) -> QListWidgetItem:
        from cnnstudio.training.health import Finding

        shown = Finding.from_json(finding)
        error = shown.severity == "error"
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical if error
                                         else QStyle.StandardPixmap.SP_MessageBoxWarning)
        item = QListWidgetItem(icon, f"Training: {shown.text()}")
        node = self.document.network.node_by_name(shown.layer) if shown.layer else None
        item.setData(NODE_ROLE, node.id if node is not None else None)
        item.setToolTip(shown.text())
        if error:
            item.setForeground(QBrush(QColor(theme.ERROR_COLOR)))
        return item

    def messages(self) -> list[str]:
        return [d.text for d in self.document.analysis.diagnostics]

    def training_messages(self) -> list[str]:
        return [self.item(row).text() for row in range(self.count()) if self.item(row).text().startswith("Training")]

    def _on_click(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.nodesSelected.emit([node_id])
