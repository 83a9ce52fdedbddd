"""The training loop: what it logs, how repeatable it is, and how it fails."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import cnnstudio.training.metrics as metrics
from cnnstudio.core.network import sequential
from cnnstudio.training.callbacks import Callback, LambdaCallback, TerminateOnNaN
from cnnstudio.training.config import TrainConfig
from cnnstudio.training.errors import TrainingError
from cnnstudio.training.metrics import LazyLogs
from cnnstudio.training.trainer import Trainer
from tiny_runs import band_data, same_weights, tiny_network, trainer, weights_of

KERAS_NAMES = {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def test_a_short_seeded_run_learns_and_logs_keras_names():
    x, y = band_data()
    run = trainer(epochs=4, validation_split=0.25)
    history = run.fit(x, y)
    assert set(history.history) == KERAS_NAMES
    assert history.epoch == [0, 1, 2, 3]
    assert all(len(values) == 4 for values in history.history.values())
    loss = history.history["loss"]
    assert loss[-1] < loss[0]
    assert history.history["accuracy"][-1] > 0.6
    assert history.history["lr"] == [0.01] * 4
    assert run.history is history


def test_the_same_seed_gives_identical_weights_twice():
    x, y = band_data()
    first, second, other = trainer(), trainer(), trainer(seed=8)
    for run in (first, second, other):
        run.fit(x, y)
    assert same_weights(weights_of(first.model), weights_of(second.model))
    assert not same_weights(weights_of(first.model), weights_of(other.model))


def test_deterministic_mode_is_switched_off_again_after_fit():
    x, y = band_data(64)
    before = torch.are_deterministic_algorithms_enabled()
    seen = []
    look = LambdaCallback(on_train_begin=lambda logs: seen.append(torch.are_deterministic_algorithms_enabled()))
    run = trainer([look], deterministic=True, seed=None, epochs=1)
    run.fit(x, y)
    assert seen == [True]
    assert torch.are_deterministic_algorithms_enabled() == before


class Recorder(Callback):
    """Writes down every hook call."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end"):
            calls = object.__getattribute__(self, "calls")

            def record(*args):
                calls.append((name, *[a for a in args if isinstance(a, int)]))
            return record
        return object.__getattribute__(self, name)


def test_hooks_come_in_keras_order():
    x, y = band_data(64)
    recorder = Recorder()
    run = trainer([recorder], epochs=2, batch_size=32)
    run.fit(x, y, validation_data=(x[:20], y[:20]))
    epoch = lambda e: [("on_epoch_begin", e), ("on_train_batch_begin", 0), ("on_train_batch_end", 0),  # noqa: E731
                       ("on_train_batch_begin", 1), ("on_train_batch_end", 1), ("on_test_begin",),
                       ("on_test_batch_begin", 0), ("on_test_batch_end", 0), ("on_test_end",), ("on_epoch_end", e)]
    assert recorder.calls == [("on_train_begin",), *epoch(0), *epoch(1), ("on_train_end",)]
    recorder.calls.clear()
    run.predict(x[:40])
    assert recorder.calls == [("on_predict_begin",), ("on_predict_batch_begin", 0), ("on_predict_batch_end", 0),
                              ("on_predict_batch_begin", 1), ("on_predict_batch_end", 1), ("on_predict_end",)]


def test_batch_logs_are_lazy_running_means_of_the_epoch():
    x, y = band_data(100)
    seen = []
    run = trainer([LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs))], epochs=1, batch_size=32)
    history = run.fit(x, y)
    assert all(isinstance(logs, LazyLogs) for logs in seen) and len(seen) == 4
    assert "<pending>" in repr(seen[0])
    # the last batch's running mean is the epoch's mean; earlier logs kept their own values
    assert seen[-1]["loss"] == pytest.approx(history.history["loss"][0])
    assert seen[-1]["accuracy"] == pytest.approx(history.history["accuracy"][0])
    assert seen[0]["loss"] != seen[-1]["loss"]


def test_metrics_are_read_once_per_epoch_when_no_callback_reads_batch_logs(monkeypatch):
    reads = []
    original = metrics._means
    monkeypatch.setattr(metrics, "_means", lambda *args: reads.append(1) or original(*args))
    x, y = band_data(128)
    trainer(epochs=3, batch_size=16).fit(x, y, validation_data=(x[:32], y[:32]))
    assert len(reads) == 3 * 2  # each epoch: training means + validation means, for 8 + 2 batches


def test_evaluate_and_predict_agree_with_the_last_validation():
    x, y = band_data()
    run = trainer(validation_split=0.25)
    history = run.fit(x, y)
    split_at = int(math.floor(len(x) * 0.75))  # Keras keeps the *last* quarter for validation
    result = run.evaluate(x[split_at:], y[split_at:])
    assert set(result) == {"loss", "accuracy"}
    assert result["loss"] == pytest.approx(history.history["val_loss"][-1])
    assert result["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])
    probabilities = run.predict(x[:10])
    assert probabilities.shape == (10, 3) and probabilities.dtype == np.float32
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    with torch.no_grad():
        run.model.eval()
        expected = run.model(torch.from_numpy(x[:10])).numpy()
    assert np.allclose(probabilities, expected, atol=1e-6)


def test_predict_gives_probabilities_even_without_a_final_softmax():
    network = sequential([("Input", {"shape": [1, 8, 8]}), ("Flatten", {}), ("Dense", {"units": 3})])
    run = trainer(network=network, epochs=1)
    probabilities = run.predict(band_data(5)[0])
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5) and (probabilities > 0).all()


def test_uint8_pixels_and_one_hot_labels_are_accepted_like_keras():
    x, y = band_data(64)
    pixels = (x * 255).round().astype(np.uint8)
    one_hot = np.eye(3, dtype=np.float32)[y]
    history = trainer(epochs=1).fit(pixels, one_hot)
    assert math.isfinite(history.history["loss"][0])


def test_read_only_arrays_train_without_warnings():
    x, y = band_data(64)
    x.setflags(write=False)
    y.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert trainer(epochs=1).fit(x, y).epoch == [0]


def test_a_dataset_object_with_x_and_y_is_accepted():
    class Data:
        x, y = band_data(64)
    assert trainer(epochs=1).fit(Data()).epoch == [0]


@pytest.mark.parametrize("change, words", [
    (lambda x, y: (x.transpose(0, 2, 3, 1), y), "channels-last"),
    (lambda x, y: (x[:, 0], y), "add the channel axis"),
    (lambda x, y: (x, y + 3), "holds the class 5.*has 3 classes"),
    (lambda x, y: (x, y[:-1]), "63 labels for 64 images"),
    (lambda x, y: (np.where(np.arange(64)[:, None, None, None] == 5, np.nan, x), y), "NaN.*sample 5"),
    (lambda x, y: (x[:0], y[:0]), "no samples"),
    (lambda x, y: (x, y + 0.5), "fractional"),
])
def test_data_that_does_not_fit_is_refused_before_training(change, words):
    x, y = change(*band_data(64))
    run = trainer(epochs=1)
    before = weights_of(run.model)
    with pytest.raises(TrainingError, match=words):
        run.fit(x, y)
    assert same_weights(before, weights_of(run.model))


def test_a_network_with_errors_is_refused_with_the_analysis_message():
    broken = sequential([("Input", {"shape": [1, 2, 2]}), ("Conv2D", {"filters": 2, "kernel_size": [3, 3]}),
                         ("Flatten", {}), ("Dense", {"units": 3})])
    with pytest.raises(TrainingError, match="cannot build the network"):
        Trainer(broken, TrainConfig())


def test_a_network_without_a_class_vector_output_is_refused():
    network = sequential([("Input", {"shape": [1, 8, 8]}), ("Conv2D", {"filters": 2, "kernel_size": [3, 3]})])
    with pytest.raises(TrainingError, match="one score per class"):
        Trainer(network, TrainConfig())


def test_a_nan_loss_ends_the_run_with_the_weights_as_before():
    x, y = band_data(96)

    def poison(batch, logs):
        if batch == 1:
            with torch.no_grad():
                run.model.dense_1.weight[0, 0] = float("nan")

    run = trainer([LambdaCallback(on_train_batch_begin=poison), TerminateOnNaN()], epochs=2)
    before = weights_of(run.model)
    with pytest.raises(TrainingError, match=r"epoch 1, batch 2: the loss became nan.*lower learning rate"):
        run.fit(x, y)
    assert same_weights(before, weights_of(run.model))
    assert run.history.epoch == []


def test_running_out_of_memory_gives_a_clear_error_and_untouched_weights(monkeypatch):
    x, y = band_data(96)
    run = trainer(epochs=1)
    before = weights_of(run.model)
    calls = []
    original = run.model.logits

    def logits(batch):
        calls.append(1)
        if len(calls) == 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(batch)

    monkeypatch.setattr(run.model, "logits", logits)
    with pytest.raises(TrainingError, match="batch 2: ran out of memory.*batch_size 32.*lower the batch size"):
        run.fit(x, y)
    assert same_weights(before, weights_of(run.model))


def test_an_error_in_a_callback_propagates_after_on_exception():
    x, y = band_data(96)
    seen = []

    def explode(batch, logs):
        if batch == 1:
            raise ValueError("boom")

    run = trainer([LambdaCallback(on_train_batch_end=explode, on_exception=lambda error: seen.append(error))])
    with pytest.raises(ValueError, match="boom"):
        run.fit(x, y)
    assert len(seen) == 1 and isinstance(seen[0], ValueError)


def test_stop_training_from_a_callback_still_ends_the_epoch_like_keras():
    x, y = band_data(128)

    def stop(batch, logs):
        if batch == 1:
            run.stop_training = True

    run = trainer([LambdaCallback(on_train_batch_end=stop)], epochs=3)
    history = run.fit(x, y, validation_data=(x[:32], y[:32]))
    assert history.epoch == [0] and "val_loss" in history.history
    assert not run.interrupted


def test_bfloat16_autocast_trains_on_the_cpu():
    x, y = band_data(64)
    history = trainer(epochs=2, precision="bfloat16", device="cpu").fit(x, y)
    assert all(math.isfinite(value) for value in history.history["loss"])


@pytest.mark.skipif(torch.cuda.is_available() or torch.backends.mps.is_available(), reason="needs a CPU-only machine")
def test_float16_or_cuda_without_a_gpu_is_refused():
    with pytest.raises(TrainingError, match="float16.*needs a GPU"):
        Trainer(tiny_network(), TrainConfig(precision="float16"))
    with pytest.raises(TrainingError, match="sees no CUDA GPU"):
        Trainer(tiny_network(), TrainConfig(device="cuda"))


def test_fitting_again_carries_on_from_the_trained_weights():
    x, y = band_data()
    run = trainer(epochs=2)
    first = run.fit(x, y).history["loss"]
    second = run.fit(x, y).history["loss"]
    assert second[0] < first[0]


def test_the_trainer_never_changes_the_network_it_was_given():
    network = tiny_network()
    document = network.to_dict()
    x, y = band_data(64)
    trainer(network=network, epochs=1).fit(x, y)
    assert network.to_dict() == document
