"""The trials of a study as a sortable, filterable table: number, state, the swept
values, the objective, parameters, MACs, training time and run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QFont

from cnnstudio.training.sweeps.space import format_value
from cnnstudio.training.sweeps.study import TrialRow

from .. import theme

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_COLORS = {"complete": "#43A047", "pruned": "#FB8C00", "failed": theme.ERROR_COLOR, "stopped": "#757575",
                "running": "#1E88E5"}


class TrialsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[TrialRow] = []
        self.names: list[str] = []
        self.metric = "score"
        self.front: set[int] = set()

    # ------------------------------------------------------------------ filling
    def set_study(self, names: list[str], metric: str, rows: list[TrialRow]) -> None:
        self.beginResetModel()
        self.names, self.metric, self.rows = list(names), metric, list(rows)
        self.endResetModel()

    def upsert(self, row: TrialRow) -> None:
        """A trial started or ended: add its row or replace the one with its number."""
        for index, existing in enumerate(self.rows):
            if existing.number == row.number:
                self.rows[index] = row
                self.dataChanged.emit(self.index(index, 0), self.index(index, self.columnCount() - 1))
                return
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
        self.rows.append(row)
        self.endInsertRows()

    def set_front(self, numbers: set[int]) -> None:
        self.front = set(numbers)
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, self.columnCount() - 1))

    def row_for(self, number: int) -> int | None:
        return next((i for i, row in enumerate(self.rows) if row.number == number), None)

    # ------------------------------------------------------------------ the table
    def headers(self) -> list[str]:
        return ["#", "state", *self.names, self.metric, "params", "MACs", "time (s)", "run"]

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers())

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers()[section]
        return None

    def _cell(self, row: TrialRow, column: int) -> tuple[str, Any]:
        """(text, sort key) of one cell."""
        values = len(self.names)
        if column == 0:
            return str(row.number), row.number
        if column == 1:
            return row.state, row.state
        if column < 2 + values:
            value = row.values.get(self.names[column - 2])
            return ("" if value is None else format_value(value)), _sortable(value)
        extra = column - 2 - values
        if extra == 0:
            return ("" if row.score is None else f"{row.score:.4f}"), _sortable(row.score)
        if extra == 1:
            return ("" if row.params is None else f"{row.params:,}"), _sortable(row.params)
        if extra == 2:
            return ("" if row.macs is None else f"{row.macs:,}"), _sortable(row.macs)
        if extra == 3:
            return ("" if row.seconds is None else f"{row.seconds:.2f}"), _sortable(row.seconds)
        name = Path(row.run).name if row.run else ""
        return name, name

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(row, column)[0]
        if role == SORT_ROLE:
            return self._cell(row, column)[1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.message or ("on the Pareto front" if row.number in self.front else None)
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QColor(STATE_COLORS.get(row.state, "#757575"))
        if role == Qt.ItemDataRole.FontRole and row.number in self.front:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column not in (1, self.columnCount() - 1):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _sortable(value: Any) -> Any:
    """Numbers sort as numbers, empty cells last, anything else as text."""
    if value is None:
        return float("inf")
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, (int, float)) else str(value)


class TrialsFilter(QSortFilterProxyModel):
    """Sorts by the cells' values; keeps the rows whose text contains the filter (in any
    column) and whose state is the chosen one."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.state = ""
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)

    def set_state(self, state: str) -> None:
        self.state = state
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        model = self.sourceModel()
        if self.state and model.rows[source_row].state != self.state:
            return False
        return super().filterAcceptsRow(source_row, source_parent)

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return str(a) < str(b)
        return a < b


__all__ = ["TrialsFilter", "TrialsModel"]
