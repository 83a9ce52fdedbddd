"""Defining an experiment: a table of swept settings and their values, and the
objective and budget.

Fields are offered from the open network's layers (the Inspector's parameters
that a sweep can vary, and whether a block is present) and from the training
settings; each row's spec is checked as it is typed, with the reason shown
beside it.  The editor only reads and writes the project's ``experiments``
object (as a plain dict): the view stores it through an undoable command.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QHeaderView, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from cnnstudio.core.network import Network
from cnnstudio.training.sweeps.experiment import DEFAULT_NAME, METRICS, PRUNERS, SAMPLERS
from cnnstudio.training.sweeps.fields import TRAINING, describe, suggest_spec, sweepable_fields

from .. import theme

NAME, SPEC, PROBLEM = range(3)
DEFAULT_TRIALS = 10


class SpaceEditor(QWidget):
    """``changed`` fires after every edit the user makes; ``experiments()`` is the result."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.network: Network | None = None
        self.training: dict | None = None
        self.num_classes: int | None = None
        self._applying = False
        self._extra: dict[str, Any] = {}      # fields of the stored object this editor does not show

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Setting", "Values", "Problem"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SPEC, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(SPEC, 140)
        self.table.setToolTip("Values: a range LOW..HIGH (add :log for a log scale or :step=S), or choices A,B,C")
        self.owner_box = QComboBox()
        self.owner_box.setToolTip("A layer of the network, or the training settings")
        self.field_box = QComboBox()
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        adder = QHBoxLayout()
        adder.addWidget(self.owner_box, 1)
        adder.addWidget(self.field_box, 1)
        adder.addWidget(self.add_button)
        adder.addWidget(self.remove_button)
        space_box = QGroupBox("Search space")
        space_layout = QVBoxLayout(space_box)
        space_layout.addWidget(self.table, 1)
        space_layout.addLayout(adder)

        self.study_box = QComboBox()
        self.study_box.setEditable(True)
        self.study_box.setToolTip("The study's name: running it again carries it on; a new name starts a new one")
        self.objective_box = QComboBox()
        self.objective_box.addItems(METRICS)
        self.direction_box = QComboBox()
        self.direction_box.addItems(["maximize", "minimize"])
        self.trials_box = QSpinBox()
        self.trials_box.setRange(1, 100_000)
        self.trials_box.setToolTip("How many trials the study should hold; a carried-on study runs the rest")
        self.timeout_box = QDoubleSpinBox()
        self.timeout_box.setRange(0, 1e7)
        self.timeout_box.setDecimals(0)
        self.timeout_box.setSuffix(" s")
        self.timeout_box.setSpecialValueText("no limit")
        self.timeout_box.setToolTip("Start no trial after this long")
        self.sampler_box = QComboBox()
        self.sampler_box.addItems(SAMPLERS)
        self.pruner_box = QComboBox()
        self.pruner_box.addItems(PRUNERS)
        budget_box = QGroupBox("Objective and budget")
        form = QFormLayout(budget_box)
        form.addRow("Study", self.study_box)
        form.addRow("Objective", self.objective_box)
        form.addRow("Direction", self.direction_box)
        form.addRow("Trials", self.trials_box)
        form.addRow("Time budget", self.timeout_box)
        form.addRow("Sampler", self.sampler_box)
        form.addRow("Pruner", self.pruner_box)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(space_box, 1)
        layout.addWidget(budget_box)

        self.owner_box.currentTextChanged.connect(self._fill_fields)
        self.add_button.clicked.connect(self.add_selected_field)
        self.remove_button.clicked.connect(self.remove_selected)
        self.table.itemChanged.connect(self._on_item_changed)
        self.objective_box.currentTextChanged.connect(self._on_objective)
        for signal in (self.direction_box.currentTextChanged, self.trials_box.valueChanged,
                       self.timeout_box.valueChanged, self.sampler_box.currentTextChanged,
                       self.pruner_box.currentTextChanged, self.study_box.currentTextChanged):
            signal.connect(self._edited)

    # ------------------------------------------------------------------ the project
    def show_project(self, network: Network, experiments: dict | None, training: dict | None,
                     num_classes: int | None, studies: list[str] = ()) -> None:
        """Show the project's experiment (``None``: an empty one) for ``network``."""
        self.network, self.training, self.num_classes = network, training, num_classes
        data = dict(experiments or {})
        self._applying = True
        try:
            self._extra = {key: data[key] for key in ("seed",) if key in data}
            owner = self.owner_box.currentText()
            self.owner_box.clear()
            self.owner_box.addItems([TRAINING] + [node.name for node in network.nodes if node.type != "Input"])
            if self.owner_box.findText(owner) >= 0:
                self.owner_box.setCurrentText(owner)
            self._fill_fields(self.owner_box.currentText())
            self.table.setRowCount(0)
            for name, spec in (data.get("space") or {}).items():
                self._append_row(str(name), str(spec))
            self.study_box.clear()
            self.study_box.addItems(list(studies))
            self.study_box.setCurrentText(str(data.get("name") or DEFAULT_NAME))
            self.objective_box.setCurrentText(str(data.get("objective") or "val_accuracy"))
            self.direction_box.setCurrentText(str(data.get("direction") or self._default_direction()))
            self.trials_box.setValue(int(data.get("trials") or DEFAULT_TRIALS))
            self.timeout_box.setValue(float(data.get("timeout") or 0))
            self.sampler_box.setCurrentText(str(data.get("sampler") or "tpe"))
            self.pruner_box.setCurrentText(str(data.get("pruner") or "median"))
        finally:
            self._applying = False

    def refresh_problems(self, network: Network) -> None:
        """The network changed: a row's setting may have become (in)valid."""
        self.network = network
        self._applying = True
        try:
            for row in range(self.table.rowCount()):
                self._show_problem(row)
        finally:
            self._applying = False

    def experiments(self) -> dict[str, Any]:
        """The project's ``experiments`` object as the form shows it."""
        space = {self.table.item(row, NAME).text(): self.table.item(row, SPEC).text().strip()
                 for row in range(self.table.rowCount())}
        return {**self._extra, "name": self.study_box.currentText().strip() or DEFAULT_NAME, "space": space,
                "objective": self.objective_box.currentText(), "direction": self.direction_box.currentText(),
                "trials": self.trials_box.value(), "timeout": self.timeout_box.value() or None,
                "sampler": self.sampler_box.currentText(), "pruner": self.pruner_box.currentText()}

    @property
    def study_name(self) -> str:
        return self.study_box.currentText().strip() or DEFAULT_NAME

    def problems(self) -> list[str]:
        return [f"{self.table.item(row, NAME).text()}: {self.table.item(row, PROBLEM).text()}"
                for row in range(self.table.rowCount()) if self.table.item(row, PROBLEM).text()]

    # ------------------------------------------------------------------ editing
    def add_field(self, name: str, spec: str | None = None) -> None:
        """Add (or select) the row of ``name``, with ``spec`` or a suggested one."""
        for row in range(self.table.rowCount()):
            if self.table.item(row, NAME).text() == name:
                self.table.selectRow(row)
                return
        if spec is None:
            spec = suggest_spec(self.network, name, self.training)
        self._applying = True
        try:
            self._append_row(name, spec)
        finally:
            self._applying = False
        self.changed.emit()

    def add_selected_field(self) -> None:
        name = self.field_box.currentData()
        if name:
            self.add_field(name)

    def remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self.changed.emit()

    def _append_row(self, name: str, spec: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        item = QTableWidgetItem(name)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.table.setItem(row, NAME, item)
        self.table.setItem(row, SPEC, QTableWidgetItem(spec))
        problem = QTableWidgetItem("")
        problem.setFlags(problem.flags() & ~Qt.ItemFlag.ItemIsEditable)
        problem.setForeground(QColor(theme.ERROR_COLOR))
        self.table.setItem(row, PROBLEM, problem)
        self._show_problem(row)

    def _show_problem(self, row: int) -> None:
        name, spec = self.table.item(row, NAME).text(), self.table.item(row, SPEC).text()
        text = describe(self.network, name, spec, self.num_classes) if self.network is not None else ""
        self.table.item(row, PROBLEM).setText(text)
        self.table.item(row, PROBLEM).setToolTip(text)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._applying or item.column() != SPEC:
            return
        self._applying = True
        try:
            self._show_problem(item.row())
        finally:
            self._applying = False
        self.changed.emit()

    def _fill_fields(self, owner: str) -> None:
        self.field_box.clear()
        if self.network is None or not owner:
            return
        for field in sweepable_fields(self.network, owner):
            self.field_box.addItem(field.title, field.name)
            self.field_box.setItemData(self.field_box.count() - 1, field.help, Qt.ItemDataRole.ToolTipRole)

    def _default_direction(self) -> str:
        return "minimize" if self.objective_box.currentText().endswith("loss") else "maximize"

    def _on_objective(self) -> None:
        if not self._applying:
            self._applying = True
            self.direction_box.setCurrentText(self._default_direction())
            self._applying = False
        self._edited()

    def _edited(self, *_args) -> None:
        if not self._applying:
            self.changed.emit()


__all__ = ["SpaceEditor"]
