"""Live previews while editing: after each edit the blocks show their outputs for one real sample,
computed off the UI thread; an edit while a preview runs makes the newer one win."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from cnnstudio.lab.preview import preview_network
from cnnstudio.lab.preview_sample import dataset_sample, project_sample
from cnnstudio.ui.commands import SetParams
from cnnstudio.ui.main_window import MainWindow
from cnnstudio.ui.preview.thumbnail import thumbnail_of

LECTURE_FILE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"
TIMEOUT = 60_000  # the first preview of a test run imports torch in the worker


def settled(window) -> bool:
    previews = window.previews
    return (previews.result is not None and previews.result.generation == previews.generation
            and not previews.busy)


@pytest.fixture
def previewed(lecture_window, qtbot):
    qtbot.waitUntil(lambda: settled(lecture_window), timeout=TIMEOUT)
    return lecture_window


def set_params(window, name: str, **params) -> None:
    network = window.document.network
    window.document.push(SetParams(network, network.node_by_name(name).id, params))


def thumbnail(window, name: str):
    return thumbnail_of(window.scene.nodes[window.document.network.node_by_name(name).id])


def expected(window, index: int = 0):
    return preview_network(window.document.network.copy(), dataset_sample(None, index).image)


def test_every_block_shows_its_output_for_the_sample(previewed):
    reference = expected(previewed)
    for node in previewed.document.network.nodes:
        shown = thumbnail(previewed, node.name)
        assert shown is not None, node.name
        np.testing.assert_allclose(shown.layer.values, reference.layers[node.name].values, rtol=1e-5, atol=1e-6)
        assert shown.lines[1] == f"zeros {reference.layers[node.name].stats.zero_share:.0%}"
    assert previewed.previews.result.sample.caption == "mnist test #0: 7"


def test_after_an_edit_the_thumbnails_follow(previewed, qtbot):
    set_params(previewed, "conv2d_1", filters=8)
    qtbot.waitUntil(lambda: settled(previewed), timeout=TIMEOUT)

    assert thumbnail(previewed, "conv2d_1").layer.values.shape == (8, 26, 26)
    np.testing.assert_allclose(thumbnail(previewed, "dense_2").layer.values,
                               expected(previewed).layers["dense_2"].values, rtol=1e-5, atol=1e-7)


class Gate:
    """A compute function whose first call waits until the test opens the gate."""

    def __init__(self, real, obey_stop: bool) -> None:
        self.real = real
        self.obey_stop = obey_stop
        self.entered = threading.Event()
        self.open = threading.Event()
        self.generations: list[int] = []
        self.stop_seen: list[bool] = []

    def __call__(self, request, should_stop):
        self.generations.append(request.generation)
        if len(self.generations) == 1:
            self.entered.set()
            assert self.open.wait(30)
            self.stop_seen.append(should_stop())
        return self.real(request, should_stop if self.obey_stop else (lambda: False))


def shown_conv_channels(window) -> list[int]:
    shown: list[int] = []
    window.previews.changed.connect(
        lambda: shown.append(window.previews.layer("conv2d_1").values.shape[0]))
    return shown


@pytest.mark.parametrize("obey_stop", [True, False], ids=["cancelled", "late-result-dropped"])
def test_an_edit_while_a_preview_runs_cancels_it_and_shows_the_newer_one(previewed, qtbot, obey_stop):
    gate = Gate(previewed.previews.compute, obey_stop)
    previewed.previews.compute = gate
    shown = shown_conv_channels(previewed)

    set_params(previewed, "conv2d_1", filters=8)
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)  # the 8-filter preview is running
    set_params(previewed, "conv2d_1", filters=12)           # the newer edit
    qtbot.wait(400)  # past the debounce: the newer preview waits for the running one to end
    assert gate.generations == [gate.generations[0]] and shown == []
    gate.open.set()
    qtbot.waitUntil(lambda: settled(previewed), timeout=TIMEOUT)

    assert gate.stop_seen == [True]                       # the running preview was asked to stop
    assert len(gate.generations) == 2 and gate.generations[1] == previewed.previews.generation
    assert shown == [12]                                  # the stale 8-filter result never showed
    assert thumbnail(previewed, "conv2d_1").layer.values.shape == (12, 26, 26)


def test_the_inspector_shows_the_selected_blocks_maps(previewed, user):
    section = previewed.preview_views.section
    user(previewed).click_block("conv2d_2")
    reference = expected(previewed)

    assert section.layer_name == "conv2d_2" and section.mosaic.isVisible() and not section.bars.isVisible()
    np.testing.assert_allclose(section.mosaic.maps, reference.layers["conv2d_2"].values, rtol=1e-5, atol=1e-6)
    assert len(section.mosaic.tiles) == 64
    assert section.stats.text() == reference.layers["conv2d_2"].stats.text()

    user(previewed).click_block("dense_2")
    assert section.bars.isVisible() and not section.mosaic.isVisible()
    np.testing.assert_allclose(section.bars.values, reference.layers["dense_2"].values, rtol=1e-5, atol=1e-7)


def test_another_sample_is_chosen_in_the_inspector(previewed, qtbot):
    previewed.preview_views.section.sample_box.setValue(3)
    qtbot.waitUntil(lambda: settled(previewed), timeout=TIMEOUT)

    assert previewed.previews.result.sample.caption.startswith("mnist test #3: ")
    np.testing.assert_array_equal(thumbnail(previewed, "input_1").layer.values, dataset_sample(None, 3).image)


def test_a_broken_network_has_no_thumbnails_and_says_why(previewed, qtbot, user):
    set_params(previewed, "conv2d_3", kernel_size=[9, 9])
    qtbot.waitUntil(lambda: settled(previewed), timeout=TIMEOUT)

    assert all(thumbnail_of(item) is None for item in previewed.scene.nodes.values())
    user(previewed).click_block("conv2d_1")
    assert "no preview: conv2d_3" in previewed.preview_views.section.caption.text()


def test_previews_can_be_turned_off(previewed, qtbot):
    previewed.live_preview_action.trigger()
    try:
        assert all(thumbnail_of(item) is None for item in previewed.scene.nodes.values())
        set_params(previewed, "conv2d_1", filters=8)
        qtbot.wait(300)
        assert not previewed.previews.busy and previewed.previews.result is None
    finally:
        previewed.live_preview_action.trigger()  # the choice is remembered; leave it on for other tests



def test_a_window_closes_while_its_preview_is_stuck_and_the_late_result_harms_nothing(qtbot, tmp_path):
    """A preview stuck in a read (a network share, a pipe) must not hold the window open,
    and its result arriving after the window is gone must neither be shown nor crash."""
    window = MainWindow(autosave_folder=tmp_path / "autosave", restore_layout=False)  # not qtbot's: deleted here
    window.show()
    assert window.open_path(LECTURE_FILE)
    qtbot.waitUntil(lambda: settled(window), timeout=TIMEOUT)
    gate = Gate(window.previews.compute, obey_stop=False)
    window.previews.compute = gate
    set_params(window, "conv2d_1", filters=8)
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)
    worker = window.previews._thread

    window.document.undo_stack.setClean()
    assert window.close()                        # returns although the preview still runs
    assert worker.is_alive()
    window.deleteLater()
    qtbot.wait(10)                               # the window and its preview controller are destroyed
    del window
    gc.collect()
    gate.open.set()                              # the stuck read ends: its result has nowhere to go
    worker.join(TIMEOUT / 1000)
    assert not worker.is_alive()
    qtbot.wait(10)                               # a queued delivery, if one were made, would run here


def test_a_project_whose_dataset_is_a_pipe_previews_the_built_in_mnist(tmp_path):
    fifo = tmp_path / "endless.npz"
    os.mkfifo(fifo)
    sample = project_sample({"name": "npz", "path": str(fifo)})
    assert "not a regular file" in sample.note and "built-in MNIST" in sample.note
    assert sample.caption.startswith("mnist")
