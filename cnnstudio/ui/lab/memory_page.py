"""Memory: what training the open network takes, layer by layer, in float32 and float16,
and the lecture's out-of-memory advice applied to it, each with its saving in numbers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QSpinBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from cnnstudio.core.analysis import OPTIMIZER_SLOTS, analyze
from cnnstudio.core.project import load_project
from cnnstudio.core.summary import human_bytes
from cnnstudio.lab.memory import PRECISIONS, memory_table, out_of_memory_advice
from cnnstudio.lab.receptive import LECTURE_PROJECT

from .widgets import FollowsNetwork, header, wrapped

EXPLANATION = (
    "Training keeps more than the weights in memory: every layer's output (activations) for every sample of "
    "the batch, a gradient per weight, and the optimizer's own numbers (Adam keeps two per weight). "
    "Activations grow with the batch size; float16 halves everything. Below, the lecture's advice for an "
    "out-of-memory crash is tried on this network, with what each change saves.")
#: (heading, LayerBytes field or None for the layer columns)
PARTS = ("activations", "weights", "gradients", "optimizer_state", "total")
BYTES_ROLE = Qt.ItemDataRole.UserRole


class MemoryPage(FollowsNetwork, QWidget):
    """``table`` is the shown ``MemoryTable``; byte counts sit in each cell's ``UserRole``."""

    def __init__(self, lab, parent=None) -> None:
        super().__init__(parent)
        self.lab = lab
        self.table = None
        self.advice = []
        self.source_label = wrapped()
        self.batch_box = QSpinBox()
        self.batch_box.setRange(1, 65536)
        self.batch_box.setValue(64)
        self.optimizer_box = QComboBox()
        self.optimizer_box.addItems(list(OPTIMIZER_SLOTS))
        self.optimizer_box.setCurrentText("adam")
        self.grid = QTableWidget()
        self.grid.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.grid.setMinimumHeight(320)
        self.totals_label = wrapped()
        self.advice_grid = QTableWidget(0, 3)
        self.advice_grid.setHorizontalHeaderLabels(["advice", "saves", "what changed"])
        self.advice_grid.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.advice_grid.setWordWrap(True)
        self.advice_grid.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.advice_grid.setMinimumHeight(300)

        settings = QHBoxLayout()
        settings.addWidget(QLabel("Batch size"))
        settings.addWidget(self.batch_box)
        settings.addWidget(QLabel("Optimizer"))
        settings.addWidget(self.optimizer_box)
        settings.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(header("Memory", EXPLANATION))
        layout.addWidget(self.source_label)
        layout.addLayout(settings)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.totals_label)
        layout.addWidget(QLabel("<b>Out of memory? The lecture's advice, tried on this network (float32)</b>"))
        layout.addWidget(self.advice_grid, 1)
        self.setMinimumHeight(860)

        self.batch_box.valueChanged.connect(self.update_view)
        self.optimizer_box.currentIndexChanged.connect(self.update_view)
        self.follow_network(lab.document)


    def on_shown(self) -> None:
        if self._stale:
            self._stale = False
            self.update_view()

    def network(self):
        network = self.lab.document.network
        if len(network.nodes) and analyze(network).ok:
            self.source_label.setText("The network open in the editor.")
            return network
        self.source_label.setText("The editor has no complete network: showing the lecture's MNIST net.")
        return load_project(LECTURE_PROJECT).network

    def update_view(self) -> None:
        network = self.network()
        batch, optimizer = self.batch_box.value(), self.optimizer_box.currentText()
        self.table = memory_table(network, batch, optimizer)
        headings = ["layer", "type", "output", "params"] + [f"{part.replace('_', ' ')}\n{p}" for part in PARTS
                                                            for p in PRECISIONS]
        self.grid.setColumnCount(len(headings))
        self.grid.setHorizontalHeaderLabels(headings)
        self.grid.setRowCount(len(self.table.rows) + 1)
        for r, row in enumerate(self.table.rows):
            cells = [row.name, row.type, "x".join(map(str, row.output_shape)), f"{row.params:,}"]
            for c, text in enumerate(cells):
                self._set(self.grid, r, c, text)
            for i, part in enumerate(PARTS):
                for j, precision in enumerate(PRECISIONS):
                    value = getattr(row.in_precision(precision), part)
                    self._set(self.grid, r, 4 + 2 * i + j, human_bytes(value), value)
        last = len(self.table.rows)
        self._set(self.grid, last, 0, "total")
        for i, part in enumerate(PARTS):
            for j, precision in enumerate(PRECISIONS):
                value = getattr(self.table.totals[precision], part)
                self._set(self.grid, last, 4 + 2 * i + j, human_bytes(value), value, bold=True)
        self.grid.resizeColumnsToContents()
        f32, f16 = self.table.totals["float32"], self.table.totals["float16"]
        self.totals_label.setText(f"Training with batch {batch} and {optimizer}: {human_bytes(f32.total)} in float32, "
                                  f"{human_bytes(f16.total)} in float16 (weights {human_bytes(f32.weights)} -> "
                                  f"{human_bytes(f16.weights)}).")
        self.advice = out_of_memory_advice(network, batch, "float32", optimizer)
        self.advice_grid.setRowCount(len(self.advice))
        for r, advice in enumerate(self.advice):
            self._set(self.advice_grid, r, 0, advice.title)
            saving = (f"{human_bytes(advice.saving)} of {advice.figure}" if advice.helps else
                      "nothing" if advice.applicable and advice.saving == 0 else
                      f"costs {human_bytes(-advice.saving)} more" if advice.applicable else "not applicable")
            self._set(self.advice_grid, r, 1, saving, advice.saving)
            self._set(self.advice_grid, r, 2, advice.sentence)
        self.advice_grid.resizeColumnToContents(0)
        self.advice_grid.resizeColumnToContents(1)
        self.advice_grid.resizeRowsToContents()

    @staticmethod
    def _set(grid: QTableWidget, row: int, col: int, text: str, value: int | None = None, bold: bool = False) -> None:
        item = QTableWidgetItem(text)
        if value is not None:
            item.setData(BYTES_ROLE, int(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if bold:
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        grid.setItem(row, col, item)

    def column_of(self, part: str, precision: str) -> int:
        return 4 + 2 * PARTS.index(part) + PRECISIONS.index(precision)
