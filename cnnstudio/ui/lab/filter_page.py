"""Filter playground: pick an image and a kernel (a lecture preset or your own numbers)
and see what sliding it over the image gives, next to plain multiplication."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from cnnstudio.lab.filters import (CORRELATION_REMARK, MAX_KERNEL, MODES, PRESETS, SampleImage, apply_filter,
                                   load_photo, multiply_only, parse_kernel, sample_images)

from .widgets import HeatPanel, NumberGrid, header, wrapped

CUSTOM = "Custom (type below)"
EXPLANATION = (
    "A filter (kernel) is a small grid of numbers. It slides over the image; at every position the numbers "
    "multiply the pixels under them and the products add up to one output pixel. Different numbers find "
    "different things: edges, blobs, curves. Compare with multiplying every pixel by one number, which finds "
    "nothing: no pixel looks at its neighbours.")


class FilterPage(QWidget):
    """``response`` is the last ``FilterResponse``; ``response_panel.values`` is what is shown."""

    def __init__(self, lab, parent=None) -> None:
        super().__init__(parent)
        self.lab = lab
        self.images: list[SampleImage] = sample_images()
        self.response = None
        self._updating = False

        self.image_box = QComboBox()
        for sample in self.images:
            self.image_box.addItem(sample.name)
        self.open_button = QPushButton("Open image…")
        self.preset_box = QComboBox()
        self.preset_box.addItems([*PRESETS, CUSTOM])
        self.preset_text = wrapped()
        self.size_box = QSpinBox()
        self.size_box.setRange(1, MAX_KERNEL)
        self.size_box.setSingleStep(2)
        self.size_box.setValue(3)
        self.kernel_grid = NumberGrid(editable=True, cell=44)
        self.kernel_error = wrapped()
        self.kernel_error.setStyleSheet("color: #E53935;")
        self.mode_box = QComboBox()
        self.mode_box.addItems(MODES)
        self.remark = wrapped(CORRELATION_REMARK)
        self.padding_box = QComboBox()
        self.padding_box.addItems(["valid", "same", "explicit"])
        self.pad_spin = QSpinBox()
        self.pad_spin.setRange(0, 10)
        self.pad_spin.setEnabled(False)
        self.stride_box = QSpinBox()
        self.stride_box.setRange(1, 8)
        self.factor_box = QComboBox()
        self.factor_box.addItems(["0.5", "0.25", "1.5"])
        self.formula = wrapped()

        controls = QFormLayout()
        controls.addRow("Image", self.image_box)
        controls.addRow("", self.open_button)
        controls.addRow("Kernel", self.preset_box)
        controls.addRow("", self.preset_text)
        controls.addRow("Kernel size", self.size_box)
        controls.addRow(self.kernel_grid)
        controls.addRow(self.kernel_error)
        controls.addRow("Slide as", self.mode_box)
        controls.addRow(self.remark)
        pad_row = QHBoxLayout()
        pad_row.addWidget(self.padding_box)
        pad_row.addWidget(self.pad_spin)
        controls.addRow("Padding", pad_row)
        controls.addRow("Stride", self.stride_box)
        controls.addRow("Multiply only by", self.factor_box)
        controls.addRow(self.formula)
        left = QWidget()
        left.setLayout(controls)
        left.setMaximumWidth(560)

        self.input_panel = HeatPanel("Input")
        self.response_panel = HeatPanel("Response")
        self.multiply_panel = HeatPanel("Multiplication only")
        self.channel_panels = [HeatPanel(f"{name} channel response", numbers=False)
                               for name in ("Red", "Green", "Blue")]
        maps = QGridLayout()
        maps.addWidget(self.input_panel, 0, 0)
        maps.addWidget(self.response_panel, 0, 1)
        maps.addWidget(self.multiply_panel, 0, 2)
        for i, panel in enumerate(self.channel_panels):
            maps.addWidget(panel, 1, i)
        self.channel_note = wrapped("A colour image has three channels; the kernel is used on each and the three "
                                    "responses add up to the one response map above.")
        maps.addWidget(self.channel_note, 2, 0, 1, 3)
        for row in (0, 1):
            maps.setRowStretch(row, 1)
        right = QWidget()
        right.setLayout(maps)

        body = QHBoxLayout()
        body.addWidget(left)
        body.addWidget(right, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(header("Filter playground", EXPLANATION))
        layout.addLayout(body, 1)

        self.image_box.currentIndexChanged.connect(self.update_view)
        self.open_button.clicked.connect(self.open_image)
        self.preset_box.currentTextChanged.connect(self._on_preset)
        self.size_box.valueChanged.connect(self._on_size)
        self.kernel_grid.itemChanged.connect(self._on_kernel_typed)
        self.mode_box.currentIndexChanged.connect(self.update_view)
        self.padding_box.currentTextChanged.connect(self._on_padding)
        self.pad_spin.valueChanged.connect(self.update_view)
        self.stride_box.valueChanged.connect(self.update_view)
        self.factor_box.currentIndexChanged.connect(self.update_view)
        self.setMinimumHeight(720)
        self._on_preset(self.preset_box.currentText())

    # ------------------------------------------------------------------ controls
    def _on_preset(self, name: str) -> None:
        if name == CUSTOM:
            self.preset_text.setText("Type your own numbers in the grid (fractions such as 1/9 work).")
            return
        preset = PRESETS[name]
        self.preset_text.setText(preset.description)
        self._updating = True
        self.size_box.setValue(preset.kernel.shape[0])
        self._updating = False
        self._show_kernel(preset.kernel)
        self.update_view()

    def _show_kernel(self, kernel: np.ndarray) -> None:
        texts = [[_short(v) for v in row] for row in kernel]
        self.kernel_grid.set_array(kernel, texts)

    def _on_size(self, size: int) -> None:
        if self._updating:
            return
        if size % 2 == 0:  # the step is 2, but typed even sizes are rounded up
            self.size_box.setValue(min(size + 1, MAX_KERNEL))
            return
        old = self.kernel_grid.texts()
        grid = [["0"] * size for _ in range(size)]
        offset = (len(old) - size) // 2
        for r in range(size):
            for c in range(size):
                if 0 <= r + offset < len(old) and 0 <= c + offset < len(old):
                    grid[r][c] = old[r + offset][c + offset]
        self.kernel_grid.set_array(np.zeros((size, size)), grid)
        self._set_custom()
        self.update_view()

    def _on_kernel_typed(self, _item) -> None:
        self._set_custom()
        self.update_view()

    def _set_custom(self) -> None:
        self.preset_box.blockSignals(True)
        self.preset_box.setCurrentText(CUSTOM)
        self.preset_box.blockSignals(False)
        self.preset_text.setText("Your own kernel.")

    def _on_padding(self, mode: str) -> None:
        self.pad_spin.setEnabled(mode == "explicit")
        self.update_view()

    def padding(self):
        mode = self.padding_box.currentText()
        return self.pad_spin.value() if mode == "explicit" else mode

    def kernel(self) -> np.ndarray:
        """The kernel in the grid, parsed as the playground's rules say (``ValueError`` if bad)."""
        return parse_kernel(self.kernel_grid.texts())

    def set_kernel_text(self, row: int, col: int, text: str) -> None:
        self.kernel_grid.item(row, col).setText(text)

    def open_image(self, path: str | None = None) -> bool:
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Open image", "", "Images (*.png *.jpg *.jpeg)")
        if not path:
            return False
        try:
            pixels = load_photo(path)
        except Exception as error:  # a broken or unknown file: say so on the page
            self.kernel_error.setText(f"Cannot open {path}: {error}")
            return False
        from pathlib import Path
        self.images.append(SampleImage(Path(path).name, pixels, str(path)))
        self.image_box.addItem(Path(path).name)
        self.image_box.setCurrentIndex(self.image_box.count() - 1)
        return True

    # ------------------------------------------------------------------ the maps
    def current_image(self) -> SampleImage:
        return self.images[max(self.image_box.currentIndex(), 0)]

    def update_view(self) -> None:
        sample = self.current_image()
        pixels = sample.pixels
        self.input_panel.set_picture(pixels, f"Input: {sample.name} ({'x'.join(map(str, pixels.shape[-2:]))})")
        factor = float(self.factor_box.currentText())
        self.multiply_panel.set_picture(multiply_only(pixels, factor),
                                        f"Multiplication only: every pixel x {self.factor_box.currentText()} "
                                        "(no edges appear)")
        try:
            kernel = self.kernel()
            self.response = apply_filter(pixels, kernel, self.mode_box.currentText(), self.padding(),
                                         self.stride_box.value())
        except ValueError as error:
            self.kernel_error.setText(str(error))
            return
        self.kernel_error.setText("")
        response = self.response
        out_h, out_w = response.total.shape
        self.response_panel.set_values(response.total, f"Response ({self.mode_box.currentText()}, "
                                                       f"{out_h}x{out_w})")
        self.formula.setText("\n".join(response.formula_lines()))
        colour = response.per_channel.shape[0] == 3
        for i, panel in enumerate(self.channel_panels):
            panel.setVisible(colour)
            if colour:
                panel.set_values(response.per_channel[i])
        self.channel_note.setVisible(colour)


def _short(value: float) -> str:
    value = float(value)
    if value.is_integer():
        return str(int(value))
    for denominator in (9, 16, 256):
        if abs(value * denominator - round(value * denominator)) < 1e-9:
            return f"{round(value * denominator)}/{denominator}"
    return f"{value:.4g}"
