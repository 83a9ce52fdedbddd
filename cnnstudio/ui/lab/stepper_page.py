"""Convolution step by step: the kernel visits one output cell at a time; the page shows
the window on the input, the products, and their sum landing in the output."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from cnnstudio.lab.stepper import LECTURE_INPUT, LECTURE_KERNEL, MAX_INPUT_SIDE, ConvolutionSteps

from .widgets import CHOSEN_COLOR, clear_layout, PADDING_COLOR, WINDOW_COLOR, NumberGrid, header, number_text, wrapped

EXPLANATION = (
    "The lecture's picture: a 3x3 kernel slides over a 5x5 image. At each position the nine kernel numbers "
    "multiply the nine pixels under them and the nine products add up to one number of the output (the feature "
    "map). Press Step to move the kernel one position, Play to watch it go. Edit any number of the input or "
    "the kernel; padding adds zeros around the input, stride jumps several pixels, dilation spreads the kernel.")
INTERVAL_MS = 700


class StepperPage(QWidget):
    """``steps`` is the ``ConvolutionSteps`` shown; ``position`` the number of steps taken."""

    def __init__(self, lab, parent=None) -> None:
        super().__init__(parent)
        self.lab = lab
        self.image = LECTURE_INPUT.copy()
        self.kernel_values = LECTURE_KERNEL.copy()
        self.steps: ConvolutionSteps | None = None
        self.position = 0
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self._tick)

        self.size_box = QSpinBox()
        self.size_box.setRange(1, MAX_INPUT_SIDE)
        self.size_box.setValue(5)
        self.random_button = QPushButton("Randomise")
        self.lecture_button = QPushButton("Lecture example")
        self.kernel_size_box = QSpinBox()
        self.kernel_size_box.setRange(1, 7)
        self.kernel_size_box.setValue(3)
        self.padding_box = QComboBox()
        self.padding_box.addItems(["valid", "same", "explicit"])
        self.pad_spin = QSpinBox()
        self.pad_spin.setRange(0, 3)
        self.pad_spin.setEnabled(False)
        self.stride_box = QSpinBox()
        self.stride_box.setRange(1, 4)
        self.dilation_box = QSpinBox()
        self.dilation_box.setRange(1, 3)
        self.channels_box = QCheckBox("3 channels (a colour input and a 3x3x3 filter)")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.step_button = QPushButton("Step")
        self.reset_button = QPushButton("Reset")
        self.error = wrapped()
        self.error.setStyleSheet("color: #E53935;")
        self.formula = wrapped()

        form = QFormLayout()
        form.addRow("Input size", _row(self.size_box, self.random_button, self.lecture_button))
        form.addRow("Kernel size", self.kernel_size_box)
        form.addRow("Padding", _row(self.padding_box, self.pad_spin))
        form.addRow("Stride", self.stride_box)
        form.addRow("Dilation", self.dilation_box)
        form.addRow(self.channels_box)
        form.addRow(_row(self.play_button, self.step_button, self.reset_button))
        form.addRow(self.error)
        form.addRow(self.formula)
        controls = QWidget()
        controls.setLayout(form)
        controls.setMaximumWidth(340)

        self.input_grids: list[NumberGrid] = []
        self.kernel_grids: list[NumberGrid] = []
        self.product_grids: list[NumberGrid] = []
        self.grid_area = QGridLayout()
        self.output_grid = NumberGrid(cell=40)
        self.sum_label = wrapped()
        font = self.sum_label.font()
        font.setFamily("monospace")
        self.sum_label.setFont(font)
        self.grids_box = QWidget()
        self.grids_box.setLayout(self.grid_area)

        top = QHBoxLayout()
        top.addWidget(controls)
        top.addWidget(self.grids_box, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(header("Convolution step by step", EXPLANATION))
        layout.addLayout(top)
        layout.addWidget(self.sum_label)
        layout.addStretch(1)

        self.size_box.valueChanged.connect(self._on_size)
        self.random_button.clicked.connect(self.randomise)
        self.lecture_button.clicked.connect(self.lecture_example)
        self.kernel_size_box.valueChanged.connect(self._on_kernel_size)
        self.padding_box.currentTextChanged.connect(self._on_padding)
        self.pad_spin.valueChanged.connect(self.rebuild)
        self.stride_box.valueChanged.connect(self.rebuild)
        self.dilation_box.valueChanged.connect(self.rebuild)
        self.channels_box.toggled.connect(self._on_channels)
        self.play_button.toggled.connect(self.play)
        self.step_button.clicked.connect(self.step)
        self.reset_button.clicked.connect(self.reset)
        self.rebuild()

    # ------------------------------------------------------------------ settings
    def padding(self):
        mode = self.padding_box.currentText()
        return self.pad_spin.value() if mode == "explicit" else mode

    def _on_padding(self, mode: str) -> None:
        self.pad_spin.setEnabled(mode == "explicit")
        self.rebuild()

    def _on_size(self, size: int) -> None:
        grown = np.zeros((size, size))
        old = self.image[:size, :size]
        grown[:old.shape[0], :old.shape[1]] = old
        self.image = grown
        self.rebuild()

    def _on_kernel_size(self, size: int) -> None:
        grown = np.zeros((size, size))
        old = self.kernel_values[:size, :size]
        grown[:old.shape[0], :old.shape[1]] = old
        self.kernel_values = grown
        self.rebuild()

    def _on_channels(self, on: bool) -> None:
        for box in (self.size_box, self.random_button, self.lecture_button, self.kernel_size_box):
            box.setEnabled(not on)
        self.rebuild()

    def randomise(self) -> None:
        size = self.size_box.value()
        self.image = np.random.default_rng().integers(0, 3, (size, size)).astype(np.float64)
        self.rebuild()

    def lecture_example(self) -> None:
        self.image, self.kernel_values = LECTURE_INPUT.copy(), LECTURE_KERNEL.copy()
        for box, value in ((self.size_box, 5), (self.kernel_size_box, 3), (self.stride_box, 1),
                           (self.dilation_box, 1)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self.padding_box.setCurrentText("valid")
        self.rebuild()

    # ------------------------------------------------------------------ building the grids
    def rebuild(self) -> None:
        """New ``ConvolutionSteps`` from the settings; the kernel goes back to the start."""
        self.timer.stop()
        self.play_button.setChecked(False)
        settings = dict(stride=self.stride_box.value(), padding=self.padding(), dilation=self.dilation_box.value())
        try:
            if self.channels_box.isChecked():
                self.steps = ConvolutionSteps.multi_channel_example(**settings)
            else:
                self.steps = ConvolutionSteps(self.image, self.kernel_values, **settings)
        except ValueError as error:
            self.error.setText(str(error))
            self.steps = None
            for button in (self.play_button, self.step_button):
                button.setEnabled(False)
            return
        self.error.setText("")
        for button in (self.play_button, self.step_button):
            button.setEnabled(True)
        self._make_grids()
        self.formula.setText("\n".join(self.steps.formula_lines()) +
                             f"\n{len(self.steps)} positions x {self.steps.kernel[0].size * self.steps.kernel.shape[0]}"
                             f" multiplications = {self.steps.multiplications} multiplications")
        self.reset()

    def _make_grids(self) -> None:
        steps = self.steps
        clear_layout(self.grid_area, keep=(self.output_grid,))
        channels = steps.image.shape[0]
        editable = channels == 1
        top, _bottom, left, _right = steps.geometry.pads
        height, width = steps.geometry.input_shape
        self.input_grids, self.kernel_grids, self.product_grids = [], [], []
        headings = ["Input (padded: grey = zeros)", "Kernel", "Products"]
        for column, heading in enumerate(headings):
            self.grid_area.addWidget(QLabel(heading), 0, column)
        self.grid_area.addWidget(QLabel("Output (feature map)"), 0, 3)
        names = ["red", "green", "blue"] if channels == 3 else [""]
        for c in range(channels):
            padded = steps.padded[c]
            rows = np.arange(padded.shape[0])[:, None] - top
            cols = np.arange(padded.shape[1])[None, :] - left
            locked = ~((rows >= 0) & (rows < height) & (cols >= 0) & (cols < width))
            grid = NumberGrid(editable=editable, cell=32)
            grid.set_array(padded, locked=locked, row_labels=[str(r) for r in rows[:, 0]],
                           col_labels=[str(q) for q in cols[0]])
            grid.locked = locked
            grid.itemChanged.connect(lambda item, g=grid: self._on_input_typed(g, item))
            kernel = NumberGrid(editable=editable, cell=32)
            kernel.set_array(steps.kernel[c])
            kernel.itemChanged.connect(self._on_kernel_typed)
            products = NumberGrid(cell=40)
            products.set_array(np.zeros(steps.kernel[c].shape), texts=[[""] * steps.kernel.shape[2]] * steps.kernel.shape[1])
            self.input_grids.append(grid)
            self.kernel_grids.append(kernel)
            self.product_grids.append(products)
            row = 1 + 2 * c
            if names[c]:
                self.grid_area.addWidget(QLabel(f"channel {c + 1} ({names[c]})"), row, 0)
            self.grid_area.addWidget(grid, row + 1, 0)
            self.grid_area.addWidget(kernel, row + 1, 1)
            self.grid_area.addWidget(products, row + 1, 2)
        out_h, out_w = steps.output_shape
        self.output_grid.set_array(np.zeros((out_h, out_w)), texts=[[""] * out_w for _ in range(out_h)])
        self.grid_area.addWidget(self.output_grid, 2, 3)
        self.grid_area.setColumnStretch(4, 1)

    def _on_input_typed(self, grid: NumberGrid, item) -> None:
        top, _b, left, _r = self.steps.geometry.pads
        try:
            value = float(item.text())
        except ValueError:
            self.error.setText(f"input row {item.row() - top}, column {item.column() - left}: "
                               f"{item.text()!r} is not a number")
            return
        self.image[item.row() - top, item.column() - left] = value
        self.rebuild()

    def _on_kernel_typed(self, item) -> None:
        try:
            value = float(item.text())
        except ValueError:
            self.error.setText(f"kernel row {item.row()}, column {item.column()}: {item.text()!r} is not a number")
            return
        self.kernel_values[item.row(), item.column()] = value
        self.rebuild()

    # ------------------------------------------------------------------ stepping
    def reset(self) -> None:
        self.timer.stop()
        self.play_button.setChecked(False)
        self.position = 0
        if self.steps is None:
            return
        out_h, out_w = self.steps.output_shape
        self.output_grid.set_array(np.zeros((out_h, out_w)), texts=[[""] * out_w for _ in range(out_h)])
        for grid in self.product_grids:
            kh, kw = self.steps.kernel.shape[1:]
            grid.set_array(np.zeros((kh, kw)), texts=[[""] * kw for _ in range(kh)])
        self._paint(None)
        self.sum_label.setText(f"Press Step: the kernel starts at the top-left; {len(self.steps)} positions to go.")

    def step(self) -> bool:
        """Take one step; ``False`` when the output is already complete."""
        if self.steps is None or self.position >= len(self.steps):
            self.timer.stop()
            self.play_button.setChecked(False)
            return False
        self.show_step(self.position)
        self.position += 1
        if self.position >= len(self.steps):
            self.timer.stop()
            self.play_button.setChecked(False)
            self.sum_label.setText(self.sum_label.text() + "\nDone: the whole feature map is computed.")
        return True

    def show_step(self, index: int) -> None:
        step = self.steps.step(index)
        for c, grid in enumerate(self.product_grids):
            grid.set_array(step.products[c])
            grid.paint({(i, j): PADDING_COLOR for i, j in zip(*np.nonzero(step.in_padding[c]))})
        item = self.output_grid.item(step.out_row, step.out_col)
        item.setText(number_text(step.sum))
        self._paint(step)
        self.sum_label.setText(f"step {index + 1} of {len(self.steps)}\n{step.text()}")

    def _paint(self, step) -> None:
        for grid in self.input_grids:
            cells = {(r, q): PADDING_COLOR for r, q in zip(*np.nonzero(grid.locked))}
            if step is not None:
                for r in range(step.top, step.bottom + 1):
                    for q in range(step.left, step.right + 1):
                        cells[(r, q)] = WINDOW_COLOR
                for r in step.rows:
                    for q in step.cols:
                        cells[(r, q)] = CHOSEN_COLOR
            grid.paint(cells)
        self.output_grid.paint({} if step is None else {(step.out_row, step.out_col): CHOSEN_COLOR})

    def _tick(self) -> None:
        self.step()

    def play(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on:
            if self.steps is not None and self.position >= len(self.steps):
                self.reset()
                self.play_button.setChecked(True)
                self.play_button.setText("Pause")
            self.timer.start()
        else:
            self.timer.stop()

    # ------------------------------------------------------------------ what is shown (tests read these)
    def shown_products(self) -> np.ndarray:
        return np.stack([grid.numbers() for grid in self.product_grids])

    def shown_output(self) -> np.ndarray:
        return self.output_grid.numbers()


def _row(*widgets) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return box
