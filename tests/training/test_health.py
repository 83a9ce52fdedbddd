"""Training-health findings: each made by a run built to show it, none by a healthy run.

The runs are tiny (synthetic 8x8 images or a few hundred MNIST samples, a few
batches) so each takes a second or two; the rules' thresholds are tested from
plain numbers in ``test_health_rules.py``."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnstudio.core.network import sequential
from cnnstudio.training.callbacks import LambdaCallback
from cnnstudio.training.errors import TrainingError
from cnnstudio.training.events import EventWriter, parse_event
from cnnstudio.training.health import Finding
from cnnstudio.training.health_monitor import HealthCallback
from cnnstudio.training.run_folder import FINISHED, list_runs, read_record, runs_dir
from cnnstudio.training.session import TrainingSession, plan_run
from tiny_runs import CLASSES, band_data, tiny_network, trainer


def kinds(callback: HealthCallback) -> list[str]:
    return [finding.kind for finding in callback.findings]


def the(callback: HealthCallback, kind: str):
    found = [finding for finding in callback.findings if finding.kind == kind]
    assert found, f"no {kind} finding; found: {[f.text() for f in callback.findings]}"
    return found[0]


def run(network=None, data=None, class_counts=None, validation=None, callbacks=(), prepare=None, **settings):
    health = HealthCallback(class_counts=class_counts, interval=5)
    x, y = data if data is not None else band_data(240)
    run_trainer = trainer([health, *callbacks], network=network, **settings)
    if prepare is not None:
        prepare(run_trainer.model)
    run_trainer.fit(x, y, validation_data=validation, verbose=0)
    return health


def test_a_learning_rate_of_10_is_too_high():
    health = run(learning_rate=10.0, optimizer="sgd", epochs=2)
    finding = the(health, "lr_too_high")
    assert finding.numbers["learning_rate"] == 10.0 and finding.epoch == 0
    assert "divide the learning rate by 10" in finding.fix


def test_relus_pushed_dead_by_a_large_negative_bias_are_named():
    network = sequential([("Input", {"shape": [1, 8, 8]}),
                          ("Conv2D", {"filters": 8, "kernel_size": [3, 3], "activation": "relu"}),
                          ("Flatten", {}),
                          ("Dense", {"units": 16, "activation": "relu"}),
                          ("Dense", {"units": CLASSES, "activation": "softmax"})])

    def push_dead(model):
        with torch.no_grad():
            model.dense_1.bias.fill_(-100.0)

    health = run(network, prepare=push_dead, epochs=1)
    finding = the(health, "dead_relu")
    assert finding.layers == ("dense_1",)
    assert finding.numbers["dead_units"] == finding.numbers["units"] == 16
    assert "conv2d_1" not in [f.layer for f in health.findings if f.kind == "dead_relu"]


def test_a_deep_sigmoid_stack_has_vanishing_gradients_in_its_first_layers():
    layers = [("Input", {"shape": [1, 8, 8]}), ("Flatten", {})]
    layers += [("Dense", {"units": 32, "activation": "sigmoid"}) for _ in range(8)]
    layers.append(("Dense", {"units": CLASSES, "activation": "softmax"}))
    health = run(sequential(layers), epochs=1, optimizer="sgd", learning_rate=0.01)
    finding = the(health, "vanishing_gradients")
    assert finding.layer == "dense_1"
    assert finding.numbers["ratio"] < 1e-3
    assert "dense_9" not in finding.layers  # the output layer is the yardstick


def test_raw_inputs_thousands_of_times_too_large_make_the_first_layers_gradient_explode():
    # pixels left at a scale of 10,000 with a first layer whose small weights hide it in the forward
    # pass: the first layer's gradient is the input times what flows back, 10,000 times too large
    layers = [("Input", {"shape": [1, 8, 8]}), ("Flatten", {}),
              ("Dense", {"units": 16, "activation": "relu"}),
              ("Dense", {"units": CLASSES, "activation": "softmax"})]
    x, y = band_data(240)

    def shrink_first_layer(model):
        with torch.no_grad():
            model.dense_1.weight.mul_(1e-4)

    health = run(sequential(layers), data=(x * 1e4, y), prepare=shrink_first_layer, epochs=1, optimizer="sgd",
                 learning_rate=1e-12)
    finding = the(health, "exploding_gradients")
    assert finding.layers == ("dense_1",)
    assert finding.numbers["ratio"] > 1e3


def test_training_a_tiny_subset_for_many_epochs_overfits_and_names_the_epoch():
    x, y = band_data(400, seed=3)
    x = x + np.random.default_rng(4).normal(0, 0.4, x.shape).astype(np.float32)  # hard enough to memorise
    health = run(tiny_network(dropout=0), data=(x[:24], y[:24]), validation=(x[200:], y[200:]), epochs=60,
                 batch_size=8, learning_rate=0.01)
    finding = the(health, "overfitting")
    best = finding.numbers["best_epoch"]
    assert finding.epoch == best  # began the epoch after the best (0-based epoch = 1-based best)
    assert finding.numbers["val_loss_now"] > finding.numbers["best_val_loss"]
    assert finding.numbers["loss_now"] < finding.numbers["loss_at_best"]


def test_very_unbalanced_classes_are_reported_at_the_start():
    x, y = band_data(240)
    counts = np.bincount(y, minlength=CLASSES)
    health = run(data=(x, y), class_counts=[int(counts[0]), 3, 2], epochs=1)
    finding = the(health, "class_imbalance")
    assert finding.numbers["largest_class"] == counts[0] and finding.numbers["smallest_class"] == 2
    assert finding.x == 0.0


def test_infinite_values_are_traced_to_the_first_layer_that_made_them():
    network = sequential([("Input", {"shape": [1, 8, 8]}),
                          ("Conv2D", {"filters": 4, "kernel_size": [3, 3], "activation": "relu"}),
                          ("Flatten", {}),
                          ("Dense", {"units": 16, "activation": "relu"}),
                          ("Dense", {"units": CLASSES, "activation": "softmax"})])

    def overflow(model):
        with torch.no_grad():
            model.dense_1.weight.fill_(3e38)

    health = HealthCallback(interval=5)
    run_trainer = trainer([health], network=network, epochs=1)
    overflow(run_trainer.model)
    x, y = band_data(96)
    run_trainer.fit(x, y, verbose=0)
    finding = the(health, "non_finite")
    assert finding.layers == ("dense_1",) and finding.numbers["batch"] == 1


# ---------------------------------------------------------------------------- through the session

LECTURE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"


def session_run(tmp_path, overrides, events=None):
    project = tmp_path / "lecture.cnnproj"
    shutil.copy(LECTURE, project)
    stream = io.StringIO()
    spec = plan_run(project, {"threads": 1, "seed": 1, **overrides}, evaluate_test=False)
    try:
        result = TrainingSession(spec, stream=stream, events=events).run()
    except TrainingError:
        result = None
    return result, stream.getvalue(), project


def test_the_lecture_network_trained_normally_shows_no_finding(tmp_path):
    result, text, _ = session_run(tmp_path, {"subset": 2000, "epochs": 2})
    assert result.status == FINISHED and result.history.history["val_accuracy"][-1] > 0.6  # it learns
    assert result.record.health == [] and read_record(result.folder).health == []
    assert "Training health: no problems found." in text


def test_findings_are_printed_kept_in_the_run_and_sent_as_events(tmp_path):
    events = io.StringIO()
    result, text, project = session_run(tmp_path, {"subset": 600, "epochs": 1, "learning_rate": 10.0,
                                                   "optimizer": "sgd"}, EventWriter(events))
    record = list_runs(runs_dir(project))[-1]
    kinds_kept = [finding["kind"] for finding in record.health]
    assert "lr_too_high" in kinds_kept
    assert "Training health:" in text and "The learning rate 10 is too high" in text and "Fix: divide" in text
    sent = [parse_event(line) for line in events.getvalue().splitlines()]
    health_events = [event["finding"] for event in sent if event and event["event"] == "health"]
    assert [finding["kind"] for finding in health_events] == kinds_kept
    assert Finding.from_json(health_events[0]).text()


def test_health_checks_can_be_switched_off(tmp_path):
    result, text, _ = session_run(tmp_path, {"subset": 300, "epochs": 1, "learning_rate": 10.0, "optimizer": "sgd",
                                             "health_checks": False})
    record = list_runs(runs_dir(tmp_path / "lecture.cnnproj"))[-1]
    assert record.health == [] and "Training health" not in text
    assert record.settings["training"]["health_checks"] is False


def test_the_train_command_prints_the_findings_once_and_can_skip_them(tmp_path, capsys):
    from cnnstudio.cli import main

    project = tmp_path / "lecture.cnnproj"
    shutil.copy(LECTURE, project)
    common = ["train", str(project), "--subset", "300", "--epochs", "1", "--optimizer", "sgd", "--lr", "10",
              "--threads", "1", "--seed", "1"]
    main(common)
    out = capsys.readouterr().out
    assert out.count("The learning rate 10 is too high") == 1 and "Training health:" in out
    main([*common, "--no-health-checks"])
    assert "Training health" not in capsys.readouterr().out


def test_a_learning_rate_far_too_low_makes_no_progress():
    health = run(epochs=1, batch_size=8, learning_rate=1e-7, optimizer="sgd")
    finding = the(health, "no_progress")
    assert finding.epoch == 0 and "too low a learning rate" in finding.cause


def test_a_softmax_fed_to_the_loss_twice_is_named_as_the_likely_cause():
    network = sequential([("Input", {"shape": [1, 8, 8]}), ("Flatten", {}),
                          ("Dense", {"units": CLASSES, "activation": "softmax"}),
                          ("Softmax", {})])
    health = run(network, epochs=1, batch_size=8, learning_rate=1e-3, optimizer="sgd")
    finding = the(health, "no_progress")
    assert "already sum to 1" in finding.cause


def test_a_run_ended_by_a_nan_loss_between_checks_still_reports_it(monkeypatch):
    from cnnstudio.training import health_monitor
    from cnnstudio.training.callbacks import TerminateOnNaN

    monkeypatch.setattr(health_monitor, "DENSE_BATCHES", 1)
    health = HealthCallback(interval=1000)

    def break_weights(batch, logs=None):
        if batch == 3:
            with torch.no_grad():
                run_trainer.model.dense_1.weight.fill_(float("nan"))

    run_trainer = trainer([LambdaCallback(on_train_batch_begin=break_weights), TerminateOnNaN(), health], epochs=1)
    x, y = band_data(240)
    with pytest.raises(TrainingError, match="nan"):
        run_trainer.fit(x, y, verbose=0)
    finding = the(health, "non_finite")
    assert finding.numbers["batch"] == 4 and "the loss" in finding.title
