"""Convolution as one matrix product (im2col): every window becomes a column, every
filter a row, and one matrix product computes the whole layer."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QFormLayout, QGridLayout, QSpinBox, QVBoxLayout, QWidget

from cnnstudio.core.analysis import analyze
from cnnstudio.core.project import load_project
from cnnstudio.lab.windows import pad_input, window_geometry
from cnnstudio.lab.im2col import column_receptive_field, conv_via_im2col, filter_matrix, im2col, lecture_example_sizes
from cnnstudio.lab.receptive import LECTURE_PROJECT

from .widgets import FollowsNetwork, CHOSEN_COLOR, WINDOW_COLOR, HeatPanel, Mark, header, wrapped

EXPLANATION = (
    "How libraries really compute a convolution: every window of the input is stretched into one column of a "
    "big matrix X_col, every filter into one row of W_row. One matrix product W_row @ X_col then gives every "
    "filter at every position at once; GPUs are very fast at matrix products. The price is memory: the windows "
    "overlap, so every input value is copied into several columns.")
SMALL = "Small example: 6x6x3 input, 2 filters 3x3x3, stride 1"


class Im2colPage(FollowsNetwork, QWidget):
    """``columns``/``filters`` are the shown matrices; ``difference`` the check's max difference."""

    def __init__(self, lab, parent=None) -> None:
        super().__init__(parent)
        self.lab = lab
        self.difference = float("nan")
        self.lecture_lines = lecture_example_sizes().lines()
        lecture = wrapped("<b>The lecture's AlexNet layer</b> (227x227x3 input, 96 filters of 11x11x3, stride 4):<br>"
                          + "<br>".join(self.lecture_lines))
        self.example_box = QComboBox()
        self.column_box = QSpinBox()
        self.sizes_label = wrapped()
        self.check_label = wrapped()
        font = self.check_label.font()
        font.setBold(True)
        self.check_label.setFont(font)
        self.window_label = wrapped()
        form = QFormLayout()
        form.addRow("Example", self.example_box)
        form.addRow("Column", self.column_box)
        self.input_panel = HeatPanel("Input (channel 1)", numbers=False)
        self.columns_panel = HeatPanel("Column matrix X_col", keep_aspect=False, numbers=False)
        self.filters_panel = HeatPanel("Filter matrix W_row", keep_aspect=False, numbers=False)
        self.output_panel = HeatPanel("W_row @ X_col, first filter's map", numbers=False)
        grid = QGridLayout()
        grid.addWidget(self.input_panel, 0, 0)
        grid.addWidget(self.columns_panel, 0, 1, 1, 2)
        grid.addWidget(self.filters_panel, 1, 1, 1, 2)
        grid.addWidget(self.output_panel, 1, 0)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(header("Convolution as a matrix product (im2col)", EXPLANATION))
        layout.addWidget(lecture)
        layout.addLayout(form)
        layout.addWidget(self.sizes_label)
        layout.addWidget(self.check_label)
        layout.addWidget(self.window_label)
        layout.addLayout(grid, 1)
        self.setMinimumHeight(900)

        self.example_box.currentIndexChanged.connect(self.update_view)
        self.column_box.valueChanged.connect(self.show_column)
        self.columns_panel.map.cellClicked.connect(lambda _row, col: self.column_box.setValue(col))
        self.input_panel.map.cellClicked.connect(self._column_from_input)
        self.follow_network(lab.document)


    def on_shown(self) -> None:
        if not self._stale:
            return
        self._stale = False
        network = self.lab.document.network
        analysis = analyze(network) if len(network.nodes) else None
        if analysis is None or not analysis.ok:
            network = load_project(LECTURE_PROJECT).network
            analysis = analyze(network)
        self.network = network
        self.layers = []
        for node_id in analysis.order:
            node = network.node(node_id)
            if node.type == "Conv2D" and node.params.get("groups", 1) == 1:
                source = analysis.nodes[analysis.inputs[node_id][0]]
                self.layers.append((node, analysis.nodes[node_id], source))
        self.example_box.blockSignals(True)
        self.example_box.clear()
        self.example_box.addItem(SMALL)
        for node, result, source in self.layers:
            self.example_box.addItem(f"{node.name}: {'x'.join(map(str, source.output_shape))} input -> "
                                     f"{'x'.join(map(str, result.output_shape))}")
        self.example_box.blockSignals(False)
        self.update_view()

    def _example(self):
        """``(input (C, H, W), weights (F, C, kh, kw), stride, padding, dilation)`` of the chosen example."""
        rng = np.random.default_rng(0)
        index = self.example_box.currentIndex()
        if index <= 0:
            return rng.integers(0, 3, (3, 6, 6)).astype(float), rng.integers(-1, 2, (2, 3, 3, 3)).astype(float), 1, \
                "valid", 1
        node, result, source = self.layers[index - 1]
        params = node.params
        channels, height, width = source.output_shape
        kh, kw = params["kernel_size"]
        if source.node_id == analyze(self.network).input_id and (height, width) == (28, 28) and channels == 1:
            from cnnstudio.lab.filters import sample_images
            image = sample_images((7,), photos=False)[0].pixels[None]
        else:
            image = rng.uniform(0, 1, (channels, height, width))  # stand-in activations of the layer before
        weights = rng.normal(0, 0.3, (result.output_shape[0], channels, kh, kw))
        padding = params.get("padding", "valid")
        if padding == "explicit":
            padding = tuple(params["pad"])
        return image, weights, tuple(params["strides"]), padding, tuple(params.get("dilation_rate", (1, 1)))

    def update_view(self) -> None:
        image, weights, stride, padding, dilation = self._example()
        self.example = (image, weights, stride, padding, dilation)
        kh, kw = weights.shape[2:]
        self.columns = im2col(image, kh, kw, stride, padding, dilation)
        self.filters = filter_matrix(weights)
        product = conv_via_im2col(image, weights, stride, padding, dilation)
        direct = torch_convolution(image, weights, stride, padding, dilation)
        self.difference = float(np.abs(product - direct).max())
        self.output = product
        self.check_label.setText(f"im2col product equals torch.nn.functional.conv2d (max difference {self.difference:.1g})"
                                 if self.difference < 1e-6 else
                                 f"im2col product differs from torch.nn.functional.conv2d by {self.difference:.3g}")
        rows, positions = self.columns.shape
        self.sizes_label.setText(f"X_col: {rows} x {positions} (one column per output position, {kh}x{kw}x"
                                 f"{image.shape[0]} = {rows} numbers each);  W_row: {self.filters.shape[0]} x "
                                 f"{self.filters.shape[1]};  product: {self.filters.shape[0]} x {positions}, "
                                 f"reshaped to {product.shape[1]}x{product.shape[2]}x{product.shape[0]}")
        self.input_panel.set_picture(image[0], f"Input ({'x'.join(map(str, image.shape))}), channel 1") \
            if image.max() <= 1 and image.min() >= 0 else self.input_panel.set_values(image[0])
        self.columns_panel.set_values(self.columns, f"Column matrix X_col ({rows} x {positions})")
        self.filters_panel.set_values(self.filters, f"Filter matrix W_row ({self.filters.shape[0]} x {rows})")
        self.output_panel.set_values(product[0], f"W_row @ X_col, filter 0 ({product.shape[1]}x{product.shape[2]})")
        self.column_box.blockSignals(True)
        self.column_box.setRange(0, positions - 1)
        self.column_box.setValue(0)
        self.column_box.blockSignals(False)
        self.show_column(0)

    def _column_from_input(self, row: int, col: int) -> None:
        """Clicking the input picks the column whose window starts nearest that pixel."""
        out_w = self.output.shape[2]
        stride = self.example[2] if isinstance(self.example[2], tuple) else (self.example[2],) * 2
        r = min(row // stride[0], self.output.shape[1] - 1)
        c = min(col // stride[1], out_w - 1)
        self.column_box.setValue(r * out_w + c)

    def show_column(self, column: int) -> None:
        image, weights, stride, padding, dilation = self.example
        _c, height, width = image.shape
        window = column_receptive_field(column, height, width, weights.shape[2], weights.shape[3], stride, padding,
                                        dilation)
        rows = self.columns.shape[0]
        self.columns_panel.map.set_marks([Mark(0, column, rows - 1, column, CHOSEN_COLOR)])
        self.input_panel.map.set_marks([Mark(max(window.top, 0), max(window.left, 0), min(window.bottom, height - 1),
                                             min(window.right, width - 1), WINDOW_COLOR)])
        self.output_panel.map.set_marks([Mark(window.out_row, window.out_col, window.out_row, window.out_col,
                                              CHOSEN_COLOR)])
        self.window_label.setText(f"column {column} holds the window rows {window.top}..{window.bottom}, columns "
                                  f"{window.left}..{window.right} of the input (all channels), and gives output "
                                  f"cell ({window.out_row}, {window.out_col}) of every filter.")


def torch_convolution(image: np.ndarray, weights: np.ndarray, stride, padding, dilation) -> np.ndarray:
    """PyTorch's own convolution on the same numbers, for the page's check (Keras 'same' padding is
    applied first, since PyTorch pads both sides alike)."""
    import torch
    import torch.nn.functional as F
    geometry = window_geometry(image.shape[1], image.shape[2], weights.shape[2:], stride, padding, dilation)
    padded = torch.from_numpy(np.ascontiguousarray(pad_input(image, geometry), dtype=np.float64))[None]
    kernel = torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float64))
    return F.conv2d(padded, kernel, stride=stride, dilation=dilation)[0].numpy()
