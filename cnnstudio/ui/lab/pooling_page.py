"""Pooling: a window slides over a feature map and keeps its largest value (max) or its
mean (avg); hover or click an output to see where it came from."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QPushButton, QSpinBox, QVBoxLayout, QWidget

from cnnstudio.lab.pooling import MODES, PADDINGS, discarded_share, pool

from .widgets import CHOSEN_COLOR, WINDOW_COLOR, HeatPanel, Mark, header, wrapped

EXPLANATION = (
    "Pooling shrinks a feature map: a small window slides over it and keeps one number per position, the "
    "largest (max pooling) or the mean (average pooling). The lecture's 2x2 pooling with stride 2 halves the "
    "height and the width, so 75% of the activations are discarded, and every later layer sees a wider part "
    "of the image. Hover or click an output cell to see its window and, for max pooling, the input it took.")
SOURCES = ("Random 8x8 map", "Random 12x12 map", "MNIST digit 7 (28x28)")


class PoolingPage(QWidget):
    """``result`` is the last ``PoolResult``; ``output_panel.values`` is the shown output."""

    def __init__(self, lab, parent=None) -> None:
        super().__init__(parent)
        self.lab = lab
        self.seed = 0
        self.result = None
        self.feature_map = np.zeros((1, 1))
        self.source_box = QComboBox()
        self.source_box.addItems(SOURCES)
        self.new_button = QPushButton("New random map")
        self.mode_box = QComboBox()
        self.mode_box.addItems(MODES)
        self.size_box = QSpinBox()
        self.size_box.setRange(1, 5)
        self.size_box.setValue(2)
        self.stride_box = QSpinBox()
        self.stride_box.setRange(1, 5)
        self.stride_box.setValue(2)
        self.padding_box = QComboBox()
        self.padding_box.addItems(PADDINGS)
        self.error = wrapped()
        self.error.setStyleSheet("color: #E53935;")
        self.share_label = wrapped()
        font = self.share_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 2)
        self.share_label.setFont(font)
        self.formula = wrapped()
        self.cell_label = wrapped("Hover or click an output cell.")

        form = QFormLayout()
        form.addRow("Feature map", self.source_box)
        form.addRow("", self.new_button)
        form.addRow("Pooling", self.mode_box)
        form.addRow("Pool size", self.size_box)
        form.addRow("Stride", self.stride_box)
        form.addRow("Padding", self.padding_box)
        form.addRow(self.error)
        form.addRow(self.share_label)
        form.addRow(self.formula)
        form.addRow(self.cell_label)
        controls = QWidget()
        controls.setLayout(form)
        controls.setMaximumWidth(380)

        self.input_panel = HeatPanel("Input feature map")
        self.output_panel = HeatPanel("Output")
        maps = QHBoxLayout()
        maps.addWidget(controls)
        maps.addWidget(self.input_panel, 1)
        maps.addWidget(self.output_panel, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(header("Pooling", EXPLANATION))
        layout.addLayout(maps, 1)
        self.setMinimumHeight(560)

        self.source_box.currentIndexChanged.connect(self._new_map)
        self.new_button.clicked.connect(self._reseed)
        for box in (self.mode_box, self.padding_box):
            box.currentIndexChanged.connect(self.update_view)
        for box in (self.size_box, self.stride_box):
            box.valueChanged.connect(self.update_view)
        self.output_panel.map.cellHovered.connect(self.show_cell)
        self.output_panel.map.cellClicked.connect(self.show_cell)
        self._new_map()

    def _reseed(self) -> None:
        self.seed += 1
        self._new_map()

    def _new_map(self) -> None:
        source = self.source_box.currentIndex()
        self.new_button.setEnabled(source < 2)
        if source < 2:
            side = 8 if source == 0 else 12
            self.feature_map = np.round(np.random.default_rng(self.seed).uniform(0, 9, (side, side)))
        else:
            from cnnstudio.lab.filters import sample_images
            self.feature_map = sample_images((7,), photos=False)[0].pixels
        self.update_view()

    def update_view(self) -> None:
        try:
            self.result = pool(self.feature_map, self.size_box.value(), self.stride_box.value(),
                               self.mode_box.currentText(), self.padding_box.currentText())
        except ValueError as error:
            self.error.setText(str(error))
            return
        self.error.setText("")
        result = self.result
        self.input_panel.set_values(self.feature_map, f"Input feature map ({'x'.join(map(str, self.feature_map.shape))})")
        out_h, out_w = result.output.shape
        self.output_panel.set_values(result.output, f"Output ({out_h}x{out_w}, {result.mode} pooling)")
        share = result.discarded_share
        limit = discarded_share(self.size_box.value(), self.stride_box.value())
        self.share_label.setText(f"{100 * share:.0f}% of activations discarded")
        self.formula.setText("\n".join(result.geometry.formula_lines()) +
                             f"\n{result.output.size} of {self.feature_map.size} values are passed on; on a large map "
                             f"this pooling discards 1 - 1/(stride x stride) = {100 * limit:.0f}%.")
        self.show_cell(0, 0)

    def show_cell(self, row: int, col: int) -> None:
        """Mark output ``(row, col)``, its window on the input and what it took."""
        result = self.result
        if result is None:
            return
        window = result.windows[row][col]
        rows = [p[0] for p in window]
        cols = [p[1] for p in window]
        marks = [Mark(min(rows), min(cols), max(rows), max(cols), WINDOW_COLOR)] if window else []
        took = result.took(row, col)
        if result.chosen is not None:
            r, c = took[0]
            marks.append(Mark(r, c, r, c, CHOSEN_COLOR))
            text = (f"output ({row}, {col}) = {result.output[row, col]:.4g}: the max of its window, taken from "
                    f"input ({r}, {c}).")
        else:
            text = (f"output ({row}, {col}) = {result.output[row, col]:.4g}: the mean of the {len(took)} inputs "
                    "in its window.")
        self.input_panel.map.set_marks(marks)
        self.output_panel.map.set_marks([Mark(row, col, row, col, CHOSEN_COLOR)])
        self.cell_label.setText(text)
