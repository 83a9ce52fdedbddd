"""Training from the window, end to end: the Train tab runs the lecture's network
on a few MNIST images in a training process of its own, fills the plots,
progress bars, feature maps and results, keeps the run beside the project, and
locks editing while it runs.  A run that blows up to NaN fails cleanly and
changes nothing.  Reopening a project brings its runs back, those trained from
the command line too; opening another forgets them."""

from __future__ import annotations

import csv
import json
import math
import shutil

from safetensors.torch import load_file

from cnnstudio.cli import main
from cnnstudio.training.run_folder import read_record
from cnnstudio.ui.commands import SetParams, SetProjectSettings
from training_helpers import (LECTURE_FILE, RUN_TIMEOUT_MS, configure, make_training_window,  # noqa: F401 (fixture)
                              open_lecture, train_and_wait)

LAYER = "conv2d_2"


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[key].equal(b[key]) for key in a)


def test_training_the_lecture_net_from_the_window_fills_every_view_and_keeps_the_run(qtbot, make_training_window):
    window = make_training_window()
    open_lecture(window)
    view = window.show_training()
    subset, batch_size, epochs = 200, 32, 2
    configure(view, subset=subset, batch_size=batch_size, epochs=epochs, validation_percent=10, layer=LAYER)
    conv = window.document.network.node_by_name(LAYER)
    before = window.document.network.to_dict()
    live_maps = []

    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.train_button.click()
        assert view.running
        view.process.maps.connect(lambda layer, maps: live_maps.append((layer, maps.shape)))
        # while it runs the design is locked: the banner says so and edits are refused
        window.central_tabs.setCurrentIndex(0)
        assert window.document.read_only
        assert window.lock_banner.isVisible()
        assert not view.train_button.isEnabled() and view.stop_button.isEnabled()
        assert not window.document.push(SetParams(window.document.network, conv.id, {"filters": 8}))
        window.scene.select_nodes([conv.id])
        window.delete_action.trigger()
        assert window.document.network.to_dict() == before
        window.central_tabs.setCurrentIndex(1)
    assert finished.args == ["finished"]
    view.wait_for_background()

    # unlocked again, and no process is left
    assert not view.running and not window.training_running and view.process is None
    assert not window.document.read_only
    assert window.lock_banner.isHidden()
    assert view.train_button.isEnabled() and not view.stop_button.isEnabled()

    # plots: smoothed batch losses, one point per epoch for loss and val_loss, the rate from the start
    assert view.plots.curve_points("batch_loss_smooth") > 0
    assert view.plots.curve_points("loss") == epochs
    assert view.plots.curve_points("val_loss") == epochs
    assert view.plots.curve_points("val_accuracy") == epochs
    assert view.plots.curve_points("lr") == epochs + 1

    # progress bars reached their ends and say the same as the status line did
    validation = round(subset * 0.10)
    steps = math.ceil((subset - validation) / batch_size)
    assert (view.epoch_bar.value(), view.epoch_bar.maximum()) == (epochs, epochs)
    assert view.epoch_bar.format() == f"Epoch {epochs}/{epochs}"
    assert (view.batch_bar.value(), view.batch_bar.maximum()) == (steps, steps)
    assert view.batch_bar.format() == f"batch {steps}/{steps}"

    # feature maps: one tile per channel of the chosen convolution, live and after the run
    channels = conv.params["filters"]
    expected_shape = tuple(window.document.analysis.by_name(LAYER).output_shape)
    assert live_maps and all(layer == LAYER and shape == expected_shape for layer, shape in live_maps)
    assert view.mosaic.maps.shape == expected_shape == (channels, 11, 11)
    assert len(view.mosaic.tiles) == channels
    first_conv = window.document.network.node_by_name("conv2d_1").params["filters"]
    assert len(view.filters.tiles) == first_conv

    # results: the confusion matrix counts every validation sample once
    matrix = view.results.confusion.matrix
    assert matrix.shape == (10, 10)
    assert int(matrix.sum()) == validation == len(view.trained.y)

    # the run is kept in its own folder (the scratch one, for an untitled copy), and it says which metric it shows
    record = read_record(view.run_folder)
    assert record.status == "finished" and record.epochs == list(range(epochs))
    assert len(record.history["loss"]) == epochs and len(record.history["val_accuracy"]) == epochs
    assert (view.run_folder / "weights.safetensors").is_file() and (view.run_folder / "log.csv").is_file()
    assert LECTURE_FILE.parent not in view.run_folder.parents
    assert [run.status for run in view.runs] == ["finished"]
    assert f"accuracy {record.history['accuracy'][-1]:.4f}, val_accuracy" in view.status.text()
    assert view.export_button.isEnabled()

    # and editing works again
    assert window.document.push(SetParams(window.document.network, conv.id, {"filters": 8}))
    assert window.document.network.node_by_name(LAYER).params["filters"] == 8


def test_a_run_that_turns_to_nan_fails_with_its_reason_and_changes_nothing(qtbot, make_training_window, tmp_path):
    project_file = tmp_path / "lecture.cnnproj"
    shutil.copyfile(LECTURE_FILE, project_file)
    window = make_training_window()
    open_lecture(window, project_file)
    view = window.show_training()
    configure(view, subset=96, batch_size=16, epochs=1)
    assert window.save()
    saved_bytes = project_file.read_bytes()
    network_before = window.document.network.to_dict()
    assert view.callbacks_box.settings()["TerminateOnNaN"]["enabled"]  # on by default
    # a learning rate no spin box offers: SGD at 1e12 drives the loss to NaN within a few batches
    training = {**window.document.project.training, "optimizer": "sgd", "learning_rate": 1e12}
    window.document.push(SetProjectSettings(window.document, "training", training))

    assert train_and_wait(qtbot, view) == "failed"

    assert "nan" in view.failure.lower()
    assert [title for title, _ in window.prompter.errors] == ["Training failed"]
    assert "nan" in window.prompter.errors[0][1].lower()
    assert "unchanged" in view.status.text()
    assert project_file.read_bytes() == saved_bytes
    assert window.document.network.to_dict() == network_before
    assert view.trained is None and not view.export_button.isEnabled()
    record = read_record(view.run_folder)
    assert record.status == "failed" and "nan" in record.message.lower()
    assert not (view.run_folder / "weights.safetensors").exists()

    # editable again
    assert not view.running and not window.document.read_only
    assert window.lock_banner.isHidden()
    conv = window.document.network.node_by_name(LAYER)
    assert window.document.push(SetParams(window.document.network, conv.id, {"filters": 16}))
    assert window.document.network.node_by_name(LAYER).params["filters"] == 16


def test_reopening_a_saved_project_brings_back_its_runs(qtbot, make_training_window, tmp_path):
    project_file = tmp_path / "mine.cnnproj"
    first = make_training_window(save_to=str(project_file))
    open_lecture(first)
    assert first.save_as()
    view = first.show_training()
    configure(view, subset=96, batch_size=16, epochs=2)
    assert first.save()  # the settings are part of the project
    assert train_and_wait(qtbot, view) == "finished"
    trained = view.runs[-1]
    assert trained.folder.parent == tmp_path / "mine.runs"
    first.close()

    second = make_training_window()
    assert second.open_path(project_file)
    reopened = second.show_training()
    reopened.wait_for_background()
    assert len(reopened.runs) == 1
    run = reopened.runs[0]
    assert (run.folder, run.status, run.epochs) == (trained.folder, "finished", [0, 1])
    assert run.history == trained.history
    assert reopened.run_box.count() == 1 and reopened.run_box.currentText() == run.summary()
    assert reopened.plots.curve_points("loss") == 2  # its history is drawn again
    assert reopened.dataset_box.subset.value() == 96 and reopened.settings_box.epochs.value() == 2
    assert reopened.trained is not None and reopened.export_button.isEnabled()


def test_a_run_trained_from_the_command_line_is_listed_and_opens_like_one_from_the_window(qtbot, make_training_window,
                                                                                         tmp_path, capsys):
    project_file = tmp_path / "lecture.cnnproj"
    shutil.copyfile(LECTURE_FILE, project_file)
    assert main(["train", str(project_file), "--subset", "120", "--epochs", "1", "--batch-size", "32",
                 "--seed", "4"]) == 0
    capsys.readouterr()
    (folder,) = (tmp_path / "lecture.runs").iterdir()

    window = make_training_window()
    assert window.open_path(project_file)
    view = window.show_training()
    view.wait_for_background()
    assert [run.folder for run in view.runs] == [folder]
    assert view.plots.curve_points("loss") == 1 and view.plots.curve_points("val_loss") == 1
    assert view.trained is not None and view.trained.record.folder == folder
    assert int(view.results.confusion.matrix.sum()) == len(view.trained.y) == round(120 * 0.1)
    assert view.mosaic.maps is not None and view.export_button.isEnabled()


def test_the_window_and_the_command_line_train_a_project_to_the_same_weights(qtbot, make_training_window, tmp_path,
                                                                            capsys):
    project_file = tmp_path / "same.cnnproj"
    shutil.copyfile(LECTURE_FILE, project_file)
    window = make_training_window()
    open_lecture(window, project_file)
    view = window.show_training()
    configure(view, subset=160, batch_size=32, epochs=2)
    view.settings_box.deterministic.setChecked(True)
    assert window.save()
    assert train_and_wait(qtbot, view) == "finished"
    from_window = view.run_folder

    assert main(["train", str(project_file)]) == 0
    capsys.readouterr()
    (from_cli,) = [folder for folder in (tmp_path / "same.runs").iterdir() if folder != from_window]

    assert same_weights(load_file(from_window / "weights.safetensors"), load_file(from_cli / "weights.safetensors"))

    def rows(folder):
        with open(folder / "log.csv", newline="") as handle:
            return list(csv.DictReader(handle))

    assert rows(from_window) == rows(from_cli) and len(rows(from_cli)) == 2
    settings = [json.loads((folder / "run.json").read_text())["settings"] for folder in (from_window, from_cli)]
    assert settings[0] == settings[1]


def test_opening_another_project_forgets_the_trained_model_of_the_last_one(qtbot, make_training_window):
    window = make_training_window()
    open_lecture(window)
    view = window.show_training()
    configure(view, subset=96, batch_size=16, epochs=1)
    assert train_and_wait(qtbot, view) == "finished"
    assert view.trained is not None and view.export_button.isEnabled()

    assert window.open_path(LECTURE_FILE.with_name("residual_net.cnnproj"), as_copy=True)

    assert view.runs == [] and view.run_box.count() == 0
    assert view.trained is None and not view.export_button.isEnabled()
    layers = {view.layer_box.itemText(i) for i in range(view.layer_box.count())}
    assert "block1_conv1" in layers and "conv2d_3" not in layers  # this project's layers, not the lecture's
    view.export("state_dict", "PyTorch weights (*.pt)")
    assert window.prompter.errors[-1][0] == "Nothing to export"  # the lecture's weights are not this network's


def test_an_untitled_projects_runs_move_beside_it_when_it_is_first_saved(qtbot, make_training_window, tmp_path):
    window = make_training_window(save_to=str(tmp_path / "kept.cnnproj"))
    open_lecture(window)  # an untitled copy
    view = window.show_training()
    configure(view, subset=96, batch_size=16, epochs=1)
    assert train_and_wait(qtbot, view) == "finished"
    scratch_folder = view.run_folder
    assert tmp_path not in scratch_folder.parents

    assert window.save_as()

    moved = tmp_path / "kept.runs" / scratch_folder.name
    assert not scratch_folder.exists() and read_record(moved).status == "finished"
    assert [run.folder for run in view.runs] == [moved] and view.trained.record.folder == moved
    reopened = make_training_window()
    assert reopened.open_path(tmp_path / "kept.cnnproj")
    assert [run.folder for run in reopened.show_training().runs] == [moved]


def test_a_setting_the_device_cannot_run_is_refused_before_anything_starts(qtbot, make_training_window):
    window = make_training_window()
    open_lecture(window)
    view = window.show_training()
    training = {**(window.document.project.training or {}), "device": "cpu", "precision": "float16"}
    window.document.push(SetProjectSettings(window.document, "training", training))

    assert not view.start()

    assert not view.running and view.process is None
    title, text = window.prompter.errors[-1]
    assert title == "Cannot train" and text.startswith("The Train tab: training.precision 'float16' needs a GPU")
