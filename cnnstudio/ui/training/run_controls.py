"""The strip above the Train tab's plots: Train, Pause and Stop, the project's runs,
Export, the epoch and batch bars and the status line.

It only shows what it is told: the view feeds it the run's progress events and
outcome, and hears the user through its buttons and signals."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from cnnstudio.training.progress import format_duration

EXPORT_FORMATS = (("TorchScript", "torchscript", "TorchScript (*.pt)"), ("ONNX", "onnx", "ONNX (*.onnx)"),
                  ("state_dict", "state_dict", "PyTorch weights (*.pt)"),
                  ("safetensors", "safetensors", "safetensors (*.safetensors)"),
                  ("PyTorch code", "code", "Python (*.py)"), ("Keras code", "keras", "Python (*.py)"),
                  ("Training script", "train-script", "Python (*.py)"))


class RunControls(QWidget):
    exportRequested = Signal(str, str)   # format, file filter

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.train_button = QPushButton("▶ Train")
        self.train_button.setToolTip("Train the network on the chosen dataset (F5)")
        self.train_button.setShortcut("F5")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Hold the run after the current batch")
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setToolTip("Stop the run: within one batch while it trains, at once while it loads")
        self.export_button = QToolButton()
        self.export_button.setText("Export trained model ▾")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for title, fmt, file_filter in EXPORT_FORMATS:
            menu.addAction(title).triggered.connect(
                lambda _=False, f=fmt, ff=file_filter: self.exportRequested.emit(f, ff))
        self.export_button.setMenu(menu)
        self.run_box = QComboBox()
        self.run_box.setToolTip("Runs of this project (from the studio and the command line); choose one to see "
                                "its results and export it")
        self.run_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_box.setMinimumContentsLength(24)  # long run summaries must not widen the window
        buttons = QHBoxLayout()
        for widget in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(widget)
        buttons.addSpacing(16)
        buttons.addWidget(QLabel("Run"))
        buttons.addWidget(self.run_box, 1)
        buttons.addWidget(self.export_button)

        self.epoch_bar = QProgressBar()
        self.epoch_bar.setFormat("no run yet")
        self.batch_bar = QProgressBar()
        self.batch_bar.setFormat("")
        bars = QHBoxLayout()
        bars.addWidget(self.epoch_bar, 1)
        bars.addWidget(self.batch_bar, 1)
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        # a fixed height: text that changes 10 times a second must not re-layout (and repaint) the plots
        self.status.setFixedHeight(self.status.fontMetrics().lineSpacing() * 2 + 6)
        self.last_progress = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addLayout(bars)
        layout.addWidget(self.status)

    # ------------------------------------------------------------------ state
    def set_running(self, running: bool, has_model: bool) -> None:
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.run_box.setEnabled(not running)
        self.export_button.setEnabled(not running and has_model)
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)

    def show_paused(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.status.setText("Paused after the current batch; press Resume to go on." if paused
                            else self.last_progress or "Training…")

    # ------------------------------------------------------------------ a run's progress
    def show_starting(self, epochs: int) -> None:
        self.epoch_bar.setRange(0, epochs)
        self.epoch_bar.setValue(0)
        self.epoch_bar.setFormat(f"Epoch 1/{epochs}")
        self.batch_bar.setRange(0, 1)
        self.batch_bar.setValue(0)
        self.batch_bar.setFormat("starting…")
        self.last_progress = ""
        self.status.setText("Starting the training process…")

    def show_started(self, steps: int) -> None:
        self.batch_bar.setRange(0, steps)
        self.batch_bar.setValue(0)
        self.batch_bar.setFormat(f"batch 0/{steps}")

    def show_progress(self, info: dict) -> None:
        """A progress event: both bars and the status line say the same epoch and batch."""
        epoch, epochs, batch, steps = (int(info[key]) for key in ("epoch", "epochs", "batch", "steps"))
        self.epoch_bar.setRange(0, epochs)
        self.epoch_bar.setValue(epoch)
        self.epoch_bar.setFormat(f"Epoch {epoch + 1}/{epochs}")
        self.batch_bar.setRange(0, steps)
        self.batch_bar.setValue(batch)
        self.batch_bar.setFormat(f"batch {batch}/{steps}")
        threads = info.get("threads")
        self.last_progress = (f"Epoch {epoch + 1}/{epochs} · batch {batch}/{steps} · "
                              f"{info['samples_per_second']:,.0f} samples/s · ETA {format_duration(info['eta'])}"
                              + (f" · {threads} CPU thread{'s' if threads != 1 else ''}" if threads else ""))
        if not self.pause_button.isChecked():
            self.status.setText(self.last_progress)

    def show_epoch_done(self, epoch: int) -> None:
        self.epoch_bar.setValue(epoch + 1)

    # ------------------------------------------------------------------ the project's runs
    def fill_runs(self, records: list) -> None:
        """One entry per run record, with its settings and message in the tooltip."""
        self.run_box.blockSignals(True)
        self.run_box.clear()
        for record in records:
            self.run_box.addItem(record.summary())
            dataset = record.dataset.get("name", "?")
            subset = record.dataset.get("subset")
            training = record.settings.get("training", {})
            settings = ", ".join(f"{k} {training[k]}" for k in ("optimizer", "learning_rate", "batch_size", "epochs")
                                 if k in training)
            lines = [record.label, f"{record.kind} · {record.status} · {record.id}",
                     f"dataset {dataset}{f' ({subset} samples)' if subset else ''}"]
            lines += [settings] if settings else []
            lines += [record.message] if record.message else []
            self.run_box.setItemData(self.run_box.count() - 1, "\n".join(lines), Qt.ItemDataRole.ToolTipRole)
        self.run_box.blockSignals(False)
