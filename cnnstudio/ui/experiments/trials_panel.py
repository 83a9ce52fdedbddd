"""The trials' table with its filter and the actions on the selected trial."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QTableView, QVBoxLayout, QWidget)

from cnnstudio.training.sweeps.study import RUNNING, TrialRow

from .trials_table import TrialsFilter, TrialsModel

STATES = ("", "complete", "pruned", "failed", "stopped", "running")


class TrialsPanel(QWidget):
    """``selectionChanged`` fires when another trial (or none) is selected."""

    selectionChanged = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = TrialsModel(self)
        self.proxy = TrialsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter trials (any column)…")
        self.filter_edit.setClearButtonEnabled(True)
        self.state_box = QComboBox()
        for state in STATES:
            self.state_box.addItem(state or "all states", state)
        self.open_button = QPushButton("Open as run")
        self.open_button.setToolTip("Show the trial's run in the Train tab (feature maps, results, export)")
        self.apply_button = QPushButton("Apply to project")
        self.apply_button.setToolTip("Give the project this trial's settings and network (one undoable edit)")
        self.note = QLabel()
        self.note.setWordWrap(True)
        tools = QHBoxLayout()
        tools.addWidget(self.filter_edit, 1)
        tools.addWidget(self.state_box)
        tools.addWidget(self.open_button)
        tools.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.state_box.currentIndexChanged.connect(lambda _i: self.proxy.set_state(self.state_box.currentData()))
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self._on_selection()

    def selected_row(self) -> TrialRow | None:
        indexes = self.table.selectionModel().selectedRows()
        return self.model.rows[self.proxy.mapToSource(indexes[0]).row()] if indexes else None

    def selected_number(self) -> int | None:
        row = self.selected_row()
        return row.number if row is not None else None

    def select_trial(self, number: int) -> None:
        source = self.model.row_for(number)
        if source is None:
            return
        index = self.proxy.mapFromSource(self.model.index(source, 0))
        if index.isValid():
            self.table.selectRow(index.row())
            self.table.scrollTo(index)

    def _on_selection(self, *_args) -> None:
        row = self.selected_row()
        self.open_button.setEnabled(bool(row and row.run))
        self.apply_button.setEnabled(row is not None and bool(row.values) and row.state != RUNNING)
        self.note.setText(row.message if row is not None else "")
        self.selectionChanged.emit()


__all__ = ["TrialsPanel"]
