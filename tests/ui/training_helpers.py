"""Helpers for the training-view tests: a prompter that also answers the
stop-training question, a window factory that never leaves a run behind, a
callback that watches the run from the worker thread, and small steps of a
training session (choose the settings, train, wait for the end).

The tests that use these cross the worker thread on purpose; they wait on
signals (``qtbot.waitSignal``) or on conditions (``qtbot.waitUntil``), never on
the clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cnnstudio.training.callbacks.base import Callback

LECTURE_FILE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"
RUN_TIMEOUT_MS = 60_000  # generous: a tiny run takes well under a second, but CI machines stall


class TrainingPrompter:
    """The window's ``FakePrompter`` (from ``conftest.py``) plus the one question it does not
    answer: "stop the run and close?", answered with ``stop_training``.  Everything else
    (``errors``, ``infos``, ``questions``, the scripted answers) is the wrapped prompter's."""

    def __init__(self, prompter, stop_training: bool = True) -> None:
        self.prompter = prompter
        self.stop_training = stop_training

    def __getattr__(self, name: str):
        return getattr(self.prompter, name)

    def ask_stop_training(self) -> bool:
        self.prompter.questions.append(("stop_training", ""))
        return self.stop_training


@pytest.fixture
def make_training_window(make_window):
    """``make_training_window(stop_training=True, **answers)`` -> a shown window with a
    ``TrainingPrompter``.  At the end of the test any run still going is stopped and its
    thread joined, so a failing test never destroys a running QThread."""
    made = []

    def make(stop_training: bool = True, **answers):
        window = make_window(**answers)
        window.prompter = TrainingPrompter(window.prompter, stop_training)  # before the Train tab is built
        made.append(window)
        return window

    yield make
    for window in made:
        view = window.training_view
        if view is not None and view.session is not None:
            assert view.stop_and_wait(RUN_TIMEOUT_MS), "a run outlived its test and would not stop"
        for task in list(view._tasks) if view is not None else []:  # an export a failed test left running
            assert task.wait(RUN_TIMEOUT_MS), "a background task outlived its test"
        window.prompter.stop_training = True


def open_lecture(window, path: Path | None = None) -> None:
    """The lecture's project: a saved file at ``path`` (opened as itself), else an untitled copy."""
    if path is None:
        assert window.open_path(LECTURE_FILE, ask=False, as_copy=True)
    else:
        assert window.open_path(path, ask=False)


def configure(view, subset: int, batch_size: int, epochs: int, validation_percent: int = 10,
              layer: str | None = None, optimizer: str | None = None, learning_rate: float | None = None) -> None:
    """Fill in the Train tab's forms the way a user does (each change is stored in the project)."""
    view.dataset_box.subset.setValue(subset)
    view.dataset_box.validation.setValue(validation_percent)
    if optimizer is not None:
        view.settings_box.optimizer.setCurrentText(optimizer)
    if learning_rate is not None:
        view.settings_box.learning_rate.setValue(learning_rate)
    view.settings_box.batch_size.setValue(batch_size)
    view.settings_box.epochs.setValue(epochs)
    view.settings_box.seed.setValue(0)
    if layer is not None:
        assert view.layer_box.findText(layer) >= 0, f"{layer} is not offered for feature maps"
        view.layer_box.setCurrentText(layer)


def train_and_wait(qtbot, view) -> str:
    """Press Train and wait for the run to end; returns how it ended."""
    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.train_button.click()
    return finished.args[0]


@dataclass
class BatchLog:
    """What the worker thread saw, batch by batch (appended on the worker thread only)."""

    ended: list[tuple[int, int]] = field(default_factory=list)     # (epoch, batch) of every finished batch
    ended_after_stop: int = 0     # batches that ended after Stop was pressed
    begun_after_stop: int = 0     # batches that began after Stop was pressed
    ended_while_paused: int = 0   # batches that ended while Pause was pressed


class BatchRecorder(Callback):
    """An engine callback run after the studio's own (``hook_order`` 2): it records each
    batch against the trainer's stop and pause flags, and can hold the worker thread at
    the end of one chosen batch until the test lets it go (a gate), so a button can be
    pressed at a known point of the run."""

    hook_order = 2

    def __init__(self) -> None:
        super().__init__()
        self.log = BatchLog()
        self.epoch = 0
        self.gate_at: tuple[int, int] | None = None   # (epoch, batch) to hold at
        self.at_gate = threading.Event()
        self.gate = threading.Event()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.trainer.stop_requested:
            self.log.begun_after_stop += 1

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.log.ended.append((self.epoch, batch))
        if self.trainer.stop_requested:
            self.log.ended_after_stop += 1
        if self.trainer.paused:
            self.log.ended_while_paused += 1
        if self.gate_at == (self.epoch, batch):
            self.at_gate.set()
            self.gate.wait(RUN_TIMEOUT_MS / 1000)  # never forever: a broken test must not hang the suite


@pytest.fixture
def batch_recorder(monkeypatch) -> BatchRecorder:
    """A ``BatchRecorder`` that the next run started from the Train tab includes among its
    callbacks (the view asks ``make_callbacks`` for them when Train is pressed)."""
    import cnnstudio.training.callback_settings as callback_settings

    recorder = BatchRecorder()
    real = callback_settings.make_callbacks

    def with_recorder(*args, **kwargs):
        return [*real(*args, **kwargs), recorder]

    monkeypatch.setattr(callback_settings, "make_callbacks", with_recorder)
    yield recorder
    recorder.gate.set()  # let a held worker go, whatever happened
