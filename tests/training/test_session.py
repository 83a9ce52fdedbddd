"""The training session: one way to train a project, for the CLI, the studio and sweeps."""

from __future__ import annotations

import csv
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from cnnstudio.core.network import sequential
from cnnstudio.core.project import Project, load_project, save_project
from cnnstudio.training.callback_settings import default_settings
from cnnstudio.training.callbacks import LambdaCallback
from cnnstudio.training.errors import DataMismatchError, TrainingError
from cnnstudio.training.events import EventWriter, decode_array, parse_event
from cnnstudio.training.run_folder import FAILED, FINISHED, STOPPED, list_runs, read_record, runs_dir
from cnnstudio.training.session import TrainingSession, plan_run
from cnnstudio.training.settings import Override, SettingsError
from tiny_runs import same_weights

SMALL_MNIST_NET = [("Input", {"shape": [1, 28, 28]}),
                   ("Conv2D", {"filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "activation": "relu"}),
                   ("MaxPool2D", {"kernel_size": [2, 2]}),
                   ("Flatten", {}),
                   ("Dense", {"units": 10, "activation": "softmax"})]


def write_project(folder, layers=SMALL_MNIST_NET, training=None, dataset=None, name="small"):
    path = folder / f"{name}.cnnproj"
    save_project(Project(sequential(layers), name=name,
                         dataset=dataset or {"name": "mnist", "num_classes": 10, "subset": 256},
                         training=training if training is not None else {"seed": 1, "epochs": 2, "threads": 1}),
                 path)
    return path


def train(project, overrides=None, **plan):
    stream = io.StringIO()
    result = TrainingSession(plan_run(project, overrides, **plan), stream=stream).run()
    return result, stream.getvalue()


def flags(**values):
    return {name: Override(value, f"--{name}") for name, value in values.items()}


def test_a_project_trains_into_a_run_folder_beside_it(tmp_path):
    project = write_project(tmp_path)
    original = project.read_bytes()
    result, text = train(project)

    assert result.status == FINISHED and result.folder.parent == runs_dir(project) == tmp_path / "small.runs"
    record = read_record(result.folder)
    assert record.status == FINISHED and record.epochs == [0, 1]
    assert set(record.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    # 256 samples, the default validation split of 10%, stratified by class
    assert record.dataset["train_samples"] + record.dataset["validation_samples"] == 256
    assert record.dataset["validation_samples"] == round(0.1 * 256)
    assert record.environment["seed"] == 1 and record.environment["torch"] == torch.__version__
    assert record.environment["threads"].startswith("1 (as set)")
    assert set(record.test) == {"loss", "accuracy"}
    assert "Test: loss" in text and text.count("Test:") == 1 and "Epoch 2/2" in text

    with open(result.folder / "log.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1"]
    assert list((result.folder / "checkpoints").glob("*.pt"))
    assert same_weights(load_file(result.folder / "weights.safetensors"),
                        torch.load(result.folder / "weights.pt", weights_only=True))
    predictions = np.load(result.folder / "predictions.npz")
    assert predictions["x"].dtype == np.uint8 and len(predictions["y"]) == record.dataset["validation_samples"]
    assert predictions["probabilities"].shape == (len(predictions["y"]), 10)
    assert load_project(result.folder / "project.cnnproj").network.same_as(load_project(project).network)
    assert not (result.folder / "backup").exists()  # a finished run needs no backup
    assert project.read_bytes() == original  # the project file is never written


def test_a_seed_is_always_recorded_so_a_run_can_be_repeated(tmp_path):
    project = write_project(tmp_path, training={"epochs": 1, "threads": 1})
    first, _ = train(project)
    again, _ = train(project, flags(seed=first.record.environment["seed"]))
    assert first.record.environment["seed_chosen"] == "random"
    assert same_weights(load_file(first.folder / "weights.safetensors"),
                        load_file(again.folder / "weights.safetensors"))


def test_overrides_win_and_a_new_optimizer_brings_its_own_learning_rate(tmp_path):
    project = write_project(tmp_path, training={"seed": 1, "epochs": 3, "optimizer": "adam", "learning_rate": 0.02})
    spec = plan_run(project, {"epochs": Override(1, "--epochs"), "learning_rate": Override(0.005, "--lr"),
                              "batch_size": Override(32, "--batch-size")})
    config = spec.settings.config
    assert (config.epochs, config.batch_size, config.learning_rate) == (1, 32, 0.005)
    assert spec.settings.sources["learning_rate"] == "--lr" and spec.settings.sources["optimizer"].endswith(
        "training.optimizer")
    spec = plan_run(project, {"optimizer": Override("sgd", "--optimizer")})
    assert (spec.settings.config.optimizer, spec.settings.config.learning_rate) == ("sgd", 0.01)


@pytest.mark.parametrize("value", [-1.0, 0.0, float("nan"), float("inf")])
def test_a_bad_learning_rate_flag_names_the_flag(tmp_path, value):
    with pytest.raises(SettingsError) as caught:
        plan_run(write_project(tmp_path), {"learning_rate": Override(value, "--lr")})
    assert str(caught.value).startswith("--lr: must be") and "project" not in str(caught.value)


def test_a_bad_setting_in_the_file_names_the_file_and_field(tmp_path):
    project = write_project(tmp_path, training={"batch_size": 0})
    with pytest.raises(SettingsError, match=r"small.cnnproj: training.batch_size must be a whole number >= 1"):
        plan_run(project)
    bad_split = write_project(tmp_path, dataset={"name": "mnist", "validation_split": 2}, name="split")
    with pytest.raises(SettingsError, match=r"split.cnnproj: dataset.validation_split: validation_split must be"):
        plan_run(bad_split)
    with pytest.raises(SettingsError, match=r"^--dataset: .*no-such-folder"):
        plan_run(project.with_name("split.cnnproj"), {"dataset": Override("no-such-folder", "--dataset")})


def test_a_project_without_a_dataset_asks_for_one(tmp_path):
    path = tmp_path / "none.cnnproj"
    save_project(Project(sequential(SMALL_MNIST_NET)), path)
    with pytest.raises(SettingsError, match="names no dataset"):
        plan_run(path)


def test_every_setting_the_studio_stores_is_read_callbacks_included(tmp_path):
    """What the Train tab saves: dataset.validation_split, training.callbacks, threads."""
    callbacks = default_settings()
    callbacks["EarlyStopping"].update(enabled=True, monitor="loss", patience=0, min_delta=10.0)
    callbacks["TensorBoard"]["enabled"] = True
    received = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            received.append(json.loads(form["data"][0]))  # Keras's default: a form field named data
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        callbacks["RemoteMonitor"].update(enabled=True, root=f"http://127.0.0.1:{server.server_port}")
        project = write_project(tmp_path, dataset={"name": "mnist", "subset": 200, "validation_split": 0.25},
                                training={"seed": 0, "epochs": 4, "threads": 1, "callbacks": callbacks})
        result, _ = train(project)
    finally:
        server.shutdown()
    record = read_record(result.folder)
    # EarlyStopping acted: no epoch improves the loss by 10, so the run ends after its second epoch
    assert record.status == FINISHED and record.epochs == [0, 1]
    assert list((result.folder / "tensorboard").rglob("events.out.tfevents.*"))
    assert [message["epoch"] for message in received] == [0, 1]
    assert record.dataset["validation_samples"] == 50


def test_an_older_file_keeps_its_validation_split_under_training(tmp_path):
    project = write_project(tmp_path, training={"seed": 1, "epochs": 1, "validation_split": 0.25})
    assert plan_run(project).settings.dataset["validation_split"] == 0.25


def test_a_dataset_that_does_not_fit_fails_the_run_with_the_fix(tmp_path):
    layers = SMALL_MNIST_NET[:-1] + [("Dense", {"units": 3, "activation": "softmax"})]
    project = write_project(tmp_path, layers)
    with pytest.raises(DataMismatchError, match="has 3 units. Set dense_1's units to 10"):
        train(project)
    (failed,) = list_runs(runs_dir(project))
    assert failed.status == FAILED and "units to 10" in failed.message


def test_a_nan_loss_fails_the_run_and_keeps_no_weights(tmp_path, monkeypatch):
    real = torch.nn.CrossEntropyLoss.forward
    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", lambda self, a, b: real(self, a, b) * float("nan"))
    with pytest.raises(TrainingError, match="nan"):
        train(write_project(tmp_path))
    (failed,) = list_runs(tmp_path / "small.runs")
    assert failed.status == FAILED and "nan" in failed.message and not failed.has_weights


def test_stop_then_resume_ends_with_the_weights_of_an_unbroken_run(tmp_path):
    project = write_project(tmp_path, training={"seed": 3, "epochs": 2, "batch_size": 32, "threads": 1})
    whole, _ = train(project)

    spec = plan_run(project)
    session = TrainingSession(spec, stream=io.StringIO(),
                              callbacks=[LambdaCallback(on_train_batch_end=lambda batch, logs:
                                                        session.request_stop() if batch == 1 else None)])
    stopped = session.run()
    record = read_record(stopped.folder)
    assert stopped.status == STOPPED and record.can_resume and "epoch 1, batch 2" in record.message

    resumed, text = train(project, resume=True)
    assert resumed.folder == stopped.folder and resumed.status == FINISHED and "Carrying on" in text
    assert same_weights(load_file(resumed.folder / "weights.safetensors"),
                        load_file(whole.folder / "weights.safetensors"))
    with open(resumed.folder / "log.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1"]
    assert not read_record(resumed.folder).can_resume


def test_resume_without_a_stopped_run_says_so(tmp_path):
    with pytest.raises(SettingsError, match="has no stopped run"):
        plan_run(write_project(tmp_path), resume=True)


def test_stop_before_training_starts_ends_the_run_at_once(tmp_path):
    session = TrainingSession(plan_run(write_project(tmp_path)), stream=io.StringIO())
    session.request_stop()
    result = session.run()
    assert result.status == STOPPED and read_record(result.folder).message == "stopped before training started"
    assert not result.weights


def test_a_hard_interrupt_keeps_the_last_epochs_backup(tmp_path):
    project = write_project(tmp_path, training={"seed": 3, "epochs": 2, "batch_size": 32, "threads": 1})
    seen = []

    def second_epoch_interrupt(batch, logs):
        if len(seen) >= 8:
            raise KeyboardInterrupt
        seen.append(batch)

    session = TrainingSession(plan_run(project), stream=io.StringIO(),
                              callbacks=[LambdaCallback(on_train_batch_end=second_epoch_interrupt)])
    with pytest.raises(KeyboardInterrupt):
        session.run()
    record = read_record(session.record.folder)
    assert record.status == STOPPED and record.can_resume and "interrupted" in record.message


def test_the_event_stream_tells_a_watcher_everything_it_shows(tmp_path):
    project = write_project(tmp_path)
    out = io.StringIO()
    spec = plan_run(project)
    spec.probe_layer = "conv2d_1"
    result = TrainingSession(spec, events=EventWriter(out)).run()
    events = [parse_event(line) for line in out.getvalue().splitlines()]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "phase" and kinds[-1] == "ended" and events[-1]["status"] == "finished"
    assert [event["phase"] for event in events if event["event"] == "phase"][:3] == ["loading", "building",
                                                                                     "training"]
    assert [event["epoch"] for event in events if event["event"] == "epoch"] == [0, 1]
    progress = [event for event in events if event["event"] == "progress"]
    steps = progress[0]["steps"]
    assert steps == -(-read_record(result.folder).dataset["train_samples"] // 64)
    assert all(event["steps"] == steps and 1 <= event["batch"] <= steps for event in progress)
    assert progress[-1]["batch"] == steps and progress[-1]["threads"] == 1
    maps = [decode_array(event["array"]) for event in events if event["event"] == "maps"]
    assert maps and all(array.shape == (4, 13, 13) for array in maps)
    sample = next(event for event in events if event["event"] == "sample")
    assert decode_array(sample["array"]).shape == (1, 28, 28) and "validation sample #0" in sample["caption"]
