"""The palette: every layer type of the catalog, grouped by family, searchable.
Drag an entry onto the canvas, or double-click it to append after the selection."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import (QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from cnnstudio.core.layers import by_family

from ..canvas.view import LAYER_MIME
from ..icons import family_icon

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


class LayerTree(QTreeWidget):
    def startDrag(self, actions) -> None:
        item = self.currentItem()
        type_name = item.data(0, TYPE_ROLE) if item else None
        if not type_name:
            return
        mime = QMimeData()
        mime.setData(LAYER_MIME, type_name.encode("utf-8"))
        mime.setText(type_name)
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(item.icon(0).pixmap(24, 24))
        drag.exec(Qt.DropAction.CopyAction)


class PalettePanel(QWidget):
    appendRequested = Signal(str)  # a layer type to add after the selected block

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter the layer types by name or description")
        self.tree = LayerTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setIndentation(12)
        self.tree.setRootIsDecorated(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._fill()
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._on_double_click)

    def _fill(self) -> None:
        for family, specs in by_family().items():
            group = QTreeWidgetItem([family])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            group.setIcon(0, family_icon(family))
            self.tree.addTopLevelItem(group)
            for spec in specs:
                item = QTreeWidgetItem([spec.type_name])
                item.setData(0, TYPE_ROLE, spec.type_name)
                item.setIcon(0, family_icon(family))
                item.setToolTip(0, f"<b>{spec.type_name}</b> ({family})<br>{spec.summary}<br><br>"
                                   "<i>Drag onto the canvas, or double-click to append after the selection.</i>")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                group.addChild(item)
            group.setExpanded(True)

    def filter(self, text: str) -> None:
        needle = text.strip().lower()
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            visible = 0
            for child_index in range(group.childCount()):
                child = group.child(child_index)
                match = not needle or needle in child.text(0).lower() or needle in child.toolTip(0).lower()
                child.setHidden(not match)
                visible += match
            group.setHidden(visible == 0)

    def _on_double_click(self, item: QTreeWidgetItem) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.appendRequested.emit(type_name)
