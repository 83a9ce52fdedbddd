"""The summary table as a Qt model: rows come from ``core.summary``; only rows
whose text changed are announced, so an edit on a 300-layer network repaints
what is visible instead of rewriting every cell."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from cnnstudio.core.layers import spec_for
from cnnstudio.core.layers.base import format_shape
from cnnstudio.core.summary import SummaryRow, human_count

from .. import theme

COLUMNS = ("Layer", "Type", "Output shape", "Params", "MACs")
Index = QModelIndex | QPersistentModelIndex


class SummaryModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[SummaryRow] = []
        self._cells: list[tuple[str, ...]] = []
        self.order = "torch"

    def _texts(self, row: SummaryRow) -> tuple[str, ...]:
        return (row.path or row.name, row.type, format_shape(row.output_shape, self.order), f"{row.params:,}",
                human_count(row.macs) if row.macs else "0")

    def set_rows(self, rows: list[SummaryRow]) -> None:
        cells = [self._texts(r) for r in rows]
        if len(rows) != len(self._rows) or [r.node_id for r in rows] != [r.node_id for r in self._rows]:
            self.beginResetModel()
            self._rows, self._cells = rows, cells
            self.endResetModel()
            return
        changed = [i for i, (old, new, a, b) in enumerate(zip(self._cells, cells, self._rows, rows))
                   if old != new or a.problem != b.problem]
        self._rows, self._cells = rows, cells
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(COLUMNS) - 1))

    def node_id(self, row: int) -> str:
        return self._rows[row].node_id

    def row_of(self, node_id: str) -> int | None:
        for index, row in enumerate(self._rows):
            if row.node_id == node_id:
                return index
        return None

    # ------------------------------------------------------------------ Qt model API
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[index.row()][column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 1:
                return QBrush(theme.family_color(spec_for(row.type).family))
            if row.problem:
                return QBrush(QColor(theme.ERROR_COLOR))
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.problem or f"{row.name} ({row.type})"
        return None
