"""The summary dock: the core's Keras-like table, live, with totals, memory for a
chosen batch size and the receptive field.  Selecting a row selects the block."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QSpinBox, QTableView, QVBoxLayout, QWidget)

from cnnstudio.core.analysis import OPTIMIZER_TITLES, training_optimizer
from cnnstudio.core.summary import format_summary, human_bytes, human_count, receptive_field_line, summary_rows

from ..document import NetworkDocument
from .summary_model import COLUMNS, SummaryModel


def _kept(text: str) -> str:
    """A number with its unit that never breaks across lines (``10.80 MB``)."""
    return text.replace(" ", "&nbsp;")


#: px beside a fitted column, so neighbouring numbers do not run together
COLUMN_PADDING = 18


class SummaryPanel(QWidget):
    nodesSelected = Signal(list)
    orderChanged = Signal(str)

    def __init__(self, document: NetworkDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.order = "torch"
        self._syncing = False

        self.order_box = QComboBox()
        self.order_box.addItem("PyTorch (C, H, W)", "torch")
        self.order_box.addItem("Keras (H, W, C)", "keras")
        self.order_box.setToolTip("Order of the shape axes shown everywhere")
        self.batch_box = QSpinBox()
        self.batch_box.setRange(1, 65536)
        self.batch_box.setValue(64)
        self.batch_box.setPrefix("batch ")
        self.batch_box.setToolTip("Batch size for the memory figures")
        self.mode_box = QComboBox()
        self.mode_box.addItem("Training", True)
        self.mode_box.addItem("Inference", False)
        self.mode_box.setToolTip("Training memory counts weights, gradients, the project's optimizer's state "
                                 "and every layer's activations; inference only the weights and the largest "
                                 "layer's input and output")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the summary table as plain text")
        for box in (self.order_box, self.mode_box):  # a narrow dock squeezes them instead of the canvas
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(4)
        self.batch_box.setMinimumWidth(72)
        top = QHBoxLayout()
        top.addWidget(QLabel("Shapes"))
        top.addWidget(self.order_box, 1)
        top.addSpacing(8)
        top.addWidget(QLabel("Memory"))
        top.addWidget(self.batch_box)
        top.addWidget(self.mode_box, 1)
        top.addStretch(1)
        top.addWidget(self.copy_button)

        self.model = SummaryModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setResizeContentsPrecision(64)  # size columns from the first rows, not all 300 on every edit
        # the numbers keep the width they need, side by side; the Layer column takes what is left,
        # so spare width never pushes MACs to the far edge and a narrow dock elides names, not numbers
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(48)
        # widths are measured when the rows change, not on every edit (a 300-row table would be re-measured)
        self.model.modelReset.connect(self._fit_columns)
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)

        self.order_box.currentIndexChanged.connect(self._on_order)
        self.batch_box.valueChanged.connect(self.refresh)
        self.mode_box.currentIndexChanged.connect(self.refresh)
        self.copy_button.clicked.connect(self.copy_text)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection)
        document.analysisChanged.connect(self.refresh)
        document.settingsChanged.connect(lambda key: self.refresh() if key == "training" else None)
        self.refresh()

    @property
    def batch_size(self) -> int:
        return self.batch_box.value()

    def set_order(self, order: str) -> None:
        """Show shapes in ``order`` ("torch" or "keras") everywhere."""
        self.order_box.setCurrentIndex(max(self.order_box.findData(order), 0))

    def _on_order(self) -> None:
        self.order = self.order_box.currentData()
        self.refresh()
        self._fit_columns()
        self.orderChanged.emit(self.order)

    def refresh(self) -> None:
        analysis = self.document.analysis
        self._syncing = True
        self.model.order = self.order
        self.model.set_rows(summary_rows(self.document.network, analysis))
        self._syncing = False
        training = self.mode_box.currentData()
        batch = self.batch_box.value()
        optimizer = training_optimizer(self.document.project.training)
        lines = [f"<b>Total params: {_kept(f'{analysis.total_params:,}')}</b> (trainable "
                 f"{_kept(f'{analysis.trainable_params:,}')}, non-trainable "
                 f"{_kept(f'{analysis.non_trainable_params:,}')}) · {_kept(human_count(analysis.macs))} MACs "
                 "per sample"]
        memory = [analysis.memory(batch, precision, training=training, optimizer=optimizer)
                  for precision in ("float32", "float16")]
        mode = f"training with {OPTIMIZER_TITLES[optimizer]}" if training else "inference"
        lines.append(f"Memory, batch {batch}, {mode}: {_kept(human_bytes(memory[0].total))} float32 · "
                     f"{_kept(human_bytes(memory[1].total))} float16")
        field_line = receptive_field_line(analysis)
        if field_line:
            lines.append(field_line)
        self.totals.setText("<br>".join(lines))
        self.totals.setToolTip(f"Weights alone: {human_bytes(memory[0].weights)} in float32, "
                               f"{human_bytes(memory[1].weights)} in float16")

    def _fit_columns(self) -> None:
        for column in range(1, len(COLUMNS)):
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, self.table.columnWidth(column) + COLUMN_PADDING)

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(self.summary_text())

    def summary_text(self) -> str:
        return format_summary(self.document.network, self.document.analysis, self.order, self.batch_box.value(),
                              optimizer=training_optimizer(self.document.project.training))

    # ------------------------------------------------------------------ selection both ways
    def _on_table_selection(self, *_args) -> None:
        if self._syncing:
            return
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        self.nodesSelected.emit([self.model.node_id(r) for r in rows if r < self.model.rowCount()])

    def select_nodes(self, node_ids: list[str]) -> None:
        self._syncing = True
        self.table.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for node_id in node_ids:
            row = self.model.row_of(node_id)
            if row is not None:
                self.table.selectionModel().select(self.model.index(row, 0), flags)
        self._syncing = False
