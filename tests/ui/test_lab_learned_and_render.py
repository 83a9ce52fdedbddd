"""The Lab's after-training page, the pooling experiment, and every page rendering offscreen."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtGui import QImage

from cnnstudio.cli import main
from cnnstudio.lab.learned_filters import first_layer_matches
from cnnstudio.ui.lab.view import PAGES

LECTURE_FILE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"


def test_learned_page_says_to_train_first_without_a_model(window):
    page = window.show_lab("learned").page("learned")
    assert "Train a network first" in page.message.text()
    assert page.matches == []


def test_learned_page_shows_each_filter_beside_its_nearest_preset(lecture_window):
    from cnnstudio.core.build import build_model

    network = lecture_window.document.network.copy()
    model = build_model(network).eval()
    lab = lecture_window.show_lab()
    lab.training_view = lambda: SimpleNamespace(trained=SimpleNamespace(model=model, network=network, x=None))
    page = lab.show_page("learned")
    expected = first_layer_matches(model)
    assert [(m.preset, m.score) for m in page.matches] == [(m.preset, m.score) for m in expected]
    assert "32 filters" in page.message.text()
    assert page.filters_area.count() == 12


def test_pooling_experiment_trains_both_nets_off_the_ui_thread(window, qtbot):
    page = window.show_lab("learned").page("learned")
    page.subset_box.setValue(200)
    page.epochs_box.setValue(1)
    assert page.start_experiment()
    assert not page.run_button.isEnabled()  # the UI stays live while it trains
    qtbot.waitUntil(lambda: page.task is None, timeout=120_000)
    assert page.failure == ""
    assert [r.title for r in page.results] == ["With pooling", "Without pooling"]
    assert all(0.0 <= r.accuracy <= 1.0 for r in page.results)
    assert "18x18" in page.results[0].coverage and "7x7" in page.results[1].coverage
    assert "test accuracy" in page.result_labels[0].text() and "test accuracy" in page.result_labels[1].text()


@pytest.mark.parametrize("key", list(PAGES))
def test_every_lab_page_renders_offscreen(lecture_window, key):
    lab = lecture_window.show_lab(key)
    assert lab.current_key == key
    assert not lab.pages[key].grab().isNull()
    assert not lecture_window.grab().isNull()


def test_the_screenshot_command_renders_a_lab_page(qapp, tmp_path):
    target = tmp_path / "lab.png"
    assert main(["screenshot", str(LECTURE_FILE), "-o", str(target), "--size", "1200x800",
                 "--view", "lab-receptive-field"]) == 0
    assert not QImage(str(target)).isNull()
