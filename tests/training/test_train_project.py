"""train_project: what the CLI's ``train`` command runs, on the built-in MNIST."""

from __future__ import annotations

import csv
import io
import json
import os
import signal

import pytest
import torch
from safetensors.torch import load_file

from cnnstudio.core.network import sequential
from cnnstudio.core.project import Project, save_project
from cnnstudio.training.callbacks import LambdaCallback
from cnnstudio.training.errors import TrainingError
from cnnstudio.training.run import train_project
from tiny_runs import band_data, same_weights, tiny_network

SMALL_MNIST_NET = [("Input", {"shape": [1, 28, 28]}),
                   ("Conv2D", {"filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "activation": "relu"}),
                   ("MaxPool2D", {"kernel_size": [2, 2]}),
                   ("Flatten", {}),
                   ("Dense", {"units": 10, "activation": "softmax"})]


def write_project(folder, layers=SMALL_MNIST_NET, training=None, dataset=None):
    path = folder / "small.cnnproj"
    save_project(Project(sequential(layers), name="small", dataset=dataset or {"name": "mnist", "num_classes": 10},
                         training=training if training is not None else {"seed": 1, "epochs": 2,
                                                                        "validation_split": 0.25}), path)
    return path


def at_batch(n, action):
    return LambdaCallback(on_train_batch_end=lambda batch, logs: action() if batch == n else None)


def test_a_project_trains_and_leaves_its_files(tmp_path):
    project = write_project(tmp_path)
    original = project.read_bytes()
    out = io.StringIO()
    result = train_project(project, subset=256, stream=out)

    folder = tmp_path / "small-training"
    assert result.out_dir == folder and not result.interrupted and not result.resumed
    assert result.config.epochs == 2 and result.config.optimizer == "rmsprop"
    assert result.history.epoch == [0, 1] and "val_loss" in result.history.history
    text = out.getvalue()
    assert "Training 'small' on mnist (256 samples)" in text and "Epoch 2/2" in text and "Test set: " in text
    assert set(result.test_metrics) == {"loss", "accuracy"}

    with open(folder / "log.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1"]
    assert list((folder / "checkpoints").glob("epoch01-val_loss*.pt"))
    safetensors_weights, torch_weights = load_file(folder / "weights.safetensors"), \
        torch.load(folder / "weights.pt", weights_only=True)
    assert same_weights(safetensors_weights, torch_weights)
    summary = json.loads((folder / "training.json").read_text())
    assert summary["config"]["seed"] == 1 and summary["history"]["loss"] == result.history.history["loss"]
    assert not (folder / "backup").exists()
    assert project.read_bytes() == original  # the project file is never written


def test_overrides_win_over_the_projects_settings(tmp_path):
    project = write_project(tmp_path, training={"seed": 1, "epochs": 3, "optimizer": "adam", "learning_rate": 0.02})
    result = train_project(project, subset=64, epochs=1, batch_size=32, lr=0.005, out_dir=tmp_path / "a",
                           evaluate_test=False, stream=io.StringIO())
    assert (result.config.epochs, result.config.batch_size, result.config.learning_rate) == (1, 32, 0.005)
    result = train_project(project, subset=64, epochs=1, optimizer="sgd", out_dir=tmp_path / "b",
                           evaluate_test=False, stream=io.StringIO())
    assert (result.config.optimizer, result.config.learning_rate) == ("sgd", 0.01)  # SGD's own default


def test_a_dataset_that_does_not_fit_is_refused_with_the_fix(tmp_path):
    layers = SMALL_MNIST_NET[:-1] + [("Dense", {"units": 3, "activation": "softmax"})]
    with pytest.raises(TrainingError, match="has 3 units. Set dense_1's units to 10"):
        train_project(write_project(tmp_path, layers), subset=32, stream=io.StringIO())


def test_bad_training_settings_name_the_file_and_field(tmp_path):
    with pytest.raises(TrainingError, match="small.cnnproj: training.batch_size must be"):
        train_project(write_project(tmp_path, training={"batch_size": 0}), subset=32, stream=io.StringIO())


def test_ctrl_c_saves_a_backup_and_the_next_run_carries_on_to_the_same_weights(tmp_path):
    project = write_project(tmp_path, training={"seed": 3, "epochs": 2, "batch_size": 32})
    whole = train_project(project, subset=128, out_dir=tmp_path / "whole", evaluate_test=False,
                          stream=io.StringIO())

    out = io.StringIO()
    stopped = train_project(project, subset=128, out_dir=tmp_path / "split", evaluate_test=False, stream=out,
                            callbacks=[at_batch(1, lambda: os.kill(os.getpid(), signal.SIGINT))])
    assert stopped.interrupted and stopped.weights == []
    assert (tmp_path / "split" / "backup" / "backup.pt").exists()
    assert "Stopping after this batch" in out.getvalue() and "run the same command again" in out.getvalue()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler was put back

    out = io.StringIO()
    finished = train_project(project, subset=128, out_dir=tmp_path / "split", evaluate_test=False, stream=out)
    assert finished.resumed and not finished.interrupted and "Carrying on from the backup" in out.getvalue()
    assert same_weights(load_file(tmp_path / "split" / "weights.safetensors"),
                        load_file(tmp_path / "whole" / "weights.safetensors"))
    with open(tmp_path / "split" / "log.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1"]


def test_a_hard_keyboard_interrupt_returns_cleanly_and_keeps_the_last_backup(tmp_path):
    project = write_project(tmp_path, training={"seed": 3, "epochs": 2, "batch_size": 32})

    def second_epoch_interrupt(batch, logs):
        if len(seen) >= 5:
            raise KeyboardInterrupt
        seen.append(batch)

    seen = []
    result = train_project(project, subset=128, evaluate_test=False, stream=io.StringIO(),
                           callbacks=[LambdaCallback(on_train_batch_end=second_epoch_interrupt)])
    assert result.interrupted and (tmp_path / "small-training" / "backup" / "backup.pt").exists()
    fresh = train_project(project, subset=128, resume=False, evaluate_test=False, stream=io.StringIO())
    assert not fresh.resumed and fresh.history.epoch == [0, 1]


def test_an_in_memory_dataset_can_be_given(tmp_path):
    class Data:
        x, y = band_data(64)
        classes = ["top", "middle", "bottom"]
        name = "bands"

    project = tmp_path / "tiny.cnnproj"
    save_project(Project(tiny_network(), training={"seed": 0, "epochs": 1}), project)
    result = train_project(project, Data(), stream=io.StringIO())
    assert result.dataset == "bands" and result.test_metrics is None and len(result.weights) == 2


def test_a_project_without_a_dataset_asks_for_one(tmp_path):
    project = tmp_path / "tiny.cnnproj"
    save_project(Project(tiny_network()), project)
    with pytest.raises(TrainingError, match="names no dataset"):
        train_project(project, stream=io.StringIO())
