"""Where the live preview shows: a thumbnail beside every block, and in the inspector the
selected block's full maps with the sample and weights choices."""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from cnnstudio.lab.preview import LayerPreview

from .. import theme
from ..canvas.scene import NetworkScene
from ..training.feature_maps import MapMosaic
from .controller import LivePreview
from .pictures import draw_bars
from .thumbnail import show_preview

WEIGHT_CHOICES = ("random weights (seed 0)", "trained weights (newest run)")


class BarStrip(QWidget):
    """A flat layer's outputs as bars (at most 96, spikes kept)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.values = None
        self.setFixedHeight(110)

    def set_values(self, values) -> None:
        self.values = values
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(300, 110)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), theme.canvas_background())
        if self.values is not None:
            draw_bars(painter, QRectF(self.rect()).adjusted(6, 6, -6, -6), self.values, max_bars=96)


class PreviewSection(QWidget):
    """The inspector's part: sample and weights choices, the caption, the statistics and the maps."""

    def __init__(self, previews: LivePreview, parent=None) -> None:
        super().__init__(parent)
        self.previews = previews
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        row = QHBoxLayout()
        title = QLabel("<b>Live preview</b>")
        self.sample_box = QSpinBox()
        self.sample_box.setRange(0, 999_999)
        self.sample_box.setPrefix("sample #")
        self.sample_box.setToolTip("Which sample of the project's dataset (test split) runs through the network")
        self.weights_box = QComboBox()
        self.weights_box.addItems(WEIGHT_CHOICES)
        self.weights_box.setToolTip("Random weights, or the weights of the newest training run with weights "
                                    "(layers changed since then keep random weights)")
        row.addWidget(title)
        row.addStretch(1)
        row.addWidget(self.sample_box)
        layout.addLayout(row)
        layout.addWidget(self.weights_box)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.stats = QLabel()
        self.stats.setWordWrap(True)
        self.mosaic = MapMosaic()
        self.mosaic.setFixedHeight(280)
        self.bars = BarStrip()
        for widget in (self.caption, self.stats, self.mosaic, self.bars):
            layout.addWidget(widget)
        self.sample_box.valueChanged.connect(previews.set_sample_index)
        self.weights_box.currentIndexChanged.connect(lambda index: previews.set_trained(index == 1))
        self.layer_name: str | None = None
        self.show_layer(None)

    def show_layer(self, name: str | None) -> None:
        """The newest preview of layer ``name`` (None: no single layer selected)."""
        self.layer_name = name
        result = self.previews.result
        layer: LayerPreview | None = result.preview.layer(name) if result is not None and name else None
        self.setVisible(self.previews.enabled)
        if result is None:
            self.caption.setText("Computing…" if self.previews.enabled else "")
        else:
            preview = result.preview
            parts = [html.escape(result.sample.caption)] if result.sample is not None else []
            parts += [html.escape(preview.weights)] if preview.weights else []
            notes = "".join(f"<br><i>{html.escape(note)}</i>" for note in preview.notes)
            reason = (f"<br><span style='color:{theme.ERROR_COLOR}'>{html.escape(preview.reason)}</span>"
                      if preview.reason else "")
            self.caption.setText(" · ".join(parts) + reason + notes)
        self.stats.setText(layer.stats.text() if layer is not None else
                           ("Select a block to see its output." if result is not None and result.preview.ok else ""))
        flat = layer is not None and layer.is_flat
        self.mosaic.setVisible(layer is not None and not flat)
        self.bars.setVisible(flat)
        if layer is not None and not flat:
            self.mosaic.set_maps(layer.maps(), layer.name)
        elif flat:
            self.bars.set_values(layer.values)


class PreviewViews:
    """Follows the previews and the selection: thumbnails on the blocks, the section in the inspector."""

    def __init__(self, previews: LivePreview, scene: NetworkScene, inspector) -> None:
        self.previews = previews
        self.scene = scene
        self.section = PreviewSection(previews)
        inspector.add_section(self.section)
        self.inspector = inspector
        previews.changed.connect(self.refresh)  # the window calls show_selected when the selection changes

    def refresh(self) -> None:
        result = self.previews.result
        preview = result.preview if result is not None else None
        network = self.scene.document.network
        for node_id, item in self.scene.nodes.items():  # layers hidden in a closed group get none
            shown = preview is not None and item.isVisible()
            show_preview(item, preview.layer(network.node(node_id).name) if shown else None)
        for group_id, block in self.scene.group_blocks.items():
            summary = self.scene.group_summaries.get(group_id)
            exit_name = network.node(summary.exit).name if summary is not None and summary.exit else None
            show_preview(block, preview.layer(exit_name) if preview is not None and exit_name else None)
        self.show_selected()

    def selected_layer(self) -> str | None:
        """The layer whose output the selection shows: a selected layer, or a selected group's exit."""
        scene = self.scene
        network = scene.document.network
        groups = scene.selected_group_ids()
        if len(groups) == 1:
            summary = scene.group_summaries.get(groups[0])
            if summary is not None and summary.exit:
                return network.node(summary.exit).name
        selected = scene.selected_node_ids()
        return network.node(selected[0]).name if len(selected) == 1 else None

    def show_selected(self) -> None:
        self.section.show_layer(self.selected_layer())
