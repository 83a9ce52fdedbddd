"""The Feature maps page: a layer's maps for one sample, live while a run trains and
from the trained model after it; hovering a map shows the part of the input that
neuron sees (its receptive field, from the analysis)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from .feature_maps import MapMosaic, SampleView


SIDE_WIDTH = 220


class FeatureMapsPage(QWidget):
    layerChosen = Signal(str)
    sampleChosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The layer whose feature maps are shown")
        self.sample_box = QSpinBox()
        self.sample_box.setRange(0, 9999)
        self.sample_box.setPrefix("sample #")
        self.sample_box.setToolTip("Which validation sample the maps show (fixed during a run)")
        self.shared_scale = QCheckBox("shared scale")
        self.shared_scale.setChecked(True)
        self.mosaic = MapMosaic()
        self.sample_view = SampleView()
        self.hover_label = QLabel("Hover a map to see the region of the input it sees.")
        self.hover_label.setWordWrap(True)
        self.analysis = None  # the analysis of the network whose maps are shown
        tools = QHBoxLayout()
        tools.addWidget(QLabel("Layer"))
        tools.addWidget(self.layer_box, 1)
        tools.addWidget(self.sample_box)
        tools.addWidget(self.shared_scale)
        side_panel = QWidget()
        side_panel.setFixedWidth(SIDE_WIDTH)  # hover text of any length never resizes the maps' grid
        side = QVBoxLayout(side_panel)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.sample_view)
        side.addWidget(self.hover_label)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.mosaic, 1)
        body.addWidget(side_panel)
        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addLayout(body, 1)
        self.shared_scale.toggled.connect(self.mosaic.set_shared_scale)
        self.layer_box.currentIndexChanged.connect(lambda _i: self.layerChosen.emit(self.layer_box.currentText()))
        self.sample_box.valueChanged.connect(self.sampleChosen.emit)
        self.mosaic.hovered.connect(self._on_hover)
        self.mosaic.left.connect(lambda: self.sample_view.set_region(None))

    @property
    def layer(self) -> str:
        return self.layer_box.currentText()

    def show_network(self, network, analysis) -> None:
        """Offer the image layers of ``network`` (keeping the chosen one when it is still there)."""
        self.analysis = analysis
        current = self.layer
        names = [analysis.nodes[n].name for n in analysis.order
                 if analysis.nodes[n].output_shape is not None and len(analysis.nodes[n].output_shape) == 3
                 and network.node(n).type != "Input"]
        if names == [self.layer_box.itemText(i) for i in range(self.layer_box.count())]:
            return
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(names)
        if current in names:
            self.layer_box.setCurrentText(current)
        self.layer_box.blockSignals(False)

    def show_maps(self, layer: str, maps: np.ndarray) -> None:
        if layer == self.layer:
            self.mosaic.set_maps(maps, f"{layer} {tuple(maps.shape)}")

    def show_sample(self, sample: np.ndarray | None, caption: str = "") -> None:
        self.sample_view.set_sample(sample, caption)

    def clear(self) -> None:
        self.mosaic.set_maps(None)
        self.sample_view.set_sample(None)

    def _on_hover(self, channel: int, row: int, column: int, value: float) -> None:
        if self.analysis is None:
            return
        try:
            node = self.analysis.by_name(self.layer)
        except KeyError:
            return
        field = node.receptive_field
        input_shape = self.analysis.input_shape
        text = f"{self.layer} channel {channel}, row {row}, column {column}: value {value:.4g}"
        if field is not None and input_shape is not None and len(input_shape) == 3:
            region = field.region((row, column), input_shape[1:])
            self.sample_view.set_region(region)
            (top, bottom), (left, right) = region
            text += (f"<br>sees input rows {top}-{bottom}, columns {left}-{right} "
                     f"(receptive field {field.text()})")
        self.hover_label.setText(text)
