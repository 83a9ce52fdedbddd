"""Train a project file from start to finish, for the command line.

``train_project("projects/lecture_mnist.cnnproj", epochs=2)`` loads the
project, merges its ``training`` settings with the overrides given, loads the
dataset it names (or the one given), checks that the data fit the network,
trains with a progress bar, and leaves in the output folder:

=======================  ===============================================
``log.csv``              one row per epoch (``CSVLogger``)
``checkpoints/*.pt``     the best model so far (network + weights)
``backup/``              while a run is unfinished: where it carries on
``weights.safetensors``  the final weights (safetensors)
``weights.pt``           the same, ``torch.save`` of the state_dict
``training.json``        settings, dataset, history and test metrics
=======================  ===============================================

Run it again on the same folder after a crash or Ctrl+C and it carries on
from the backup.  The first Ctrl+C stops after the current batch and saves
the exact position; a second one aborts at once (the last backup stays).
The project file is only read, never written.

Errors the user can fix arrive as ``ProjectError``, ``DatasetError`` or
``TrainingError``, each with a one-line message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cnnstudio.core.analysis import analyze
from cnnstudio.core.atomic_file import write_atomic
from cnnstudio.core.project import load_project

from .callbacks import (BackupAndRestore, Callback, CSVLogger, History, ModelCheckpoint, ProgbarLogger,
                        TerminateOnNaN)
from .config import TrainConfig
from .errors import DataMismatchError, TrainingError
from .trainer import Trainer
from .weights import save_weights


@dataclass
class TrainResult:
    """What a ``train_project`` run did."""

    out_dir: Path
    config: TrainConfig
    dataset: str
    history: History | None = None
    interrupted: bool = False
    resumed: bool = False
    weights: list[Path] = field(default_factory=list)  # final weight files; none when interrupted
    test_metrics: dict[str, float] | None = None


def train_project(project_path: str | os.PathLike[str], dataset: Any = None, *, dataset_path: str | None = None,
                  epochs: int | None = None, batch_size: int | None = None, optimizer: str | None = None,
                  lr: float | None = None, device: str | None = None, seed: int | None = None,
                  subset: int | None = None, out_dir: str | os.PathLike[str] | None = None, resume: bool = True,
                  evaluate_test: bool = True, callbacks: Sequence[Callback] = (),
                  stream: TextIO | None = None) -> TrainResult:
    """Train the project at ``project_path``; see the module docstring.

    ``dataset`` is a registry name or path (``load_dataset``), an object with
    ``.x``, ``.y`` and ``.classes`` already in memory, or ``None`` for the one
    the project names.  ``subset`` keeps that many training (and test) samples.
    ``out_dir`` defaults to ``<project name>-training`` beside the project.
    ``resume=False`` discards an old backup instead of carrying on from it.
    ``callbacks`` are added to the standard ones (progress, CSV, checkpoint, backup).
    """
    stream = stream if stream is not None else sys.stdout
    project_file = Path(project_path)
    project = load_project(project_file)
    config = _merged_config(project_file, project.training, epochs=epochs, batch_size=batch_size,
                            optimizer=optimizer, lr=lr, device=device, seed=seed)
    data_seed = config.effective_seed or 0
    train_data, name = _load(dataset, project.dataset, dataset_path, "train", subset, data_seed)
    _check_fits(project.network, train_data, name)

    folder = Path(out_dir) if out_dir is not None else project_file.with_name(f"{project_file.stem}-training")
    folder.mkdir(parents=True, exist_ok=True)
    backup = BackupAndRestore(folder / "backup")
    resumed = resume and backup.backup_path.exists()
    if not resume:
        backup.delete()
    monitor = "val_loss" if config.validation_split > 0 else "loss"
    standard = [
        TerminateOnNaN(),  # a NaN loss ends the run as failed, with the model restored
        ProgbarLogger(stream=stream),
        CSVLogger(folder / "log.csv", append=resumed),
        ModelCheckpoint(str(folder / "checkpoints" / f"epoch{{epoch:02d}}-{monitor}{{{monitor}:.4f}}.pt"),
                        monitor=monitor, save_best_only=True),
        backup,
    ]
    trainer = Trainer(project.network, config, [*standard, *callbacks])
    result = TrainResult(folder, config, name, resumed=resumed)
    samples = len(train_data.x)
    stream.write(f"Training {project.name or project_file.stem!r} on {name} ({samples} samples) for "
                 f"{config.epochs} epochs, {config.optimizer} lr={config.learning_rate:g}, "
                 f"batch {config.batch_size}, {trainer.device.type}\n")
    if resumed:
        stream.write(f"Carrying on from the backup in {backup.backup_dir}\n")
    stream.flush()

    try:
        with _ctrl_c_stops(trainer, stream):
            result.history = trainer.fit(train_data.x, train_data.y)
    except KeyboardInterrupt:
        stream.write(f"\nInterrupted; run again to carry on from the last backup in {backup.backup_dir}\n")
        result.interrupted = True
        return result
    result.interrupted = trainer.interrupted
    if result.interrupted:
        stream.write(f"Saved the run in {backup.backup_dir}; run the same command again to carry on\n")
        return result

    result.weights = [save_weights(trainer.model, folder / "weights.safetensors"),
                      save_weights(trainer.model, folder / "weights.pt")]
    if evaluate_test and isinstance(dataset, (str, os.PathLike, type(None))):
        result.test_metrics = _evaluate_test(trainer, dataset, project.dataset, dataset_path, subset, data_seed,
                                             stream)
    summary = {"project": str(project_file), "dataset": name, "config": config.to_dict(),
               "history": result.history.history, "epochs": result.history.epoch, "test": result.test_metrics}
    write_atomic(folder / "training.json", json.dumps(summary, indent=2) + "\n")
    stream.write(f"Saved weights to {result.weights[0]} and {result.weights[1]}\n")
    stream.flush()
    return result


def _merged_config(project_file: Path, stored: dict | None, **overrides: Any) -> TrainConfig:
    """The project's training settings with the given overrides on top."""
    try:
        config = TrainConfig.from_dict(stored)
        if overrides["optimizer"] is not None and overrides["optimizer"] != config.optimizer:
            config = config.with_optimizer(overrides["optimizer"])  # the new optimizer's default lr
        changes = {"epochs": overrides["epochs"], "batch_size": overrides["batch_size"],
                   "learning_rate": overrides["lr"], "device": overrides["device"], "seed": overrides["seed"]}
        return dataclasses.replace(config, **{key: value for key, value in changes.items() if value is not None})
    except ValueError as error:
        raise TrainingError(f"{project_file}: {error}") from None


def _load(dataset: Any, stored: dict | None, dataset_path: str | None, split: str, subset: int | None,
          seed: int) -> tuple[Any, str]:
    """``(data, its name)``: a given in-memory dataset, or one loaded by name or path."""
    if dataset is not None and not isinstance(dataset, (str, os.PathLike)):
        return dataset, getattr(dataset, "name", "the given data")
    stored = stored or {}
    name = dataset if dataset is not None else stored.get("name")
    path = dataset_path if dataset is not None else (dataset_path or stored.get("path"))
    if not name:
        raise TrainingError("the project names no dataset; choose one (for example 'mnist')")
    from cnnstudio.data.registry import load_dataset  # the data package loads only when needed

    try:
        data = load_dataset(os.fspath(name), path=path, split=split, subset=subset, seed=seed)
    except ValueError as error:  # a dataset that takes no path, an unknown option...
        raise TrainingError(f"dataset {os.fspath(name)}: {error}") from None
    return data, os.fspath(name)


def _check_fits(network: Any, data: Any, name: str) -> None:
    from cnnstudio.data.compatibility import check_compatibility

    problems = check_compatibility(analyze(network), tuple(data.x.shape[1:]), len(data.classes))
    if problems:
        raise DataMismatchError(f"the dataset {name} does not fit the network: "
                                + " ".join(str(p) for p in problems))


def _evaluate_test(trainer: Trainer, dataset: Any, stored: dict | None, dataset_path: str | None,
                   subset: int | None, seed: int, stream: TextIO) -> dict[str, float] | None:
    """The lecture's ``model.evaluate(test_images, test_labels)``, when the dataset has a test split."""
    from cnnstudio.data.dataset import DatasetError

    try:
        test_data, _ = _load(dataset, stored, dataset_path, "test", subset, seed)
    except (DatasetError, TrainingError, OSError) as error:  # an image folder or .npz may have no test split
        stream.write(f"No test set to evaluate ({error})\n")
        return None
    stream.write("Test set: ")
    return trainer.evaluate(test_data.x, test_data.y)


@contextlib.contextmanager
def _ctrl_c_stops(trainer: Trainer, stream: TextIO) -> Iterator[None]:
    """While training, the first Ctrl+C asks the trainer to stop after the current batch
    (a clean, resumable stop); the second raises ``KeyboardInterrupt`` as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, frame: Any) -> None:
        if trainer.stop_requested:
            raise KeyboardInterrupt
        stream.write("\nStopping after this batch (press Ctrl+C again to abort)...\n")
        stream.flush()
        trainer.request_stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


__all__ = ["TrainResult", "train_project"]
