"""The Lab pages that read the network in the editor: receptive field, im2col, memory."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import Qt

from cnnstudio.lab.memory import memory_table
from cnnstudio.lab.pooling import pool  # noqa: F401  (the lab package imports cleanly next to the UI)


def test_receptive_page_clicking_conv2d_3_highlights_18x18_on_the_input(lecture_window, qtbot):
    page = lecture_window.show_lab("receptive-field").page("receptive-field")
    page.layer_box.setCurrentText("conv2d_3")
    heat = page.layer_maps["conv2d_3"]
    qtbot.mouseClick(heat, Qt.MouseButton.LeftButton, pos=heat.cell_rect(0, 0).center().toPoint())
    assert page.input_box == (0, 0, 17, 17)
    marks = page.layer_maps["input_1"].marks
    assert [(m.top, m.left, m.bottom, m.right) for m in marks] == [(0, 0, 17, 17)]
    assert "18x18 = 324 input pixels (41.3% of 28x28)" in page.result_label.text()
    assert page.layer_maps["maxpooling2d_1"].marks[0].bottom == 7
    text = " ".join(label.text() for label in page.findChildren(type(page.result_label)))
    assert "18x18 = 324 = 41.3% of 784" in text and "7x7 = 49 = 6.25% of 784" in text
    assert not page.activating_button.isEnabled()


def test_receptive_page_uses_the_lecture_net_when_the_editor_is_empty(window):
    page = window.show_lab("receptive-field").page("receptive-field")
    assert "lecture" in page.source_label.text()
    assert page.layer_box.currentText() == "conv2d_3"


def test_receptive_page_most_activating_regions_with_a_model(lecture_window):
    from cnnstudio.core.build import build_model
    from cnnstudio.data.builtin import load_mnist

    network = lecture_window.document.network.copy()
    model = build_model(network).eval()
    images = load_mnist("test", subset=60).x
    lab = lecture_window.show_lab()
    lab.training_view = lambda: SimpleNamespace(trained=SimpleNamespace(model=model, network=network, x=images))
    page = lab.show_page("receptive-field")
    assert page.activating_button.isEnabled()
    page.layer_box.setCurrentText("conv2d_2")
    page.activating_button.click()
    assert "validation images" in page.activating_label.text()
    assert page.regions_area.count() >= 2


def test_im2col_page_shows_lecture_sizes_and_checks_the_product(lecture_window):
    page = lecture_window.show_lab("im2col").page("im2col")
    text = "\n".join(page.lecture_lines)
    assert "363 x 3025" in text and "96 x 363" in text
    assert page.difference < 1e-7
    assert "im2col product equals torch.nn.functional.conv2d" in page.check_label.text()
    page.column_box.setValue(5)  # small example: 4x4 outputs, column 5 is output (1, 1)
    marks = page.input_panel.map.marks
    assert [(m.top, m.left, m.bottom, m.right) for m in marks] == [(1, 1, 3, 3)]
    page.example_box.setCurrentIndex(2)  # conv2d_2 of the lecture net
    assert page.columns.shape == (288, 121)
    assert page.filters.shape == (64, 288)
    assert page.difference < 1e-7


def test_memory_page_float16_weights_are_half_of_float32(lecture_window):
    page = lecture_window.show_lab("memory").page("memory")
    page.batch_box.setValue(32)
    expected = memory_table(lecture_window.document.network, 32, "adam")
    last = page.grid.rowCount() - 1
    f32 = page.grid.item(last, page.column_of("weights", "float32")).data(Qt.ItemDataRole.UserRole)
    f16 = page.grid.item(last, page.column_of("weights", "float16")).data(Qt.ItemDataRole.UserRole)
    assert f32 == expected.totals["float32"].weights == 2 * f16
    activations = page.grid.item(1, page.column_of("activations", "float32")).data(Qt.ItemDataRole.UserRole)
    assert activations == expected.rows[1].float32.activations
    assert page.advice_grid.rowCount() == 5
    assert "Use float16" in page.advice_grid.item(3, 0).text()
    assert page.advice_grid.item(3, 1).data(Qt.ItemDataRole.UserRole) == page.advice[3].saving > 0
    assert "MB of total" in page.advice_grid.item(3, 1).text() or "KB of total" in page.advice_grid.item(3, 1).text()


def test_memory_page_follows_edits_in_the_editor(lecture_window):
    page = lecture_window.show_lab("memory").page("memory")
    before = page.table.totals["float32"].weights
    from cnnstudio.ui.commands import SetParams
    node = lecture_window.document.network.node_by_name("dense_1")
    lecture_window.document.push(SetParams(lecture_window.document.network, node.id, {"units": 128}))
    assert page.table.totals["float32"].weights > before
