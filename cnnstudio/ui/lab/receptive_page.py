"""Receptive field: click a neuron of a layer and see which part of every earlier layer,
and of the input image, it can feel; then the lecture's table, with and without pooling."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from cnnstudio.core.analysis import analyze
from cnnstudio.core.network import Network
from cnnstudio.core.project import load_project
from cnnstudio.lab.receptive import LECTURE_PROJECT, box_size, footprint_of, lecture_table, most_activating_region

from .widgets import FollowsNetwork, CHOSEN_COLOR, clear_layout, WINDOW_COLOR, HeatMap, HeatPanel, Mark, header, wrapped

EXPLANATION = (
    "Every neuron of a convolution looks at a small window of the layer before it, which itself looks at "
    "windows of the layer before... Its receptive field is the part of the input image it can feel. Pick a "
    "layer and click one of its neurons: the orange rectangles show what it sees on every earlier layer. "
    "Pooling makes the field grow fast: why the lecture calls pooling a must.")


def spatial_layers(network: Network) -> list[str]:
    """Layers with an image-like ``(C, H, W)`` output, the input left out."""
    analysis = analyze(network)
    return [analysis.nodes[n].name for n in analysis.order
            if n != analysis.input_id and analysis.nodes[n].ok and len(analysis.nodes[n].output_shape or ()) == 3]


class ReceptivePage(FollowsNetwork, QWidget):
    """``footprint`` is the last ``footprint_of`` result; ``input_box`` the rectangle on the input."""

    def __init__(self, lab, parent=None) -> None:
        super().__init__(parent)
        self.lab = lab
        self.network: Network | None = None
        self.footprint: dict[str, tuple[int, int, int, int]] = {}
        self.input_box = None
        self.neuron = (0, 0)
        self.source_label = wrapped()
        self.layer_box = QComboBox()
        self.result_label = wrapped()
        font = self.result_label.font()
        font.setBold(True)
        self.result_label.setFont(font)
        self.layer_maps: dict[str, HeatMap] = {}
        self.maps_area = QGridLayout()
        maps = QWidget()
        maps.setLayout(self.maps_area)
        from cnnstudio.lab.filters import sample_images
        self.digit = sample_images((7,), photos=False)[0].pixels

        self.channel_box = QSpinBox()
        self.activating_button = QPushButton("Show input regions that most activate this neuron's channel")
        self.activating_label = wrapped()
        self.regions_area = QHBoxLayout()
        regions = QWidget()
        regions.setLayout(self.regions_area)

        table = lecture_table()
        self.lecture = table
        tables = QHBoxLayout()
        for part in (table.with_pooling, table.without_pooling):
            column = QVBoxLayout()
            column.addWidget(QLabel(f"<b>{part.title}</b>: one neuron of {part.target} feels "
                                    f"{part.coverage_text()} input pixels"))
            grid = QTableWidget(len(part.rows), 3)
            grid.setHorizontalHeaderLabels(["layer", "layer size", "one neuron sees"])
            for r, row in enumerate(part.rows):
                for c, text in enumerate((row.layer, "x".join(map(str, row.layer_size)), row.footprint_text())):
                    item = QTableWidgetItem(text)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                    grid.setItem(r, c, item)
            grid.resizeColumnsToContents()
            grid.setMinimumHeight(grid.verticalHeader().length() + grid.horizontalHeader().height() + 6)
            column.addWidget(grid)
            tables.addLayout(column)

        choose = QHBoxLayout()
        choose.addWidget(QLabel("Layer"))
        choose.addWidget(self.layer_box)
        choose.addWidget(QLabel("click a neuron of its output grid (right)"))
        choose.addStretch(1)
        trained = QHBoxLayout()
        trained.addWidget(QLabel("Channel"))
        trained.addWidget(self.channel_box)
        trained.addWidget(self.activating_button)
        trained.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(header("Receptive field", EXPLANATION))
        layout.addWidget(self.source_label)
        layout.addLayout(choose)
        layout.addWidget(self.result_label)
        layout.addWidget(maps, 1)
        layout.addLayout(trained)
        layout.addWidget(self.activating_label)
        layout.addWidget(regions)
        layout.addWidget(QLabel("<b>The lecture's table</b>"))
        layout.addLayout(tables)
        self.setMinimumHeight(900)

        self.layer_box.currentTextChanged.connect(self._on_layer)
        self.activating_button.clicked.connect(self.show_most_activating)
        self.follow_network(lab.document)


    def on_shown(self) -> None:
        trained = self.lab.trained()
        self.activating_button.setEnabled(trained is not None)
        self.activating_label.setText("" if trained is not None else
                                      "Train the network (Train tab) to see which input regions excite a neuron.")
        if not self._stale:
            return
        self._stale = False
        network = self.lab.document.network
        if len(network.nodes) and analyze(network).ok and spatial_layers(network):
            self.network = network.copy()
            self.source_label.setText("The network open in the editor.")
        else:
            self.network = load_project(LECTURE_PROJECT).network
            self.source_label.setText("The editor has no network with convolutions: showing the lecture's MNIST net.")
        layers = spatial_layers(self.network)
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(layers)
        self.layer_box.setCurrentIndex(len(layers) - 1)
        self.layer_box.blockSignals(False)
        self._on_layer(self.layer_box.currentText())

    def _on_layer(self, name: str) -> None:
        if not name:
            return
        analysis = analyze(self.network)
        clear_layout(self.maps_area)
        self.layer_maps = {}
        order = [analysis.nodes[n] for n in analysis.order]
        names = [n.name for n in order]
        shown = [n for n in order[: names.index(name) + 1] if len(n.output_shape or ()) == 3]
        for i, node in enumerate(shown):
            panel = HeatPanel(f"{node.name}  {node.output_shape[1]}x{node.output_shape[2]}", scale=False, numbers=False)
            if node.node_id == analysis.input_id and tuple(node.output_shape[1:]) == self.digit.shape:
                panel.set_picture(self.digit)
            else:
                panel.set_picture(np.full(node.output_shape[1:], 0.75))  # neutral grey: only the marks matter
            panel.setMinimumSize(110, 130)
            self.layer_maps[node.name] = panel.map
            self.maps_area.addWidget(panel, i // 4, i % 4)
        self.layer_maps[name].cellClicked.connect(self.choose_neuron)
        self.channel_box.setRange(0, analysis.by_name(name).output_shape[0] - 1)
        self.choose_neuron(0, 0)

    # ------------------------------------------------------------------ one neuron
    @property
    def layer(self) -> str:
        return self.layer_box.currentText()

    def choose_neuron(self, row: int, col: int) -> None:
        self.neuron = (row, col)
        self.footprint = footprint_of(self.network, self.layer, row, col)
        for name, heat in self.layer_maps.items():
            box = self.footprint.get(name)
            colour = CHOSEN_COLOR if name == self.layer else WINDOW_COLOR
            heat.set_marks([Mark(*box, colour)] if box else [])
        input_name = next(iter(self.layer_maps))
        self.input_box = self.footprint.get(input_name)
        if self.input_box is None:
            self.result_label.setText(f"neuron ({row}, {col}) of {self.layer} sees only padding.")
            return
        h, w = box_size(self.input_box)
        rows, cols = self.layer_maps[input_name].shape
        self.result_label.setText(f"neuron ({row}, {col}) of {self.layer} sees {h}x{w} = {h * w} input pixels "
                                  f"({100 * h * w / (rows * cols):.3g}% of {rows}x{cols})")

    # ------------------------------------------------------------------ with a trained model
    def show_most_activating(self) -> None:
        trained = self.lab.trained()
        if trained is None:
            return
        model, network, images = trained
        if images is None or not len(images):
            from cnnstudio.data.builtin import load_mnist
            images = load_mnist("test", subset=300).x
        try:
            regions = most_activating_region(model, self.layer, self.channel_box.value(), images[:500], k=8,
                                             network=network)
        except (ValueError, KeyError) as error:
            self.activating_label.setText(str(error))
            return
        clear_layout(self.regions_area)
        for region in regions:
            panel = HeatPanel(f"#{region.image_index}: {region.value:.3g}", scale=False, numbers=False)
            if region.crop.size:
                panel.set_picture(np.clip(region.crop if region.crop.shape[0] == 3 else region.crop[0], 0, 1))
            panel.setFixedSize(110, 130)
            self.regions_area.addWidget(panel)
        self.regions_area.addStretch(1)
        self.activating_label.setText(f"The {len(regions)} validation images whose strongest neuron of channel "
                                      f"{self.channel_box.value()} of {self.layer} fires most, cropped to what "
                                      "that neuron sees:")
