"""Helpers for the training-view tests: a prompter that also answers the
stop-training question, a window factory that never leaves a run behind, and
small steps of a training session (choose the settings, train, wait for the end).

Training runs in a child process (the CLI's own session); these tests wait on
the view's signals (``qtbot.waitSignal``) or on conditions (``qtbot.waitUntil``),
never on the clock."""

from __future__ import annotations

from pathlib import Path

import pytest

LECTURE_FILE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"
RUN_TIMEOUT_MS = 90_000  # generous: a tiny run takes a few seconds (the child imports torch), CI machines stall


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
    process ended, so a failing test never leaves a training process behind."""
    made = []

    def make(stop_training: bool = True, **answers):
        window = make_window(**answers)
        window.prompter = TrainingPrompter(window.prompter, stop_training)  # before the Train tab is built
        made.append(window)
        return window

    yield make
    for window in made:
        view = window.training_view
        if view is not None and view.process is not None:
            assert view.stop_and_wait(RUN_TIMEOUT_MS), "a run outlived its test and would not stop"
        if view is not None:  # an export a failed test left running
            assert view.background.wait(RUN_TIMEOUT_MS), "a background task outlived its test"
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
    """Press Train and wait for the run to end and its results to load; returns how it ended."""
    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.train_button.click()
    view.wait_for_background()
    return finished.args[0]


def wait_for_progress(qtbot, view) -> dict:
    """The next progress event of the run in progress."""
    with qtbot.waitSignal(view.process.progress, timeout=RUN_TIMEOUT_MS) as progress:
        pass
    return progress.args[0]
