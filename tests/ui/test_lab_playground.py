"""The Lab's hands-on pages: the filter playground, the convolution stepper and pooling.

Each test opens its page the way the menu does (``show_lab(page)``), works its controls
and checks that what is shown is what ``cnnstudio.lab`` computes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from cnnstudio.lab.filters import CORRELATION_REMARK, PRESETS, apply_filter
from cnnstudio.lab.pooling import pool
from cnnstudio.lab.stepper import ConvolutionSteps


def test_lab_menu_has_one_action_per_page(window):
    titles = [action.text() for action in window.lab_menu.actions()]
    assert len(titles) == 7
    window.lab_menu.actions()[2].trigger()
    assert window.central_tabs.currentWidget() is window.lab_view
    assert window.lab_view.current_key == "pooling"


def test_playground_response_is_apply_filter_of_the_chosen_preset(window):
    page = window.show_lab("filters").page("filters")
    assert page.preset_box.findText("Curve detector 7x7") >= 0
    page.preset_box.setCurrentText("Sobel-X")
    page.padding_box.setCurrentText("same")
    page.stride_box.setValue(2)
    expected = apply_filter(page.current_image().pixels, PRESETS["Sobel-X"].kernel, "correlation", "same", 2)
    np.testing.assert_allclose(page.response_panel.values, expected.total)
    assert page.response_panel.scale.texts == (f"min {expected.total.min():.4g}", f"max {expected.total.max():.4g}")
    assert CORRELATION_REMARK in page.remark.text()


def test_playground_convolution_flips_sobel_and_colour_shows_three_channels(window):
    page = window.show_lab("filters").page("filters")
    page.preset_box.setCurrentText("Sobel-X")
    correlation = page.response_panel.values.copy()
    page.mode_box.setCurrentText("convolution")
    np.testing.assert_allclose(page.response_panel.values, -correlation, atol=1e-12)
    page.image_box.setCurrentText("Astronaut")
    assert all(panel.isVisibleTo(page) for panel in page.channel_panels)
    np.testing.assert_allclose(sum(p.values for p in page.channel_panels), page.response_panel.values)


def test_playground_typed_kernel_and_bad_entry(window):
    page = window.show_lab("filters").page("filters")
    page.size_box.setValue(5)
    assert page.kernel_grid.rowCount() == 5
    assert page.preset_box.currentText().startswith("Custom")
    page.set_kernel_text(0, 0, "1/9")
    np.testing.assert_allclose(page.response_panel.values,
                               apply_filter(page.current_image().pixels, page.kernel()).total)
    page.set_kernel_text(1, 1, "abc")
    assert "row 2, column 2" in page.kernel_error.text()


def test_stepper_shows_products_and_sum_of_each_step(window):
    page = window.show_lab("convolution").page("convolution")
    steps = ConvolutionSteps()
    for _ in range(4):
        page.step_button.click()
    step = steps.step(3)
    np.testing.assert_allclose(page.shown_products(), step.products)
    assert step.text() in page.sum_label.text()
    while page.step():
        pass
    np.testing.assert_allclose(page.shown_output(), steps.output())
    np.testing.assert_allclose(page.shown_output(), [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    assert "out = floor((5 + 2*0 - 1*(3-1) - 1) / 1) + 1 = 3" in page.formula.text()


def test_stepper_padding_stride_and_three_channels(window, qtbot):
    page = window.show_lab("convolution").page("convolution")
    page.padding_box.setCurrentText("same")
    page.stride_box.setValue(2)
    steps = ConvolutionSteps(padding="same", stride=2)
    assert page.input_grids[0].rowCount() == 7  # the 5x5 input with a ring of zeros
    while page.step():
        pass
    np.testing.assert_allclose(page.shown_output(), steps.output())
    page.channels_box.setChecked(True)
    multi = ConvolutionSteps.multi_channel_example(padding="same", stride=2)
    assert len(page.input_grids) == 3
    page.step()
    np.testing.assert_allclose(page.shown_products(), multi.step(0).products)
    page.timer.setInterval(5)
    page.play_button.click()
    qtbot.waitUntil(lambda: not page.play_button.isChecked(), timeout=5000)
    np.testing.assert_allclose(page.shown_output(), multi.output())


def test_stepper_edited_input_changes_the_output(window):
    page = window.show_lab("convolution").page("convolution")
    page.input_grids[0].item(0, 0).setText("5")
    image = np.array(page.image)
    assert image[0, 0] == 5
    while page.step():
        pass
    np.testing.assert_allclose(page.shown_output(), ConvolutionSteps(image).output())


def test_pooling_output_is_pool_and_discards_75_percent(window, qtbot):
    page = window.show_lab("pooling").page("pooling")
    expected = pool(page.feature_map, 2, 2, "max", "valid")
    np.testing.assert_allclose(page.output_panel.values, expected.output)
    assert "75% of activations discarded" in page.share_label.text()
    heat = page.output_panel.map
    centre = heat.cell_rect(1, 2).center().toPoint()
    qtbot.mouseClick(heat, Qt.MouseButton.LeftButton, pos=centre)
    r, c = expected.took(1, 2)[0]
    assert any((m.top, m.left, m.bottom, m.right) == (r, c, r, c) for m in page.input_panel.map.marks)
    assert f"input ({r}, {c})" in page.cell_label.text()
    page.mode_box.setCurrentText("avg")
    page.size_box.setValue(3)
    page.stride_box.setValue(1)
    page.padding_box.setCurrentText("same")
    np.testing.assert_allclose(page.output_panel.values, pool(page.feature_map, 3, 1, "avg", "same").output)
    page.source_box.setCurrentIndex(2)  # the digit
    assert page.output_panel.values.shape == (28, 28)
