"""After training: the first-layer filters the network learned next to the hand-made
preset each resembles, and a one-click experiment that trains the lecture net with and
without pooling so the two accuracies and receptive fields sit side by side."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from cnnstudio.lab.filters import PRESETS
from cnnstudio.lab.learned_filters import first_layer_matches, resize_kernel
from cnnstudio.lab.receptive import LECTURE_PROJECT, LECTURE_PROJECT_NO_POOLING, receptive_table

from ..background import BackgroundTask
from .widgets import HeatPanel, clear_layout, header, wrapped

EXPLANATION = (
    "Before deep learning, people designed filters by hand: edge detectors, blurs. A CNN learns its own, and "
    "the lecture points out that the first layer discovers practically the same ones. Each learned filter is "
    "shown beside the hand-made preset it resembles most (normalised correlation: 1 = same pattern). Below, "
    "an experiment: the lecture's net trained with and without pooling on a small part of MNIST.")
MAX_SHOWN = 12
TRAIN_FIRST = "Train a network first (Train tab): its learned first-layer filters will appear here."


@dataclass
class ExperimentResult:
    """One arm of the pooling experiment."""

    title: str
    accuracy: float
    params: int
    coverage: str


def run_pooling_experiment(subset: int, epochs: int, seed: int = 0) -> list[ExperimentResult]:
    """Train the lecture net with and without pooling on ``subset`` MNIST images (no Qt: runs on a thread)."""
    from cnnstudio.core.analysis import analyze
    from cnnstudio.core.project import load_project
    from cnnstudio.data.builtin import load_mnist
    from cnnstudio.training.config import TrainConfig
    from cnnstudio.training.trainer import Trainer

    train = load_mnist("train", subset=subset, seed=seed)
    test = load_mnist("test", subset=max(200, subset // 4), seed=seed)
    results = []
    for title, path in (("With pooling", LECTURE_PROJECT), ("Without pooling", LECTURE_PROJECT_NO_POOLING)):
        network = load_project(path).network
        trainer = Trainer(network, TrainConfig(epochs=epochs, batch_size=32, seed=seed))
        trainer.fit(train.x, train.y, verbose=0)
        scores = trainer.evaluate(test.x, test.y, verbose=0)
        results.append(ExperimentResult(title, float(scores["accuracy"]), analyze(network).total_params,
                                        receptive_table(network).coverage_text()))
    return results


class LearnedPage(QWidget):
    """``matches`` are the last ``first_layer_matches``; ``results`` the experiment's outcome."""

    def __init__(self, lab, parent=None) -> None:
        super().__init__(parent)
        self.lab = lab
        self.matches = []
        self.results: list[ExperimentResult] = []
        self.failure = ""
        self.task: BackgroundTask | None = None
        self.message = wrapped(TRAIN_FIRST)
        self.filters_box = QWidget()
        self.filters_area = QGridLayout(self.filters_box)

        self.subset_box = QSpinBox()
        self.subset_box.setRange(100, 60000)
        self.subset_box.setSingleStep(500)
        self.subset_box.setValue(3000)
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 20)
        self.epochs_box.setValue(2)
        self.run_button = QPushButton("Train both")
        self.status = wrapped("Trains in the background; the rest of the app stays usable.")
        self.result_labels = [wrapped(), wrapped()]
        experiment = QGroupBox("Experiment: the lecture net with and without pooling")
        settings = QHBoxLayout()
        for widget in (QLabel("MNIST training images"), self.subset_box, QLabel("epochs"), self.epochs_box,
                       self.run_button):
            settings.addWidget(widget)
        settings.addStretch(1)
        results = QHBoxLayout()
        for label in self.result_labels:
            label.setMinimumWidth(300)
            results.addWidget(label, 1)
        inner = QVBoxLayout(experiment)
        inner.addLayout(settings)
        inner.addWidget(self.status)
        inner.addLayout(results)

        layout = QVBoxLayout(self)
        layout.addWidget(header("After training", EXPLANATION))
        layout.addWidget(self.message)
        layout.addWidget(self.filters_box)
        layout.addWidget(experiment)
        layout.addStretch(1)
        self.run_button.clicked.connect(self.start_experiment)

    # ------------------------------------------------------------------ learned filters
    def on_shown(self) -> None:
        trained = self.lab.trained()
        clear_layout(self.filters_area)
        self.matches = []
        if trained is None:
            self.message.setText(TRAIN_FIRST)
            return
        model = trained[0]
        try:
            self.matches = first_layer_matches(model)
        except ValueError as error:
            self.message.setText(f"No learned filters to compare: {error}")
            return
        from cnnstudio.training.probes import first_layer_filters
        filters = first_layer_filters(model).sum(axis=1)
        shown = self.matches[:MAX_SHOWN]
        self.message.setText(f"The trained model's first layer has {len(self.matches)} filters; the first "
                             f"{len(shown)} are shown, each next to its nearest preset.")
        for i, match in enumerate(shown):
            preset = resize_kernel(PRESETS[match.preset].kernel, filters.shape[-1]) * (-1 if match.inverted else 1)
            learned = HeatPanel(f"filter {match.index}", scale=False, numbers=False)
            learned.set_values(filters[match.index])
            nearest = HeatPanel(f"{match.preset}{' (negated)' if match.inverted else ''}", scale=False, numbers=False)
            nearest.set_values(preset)
            for panel in (learned, nearest):
                panel.setFixedSize(120, 140)
            cell = QWidget()
            row = QHBoxLayout(cell)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(learned)
            row.addWidget(nearest)
            text = wrapped(f"score {match.score:.2f}")
            column = QVBoxLayout()
            holder = QWidget()
            holder.setLayout(column)
            column.addWidget(cell)
            column.addWidget(text)
            holder.setToolTip(match.sentence)
            self.filters_area.addWidget(holder, i // 4, i % 4)

    # ------------------------------------------------------------------ the experiment
    def start_experiment(self) -> bool:
        if self.task is not None:
            return False
        subset, epochs = self.subset_box.value(), self.epochs_box.value()
        self.run_button.setEnabled(False)
        self.results, self.failure = [], ""
        self.status.setText(f"Training both networks on {subset} images for {epochs} epoch(s)…")
        self.task = BackgroundTask(lambda: run_pooling_experiment(subset, epochs), self._done, self._failed, self)
        self.task.finished.connect(self._ended)
        self.task.start()
        return True

    def _done(self, results: list[ExperimentResult]) -> None:
        self.results = results
        for label, result in zip(self.result_labels, results):
            label.setText(f"<b>{result.title}</b><br>test accuracy <b>{100 * result.accuracy:.1f}%</b><br>"
                          f"{result.params:,} parameters<br>one neuron of the last convolution feels "
                          f"{result.coverage} input pixels")
        self.status.setText("Done. Pooling lets the last convolution see a much larger part of the digit "
                            "with far fewer parameters in the Dense layer.")

    def _failed(self, error: Exception) -> None:
        self.failure = str(error)
        self.status.setText(f"The experiment failed: {error}")

    def _ended(self) -> None:
        self.task = None
        self.run_button.setEnabled(True)

    def wait_for_background(self, milliseconds: int = 60000) -> None:
        if self.task is not None:
            self.task.wait(milliseconds)
