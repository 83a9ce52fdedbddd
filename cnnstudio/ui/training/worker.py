"""The training worker: runs the Qt-free ``Trainer`` on a QThread and turns its
callbacks into Qt signals.

The UI thread never waits on training: everything the widgets need travels in
signals, condensed so each widget gets at most about one update per frame, and
feature maps are sampled on the worker (NumPy copies) a few times a second.
Stop and pause are the trainer's thread-safe flags."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from cnnstudio.core.network import Network

# Batch metrics at most 10 times a second: every redraw holds the GIL on the UI thread,
# and on a 2-core machine 30 redraws a second cost training more than half its speed.
FRAME_SECONDS = 1 / 10
MAPS_SECONDS = 0.5           # feature maps at most twice a second


@dataclass
class TrainingRequest:
    """A snapshot taken when Train is pressed: later edits cannot reach the run."""

    network: Network
    config: Any                     # cnnstudio.training.config.TrainConfig
    dataset: str                    # registry name or path
    dataset_path: str | None = None
    subset: int | None = None
    validation_fraction: float = 0.1
    probe_layers: list[str] = field(default_factory=list)
    probe_index: int = 0            # which validation sample the feature maps show
    callbacks: list = field(default_factory=list)   # extra engine callbacks from the callbacks editor
    label: str = "run"


@dataclass
class TrainingOutcome:
    """What a finished run hands back to the UI thread."""

    history: dict[str, list[float]]
    epochs: list[int]
    state_dict: dict            # CPU tensors, detached
    classes: list[str]
    val_x: np.ndarray
    val_y: np.ndarray
    probabilities: np.ndarray   # predictions on the validation samples
    stopped_early: bool
    seconds: float


class _SignalsCallbackFactory:
    """Builds the engine callback lazily (importing the engine only on the worker thread)."""

    @staticmethod
    def make(worker: "TrainingWorker", request: TrainingRequest, sample):
        from cnnstudio.training.callbacks import Callback, ModelCheckpoint
        from cnnstudio.training.probes import FeatureMapProbe, first_layer_filters

        class QtSignalsCallback(Callback):
            hook_order = 1  # after the configured callbacks, so markers see what they did

            def __init__(self) -> None:
                super().__init__()
                self.pending: list[tuple[float, dict]] = []
                self.last_emit = 0.0
                self.last_maps = 0.0
                self.steps = 1
                self.epoch = 0
                self.started = 0.0
                self.seen = 0
                self.lr = None
                self.best = {}

            def on_train_begin(self, logs=None) -> None:
                self.steps = max(1, int(self.params.get("steps", 1)))
                self.started = time.perf_counter()
                self.lr = self.trainer.learning_rate
                worker.started.emit(dict(self.params))
                self._maps(force=True)

            def on_epoch_begin(self, epoch, logs=None) -> None:
                self.epoch = epoch

            def on_train_batch_end(self, batch, logs=None) -> None:
                self.seen += 1
                now = time.perf_counter()
                if now - self.last_emit < FRAME_SECONDS and batch + 1 < self.steps:
                    return
                self.pending.append((self.epoch + (batch + 1) / self.steps,
                                     {"loss": logs["loss"], "accuracy": logs["accuracy"]}))
                self.last_emit = now
                worker.batchMetrics.emit(self.pending)
                self.pending = []
                elapsed = now - self.started
                batch_size = self.params.get("batch_size", 1)
                total = self.steps * self.params.get("epochs", 1)
                done = self.epoch * self.steps + batch + 1
                rate = self.seen * batch_size / elapsed if elapsed > 0 else 0.0
                worker.progress.emit({"epoch": self.epoch, "epochs": self.params.get("epochs", 1),
                                      "batch": batch + 1, "steps": self.steps, "done": done, "total": total,
                                      "samples_per_second": rate,
                                      "eta": (total - done) * elapsed / max(self.seen, 1)})
                self._maps()

            def on_epoch_end(self, epoch, logs=None) -> None:
                logs = dict(logs or {})
                logs.setdefault("lr", self.trainer.learning_rate)
                worker.epochEnd.emit(epoch, logs)
                position = epoch + 1.0
                if self.lr is not None and abs(self.trainer.learning_rate - self.lr) > 1e-12:
                    worker.marker.emit(position, f"lr {self.trainer.learning_rate:.2g}")
                self.lr = self.trainer.learning_rate
                for callback in self.trainer.callbacks:
                    if isinstance(callback, ModelCheckpoint):
                        key = id(callback)
                        if not callback.save_best_only or self.best.get(key) != callback.best:
                            worker.marker.emit(position, "checkpoint")
                        self.best[key] = callback.best
                if self.trainer.stop_training:
                    worker.marker.emit(position, "early stop")
                self._maps(force=True)

            def _maps(self, force: bool = False) -> None:
                now = time.perf_counter()
                if sample is None or (not force and now - self.last_maps < MAPS_SECONDS):
                    return
                self.last_maps = now
                layers = [name for name in request.probe_layers if name in self.trainer.model.layer_names]
                maps = FeatureMapProbe(self.trainer.model, layers).capture(sample) if layers else {}
                worker.featureMaps.emit({name: value[0] for name, value in maps.items()})
                try:
                    worker.filters.emit(first_layer_filters(self.trainer.model))
                except ValueError:
                    pass  # a network without a convolution has no filters to show

        return QtSignalsCallback()


class TrainingWorker(QObject):
    started = Signal(dict)
    batchMetrics = Signal(list)
    epochEnd = Signal(int, dict)
    progress = Signal(dict)
    featureMaps = Signal(dict)
    filters = Signal(object)
    probeSample = Signal(object)   # the (C, H, W) sample the feature maps are computed for
    marker = Signal(float, str)
    status = Signal(str)
    finished = Signal(object)   # TrainingOutcome
    failed = Signal(str)

    def __init__(self, request: TrainingRequest) -> None:
        super().__init__()
        self.request = request
        self.trainer = None

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except Exception as error:  # every failure reaches the user as a message, never a crash
            from cnnstudio.data.dataset import DatasetError
            from cnnstudio.training.errors import TrainingError
            if isinstance(error, (DatasetError, TrainingError, ValueError)):
                self.failed.emit(str(error))
            else:
                self.failed.emit(f"{type(error).__name__}: {error}\n\n{traceback.format_exc(limit=4)}")

    def _run(self) -> None:
        from cnnstudio.data.compatibility import check_compatibility
        from cnnstudio.core.analysis import analyze
        from cnnstudio.data.registry import load_dataset
        from cnnstudio.training.trainer import Trainer

        from ..torch_threads import use_training_threads
        use_training_threads()
        request = self.request
        self.status.emit("Loading the dataset…")
        dataset = load_dataset(request.dataset, path=request.dataset_path, split="train", subset=request.subset,
                               seed=request.config.effective_seed or 0)
        problems = check_compatibility(analyze(request.network), dataset.sample_shape, dataset.num_classes)
        if problems:
            raise ValueError("The dataset does not fit the network: " + " ".join(str(p) for p in problems))
        train, validation = dataset.split(request.validation_fraction, seed=request.config.effective_seed or 0) \
            if request.validation_fraction > 0 else (dataset, None)
        sample = None
        if validation is not None and len(validation):
            sample = validation.x[request.probe_index % len(validation):][:1]
        elif len(train):
            sample = train.x[:1]
        if sample is not None:
            self.probeSample.emit(sample[0].copy())
        self.status.emit("Building the model…")
        signals = _SignalsCallbackFactory.make(self, request, sample)
        self.trainer = Trainer(request.network, request.config, [*request.callbacks, signals])
        self.status.emit("Training…")
        start = time.perf_counter()
        history = self.trainer.fit(train.x, train.y,
                                   validation_data=(validation.x, validation.y) if validation is not None else None)
        seconds = time.perf_counter() - start
        shown = validation if validation is not None else train
        self.status.emit("Predicting the validation samples…")
        probabilities = self.trainer.predict(shown.x)
        state = {k: v.detach().cpu().clone() for k, v in self.trainer.model.state_dict().items()}
        self.finished.emit(TrainingOutcome(
            history=dict(history.history), epochs=list(history.epoch), state_dict=state,
            classes=list(dataset.classes), val_x=shown.x, val_y=shown.y, probabilities=probabilities,
            stopped_early=bool(self.trainer.stop_training), seconds=seconds))

    # thread-safe controls, called from the UI thread
    def request_stop(self) -> None:
        if self.trainer is not None:
            self.trainer.request_stop()

    def pause(self) -> None:
        if self.trainer is not None:
            self.trainer.pause()

    def resume(self) -> None:
        if self.trainer is not None:
            self.trainer.resume()


class TrainingThread(QObject):
    """Owns one run: a QThread with a TrainingWorker moved onto it."""

    def __init__(self, request: TrainingRequest, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.worker = TrainingWorker(request)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread.quit)
        self.worker.failed.connect(self.thread.quit)

    def start(self) -> None:
        # the UI thread must win the CPU whenever it has work: training gets what is left
        self.thread.start(QThread.Priority.IdlePriority)

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def stop_and_wait(self, milliseconds: int = 30000) -> bool:
        """Ask the run to stop (acts within one batch) and wait for the thread to end."""
        self.worker.request_stop()
        self.worker.resume()
        self.thread.quit()
        return self.thread.wait(milliseconds)
