"""Callbacks that write files: ModelCheckpoint, CSVLogger and TensorBoard, each read back."""

from __future__ import annotations

import csv
import sys

import pytest
import torch
from safetensors.torch import load_file

from cnnstudio.training.callbacks import CSVLogger, LambdaCallback, ModelCheckpoint, TensorBoard
from cnnstudio.training.weights import load_model
from tiny_runs import band_data, same_weights, scripted, trainer, weights_of

X, Y = band_data(64)
VALIDATION = band_data(32, seed=1)


class EpochWeights(LambdaCallback):
    def __init__(self):
        super().__init__(on_epoch_end=lambda epoch, logs: self.weights.append(weights_of(self.model)))
        self.weights = []


# ---------------------------------------------------------------------- ModelCheckpoint

def test_checkpoint_names_files_from_the_template_and_the_logs(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "{epoch:02d}-{val_loss:.3f}.pt")
    run = trainer([checkpoint], epochs=3)
    history = run.fit(X, Y, validation_data=VALIDATION)
    names = [f"{epoch + 1:02d}-{loss:.3f}.pt" for epoch, loss in zip(history.epoch, history.history["val_loss"])]
    assert [path.name for path in checkpoint.saved] == names
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names)
    network, model = load_model(checkpoint.saved[-1])  # a whole model: network + weights
    assert network.to_dict() == run.network.to_dict()
    assert same_weights(weights_of(model), weights_of(run.model))


def test_checkpoint_save_best_only_keeps_the_best_by_the_monitor(tmp_path):
    recorder = EpochWeights()
    checkpoint = ModelCheckpoint(tmp_path / "best.pt", monitor="metric", mode="min", save_best_only=True)
    run = trainer([scripted("metric", [3, 1, 2, 0.5, 0.7]), recorder, checkpoint], epochs=5)
    run.fit(X, Y)
    assert len(checkpoint.saved) == 3 and checkpoint.best == 0.5  # epochs 0, 1 and 3 improved
    _, model = load_model(tmp_path / "best.pt")
    assert same_weights(weights_of(model), recorder.weights[3])


def test_checkpoint_auto_mode_maximises_accuracy_and_honours_the_initial_threshold(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "e{epoch}.pt", monitor="val_accuracy", save_best_only=True,
                                 initial_value_threshold=0.6)
    trainer([scripted("val_accuracy", [0.5, 0.7, 0.65, 0.8]), checkpoint], epochs=4).fit(X, Y)
    assert [path.name for path in checkpoint.saved] == ["e2.pt", "e4.pt"]


def test_checkpoint_weights_only_writes_a_state_dict_loadable_safely(tmp_path):
    pt = ModelCheckpoint(tmp_path / "w.pt", save_weights_only=True)
    st = ModelCheckpoint(tmp_path / "w.safetensors", save_weights_only=True)
    run = trainer([pt, st], epochs=1)
    run.fit(X, Y, validation_data=VALIDATION)
    expected = weights_of(run.model)
    assert same_weights(torch.load(tmp_path / "w.pt", weights_only=True), expected)
    assert same_weights(load_file(tmp_path / "w.safetensors"), expected)


def test_checkpoint_every_n_batches_can_name_the_batch(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "e{epoch}-b{batch}.pt", save_freq=1, save_weights_only=True)
    trainer([checkpoint], epochs=2, batch_size=32).fit(X, Y)
    assert [path.name for path in checkpoint.saved] == ["e1-b1.pt", "e1-b2.pt", "e2-b1.pt", "e2-b2.pt"]


def test_checkpoint_with_a_missing_monitor_warns_and_skips(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "best.pt", save_best_only=True)  # val_loss, but no validation
    with pytest.warns(RuntimeWarning, match="Can save best model only with val_loss available"):
        trainer([checkpoint], epochs=1).fit(X, Y)
    assert checkpoint.saved == []


def test_checkpoint_template_naming_an_unknown_value_fails_clearly(tmp_path):
    with pytest.raises(KeyError, match="no value named val_loss"):
        trainer([ModelCheckpoint(tmp_path / "{val_loss}.pt")], epochs=1).fit(X, Y)


# ---------------------------------------------------------------------- CSVLogger

def read_rows(path, separator=","):
    with open(path, newline="") as handle:
        return list(csv.reader(handle, delimiter=separator))


def test_csv_logger_writes_one_row_per_epoch_with_keras_columns(tmp_path):
    history = trainer([CSVLogger(tmp_path / "log.csv")], epochs=3).fit(X, Y, validation_data=VALIDATION)
    rows = read_rows(tmp_path / "log.csv")
    assert rows[0] == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]
    assert [float(row[2]) for row in rows[1:]] == pytest.approx(history.history["loss"])


def test_csv_logger_without_validation_adds_empty_val_columns_like_keras(tmp_path):
    trainer([CSVLogger(tmp_path / "log.csv")], epochs=1).fit(X, Y)
    rows = read_rows(tmp_path / "log.csv")
    assert rows[0] == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert rows[1][4:] == ["NA", "NA"]


def test_csv_logger_append_mode_continues_the_file_under_one_header(tmp_path):
    path = tmp_path / "log.tsv"
    trainer([CSVLogger(path, separator="\t", append=True)], epochs=2).fit(X, Y)
    trainer([CSVLogger(path, separator="\t", append=True)], epochs=1).fit(X, Y)
    rows = read_rows(path, "\t")
    assert rows[0][:3] == ["epoch", "accuracy", "loss"]
    assert [row[0] for row in rows] == ["epoch", "0", "1", "0"]
    trainer([CSVLogger(path, separator="\t")], epochs=1).fit(X, Y)
    assert len(read_rows(path, "\t")) == 2  # append=False starts afresh


def test_csv_logger_closes_its_file_when_the_run_fails(tmp_path):
    logger = CSVLogger(tmp_path / "log.csv")

    def fail(epoch, logs):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        trainer([logger, LambdaCallback(on_epoch_end=fail)], epochs=2).fit(X, Y)
    assert logger.csv_file is None
    assert len(read_rows(tmp_path / "log.csv")) == 2  # the header and the epoch that finished


# ---------------------------------------------------------------------- TensorBoard

def test_tensorboard_event_files_read_back_with_tensorboards_own_reader(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    board = TensorBoard(tmp_path, histogram_freq=1, update_freq=1)
    history = trainer([board], epochs=3, batch_size=32).fit(X, Y, validation_data=VALIDATION)

    train = EventAccumulator(str(tmp_path / "train"), size_guidance={"histograms": 0, "scalars": 0})
    train.Reload()
    tags = train.Tags()
    assert {"epoch_loss", "epoch_accuracy", "epoch_lr", "batch_loss", "batch_accuracy"} <= set(tags["scalars"])
    losses = train.Scalars("epoch_loss")
    assert [event.step for event in losses] == [0, 1, 2]
    assert [event.value for event in losses] == pytest.approx(history.history["loss"], rel=1e-6)
    assert len(train.Scalars("batch_loss")) == 6  # 2 batches x 3 epochs
    assert {"conv2d_1/weight/histogram", "dense_1/bias/histogram"} <= set(tags["histograms"])
    assert len(train.Histograms("conv2d_1/weight/histogram")) == 3

    validation = EventAccumulator(str(tmp_path / "validation"))
    validation.Reload()
    assert [e.value for e in validation.Scalars("epoch_loss")] == pytest.approx(history.history["val_loss"], rel=1e-6)
    assert "epoch_lr" not in validation.Tags()["scalars"]


def test_tensorboard_without_the_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="needs the 'tensorboard' package.*pip install tensorboard"):
        TensorBoard("logs")


def test_tensorboard_can_write_the_model_graph(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    trainer([TensorBoard(tmp_path, write_graph=True)], epochs=1).fit(X, Y)
    events = EventAccumulator(str(tmp_path / "train"))
    events.Reload()
    assert events.Tags()["graph"]


# ---------------------------------------------------------------------- the files themselves

@pytest.mark.parametrize("name", ["model.pt", "model.safetensors"])
def test_a_whole_model_file_rebuilds_the_network_and_weights(tmp_path, name):
    from cnnstudio.training.errors import TrainingError
    from cnnstudio.training.export_weights import load_weights
    from cnnstudio.training.weights import save_model, save_weights

    run = trainer(epochs=1)
    run.fit(X, Y)
    save_model(run.model, run.network, tmp_path / name)
    network, model = load_model(tmp_path / name)
    assert network.to_dict() == run.network.to_dict() and not model.training
    assert same_weights(weights_of(model), weights_of(run.model))
    assert same_weights(load_weights(tmp_path / name), weights_of(run.model))  # the export side reads it too
    save_weights(run.model, tmp_path / ("weights-" + name))
    with pytest.raises(TrainingError, match="holds weights only"):
        load_model(tmp_path / ("weights-" + name))
