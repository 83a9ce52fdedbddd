"""The training view: settings on the left; Train, Pause and Stop with progress;
live plots, feature maps, filters and results on the right; export of the
trained model.  The run itself happens on a ``TrainingThread``; this view only
shows what its signals carry and locks editing while it runs."""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton,
                               QScrollArea, QSpinBox, QSplitter, QTabWidget, QToolButton, QVBoxLayout, QWidget)

from cnnstudio.core.analysis import analyze
from cnnstudio.core.network import Network

from ..background import BackgroundTask
from ..commands import SetProjectSettings
from ..document import NetworkDocument
from ..settings import config_dir
from .feature_maps import MapMosaic, SampleView
from .plots import TrainingPlots
from .results import ResultsView
from .runs import SavedRun, load_runs, load_state_dict, new_run_folder, runs_folder, save_run
from .settings_panel import CallbacksBox, DatasetBox, SettingsBox
from .worker import TrainingOutcome, TrainingRequest, TrainingThread

EXPORT_FORMATS = (("TorchScript", "torchscript", "TorchScript (*.pt)"), ("ONNX", "onnx", "ONNX (*.onnx)"),
                  ("state_dict", "state_dict", "PyTorch weights (*.pt)"),
                  ("safetensors", "safetensors", "safetensors (*.safetensors)"),
                  ("PyTorch code", "code", "Python (*.py)"), ("Training script", "train-script", "Python (*.py)"))


def _fmt_seconds(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}:{seconds % 60:02d}"


class TrainingView(QWidget):
    runningChanged = Signal(bool)
    runFinished = Signal(str)  # finished / stopped / failed

    def __init__(self, document: NetworkDocument, prompter, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.prompter = prompter
        self.session: TrainingThread | None = None
        self.snapshot: Network | None = None
        self.snapshot_analysis = None
        self.trained_model = None
        self.outcome: TrainingOutcome | None = None
        self.runs: list[SavedRun] = []
        self.last_status = ""
        self.failure = ""
        self._tasks: list[BackgroundTask] = []
        self._applying = False
        self._scratch = config_dir() / "runs" / f"untitled-{int(time.time() * 1000)}"
        self._build()
        self._connect()
        self.load_project_settings()

    # ================================================================== layout
    def _build(self) -> None:
        self.dataset_box = DatasetBox()
        self.settings_box = SettingsBox()
        self.callbacks_box = CallbacksBox()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        for box in (self.dataset_box, self.settings_box, self.callbacks_box):
            left_layout.addWidget(box)
        left_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(330)

        self.train_button = QPushButton("▶ Train")
        self.train_button.setToolTip("Train the network on the chosen dataset (F5)")
        self.train_button.setShortcut("F5")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setToolTip("Stop after the current batch")
        self.export_button = QToolButton()
        self.export_button.setText("Export trained model ▾")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for title, fmt, file_filter in EXPORT_FORMATS:
            menu.addAction(title).triggered.connect(lambda _=False, f=fmt, ff=file_filter: self.export(f, ff))
        self.export_button.setMenu(menu)
        self.run_box = QComboBox()
        self.run_box.setToolTip("Runs of this project; choose one to see its results and export it")
        self.run_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_box.setMinimumContentsLength(24)  # long run summaries must not widen the window
        controls = QHBoxLayout()
        for widget in (self.train_button, self.pause_button, self.stop_button):
            controls.addWidget(widget)
        controls.addSpacing(16)
        controls.addWidget(QLabel("Run"))
        controls.addWidget(self.run_box, 1)
        controls.addWidget(self.export_button)

        self.epoch_bar = QProgressBar()
        self.epoch_bar.setFormat("epoch %v / %m")
        self.batch_bar = QProgressBar()
        self.batch_bar.setFormat("batch %v / %m")
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        # a fixed height: text that changes 10 times a second must not re-layout (and repaint) the plots
        self.status.setFixedHeight(self.status.fontMetrics().lineSpacing() * 2 + 6)
        progress = QHBoxLayout()
        progress.addWidget(self.epoch_bar, 1)
        progress.addWidget(self.batch_bar, 1)

        self.plots = TrainingPlots()
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The layer whose feature maps are shown")
        self.sample_box = QSpinBox()
        self.sample_box.setRange(0, 9999)
        self.sample_box.setPrefix("sample #")
        self.sample_box.setToolTip("Which validation sample the maps show (fixed during a run)")
        self.shared_scale = QCheckBox("shared scale")
        self.shared_scale.setChecked(True)
        self.mosaic = MapMosaic()
        self.sample_view = SampleView()
        self.hover_label = QLabel("Hover a map to see the region of the input it sees.")
        self.hover_label.setWordWrap(True)
        maps_tools = QHBoxLayout()
        maps_tools.addWidget(QLabel("Layer"))
        maps_tools.addWidget(self.layer_box, 1)
        maps_tools.addWidget(self.sample_box)
        maps_tools.addWidget(self.shared_scale)
        side = QVBoxLayout()
        side.addWidget(self.sample_view)
        side.addWidget(self.hover_label)
        side.addStretch(1)
        maps_body = QHBoxLayout()
        maps_body.addWidget(self.mosaic, 1)
        maps_body.addLayout(side)
        maps_page = QWidget()
        maps_layout = QVBoxLayout(maps_page)
        maps_layout.addLayout(maps_tools)
        maps_layout.addLayout(maps_body, 1)

        self.filters = MapMosaic()
        self.results = ResultsView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Plots")
        self.tabs.addTab(maps_page, "Feature maps")
        self.tabs.addTab(self.filters, "Filters")
        self.tabs.addTab(self.results, "Results")

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 4, 4, 4)
        right_layout.addLayout(controls)
        right_layout.addLayout(progress)
        right_layout.addWidget(self.status)
        right_layout.addWidget(self.tabs, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 1000])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._set_running(False)

    def _connect(self) -> None:
        self.train_button.clicked.connect(self.start)
        self.pause_button.toggled.connect(self._on_pause)
        self.stop_button.clicked.connect(self.stop)
        self.dataset_box.changed.connect(self._store_dataset)
        self.dataset_box.preview_button.clicked.connect(self.preview_dataset)
        self.settings_box.changed.connect(self._store_training)
        self.callbacks_box.changed.connect(self._store_training)
        self.document.projectReplaced.connect(self.load_project_settings)
        self.document.settingsChanged.connect(lambda _key: self.load_project_settings(runs=False))
        self.document.analysisChanged.connect(self._fill_layers)
        self.shared_scale.toggled.connect(self.mosaic.set_shared_scale)
        self.layer_box.currentIndexChanged.connect(self._refresh_maps_after_training)
        self.sample_box.valueChanged.connect(self._refresh_maps_after_training)
        self.mosaic.hovered.connect(self._on_hover)
        self.mosaic.left.connect(lambda: self.sample_view.set_region(None))
        self.results.predictRequested.connect(self.predict_drawing)
        self.run_box.currentIndexChanged.connect(self._on_run_chosen)

    # ================================================================== project settings
    def load_project_settings(self, runs: bool = True) -> None:
        project = self.document.project
        self._applying = True
        try:
            self.dataset_box.apply(project.dataset)
            training = project.training or {}
            try:
                self.settings_box.apply(training)
            except ValueError as error:
                self.status.setText(f"The project's training settings were not usable and defaults are shown: "
                                    f"{error}")
            try:
                self.callbacks_box.apply(training.get("callbacks"))
            except ValueError as error:
                self.status.setText(f"The project's callback settings were not usable: {error}")
        finally:
            self._applying = False
        if runs:  # another project: the previous one's trained model must not be shown or exported with it
            self.snapshot = self.snapshot_analysis = self.trained_model = self.outcome = None
            self.mosaic.set_maps(None)
            self.filters.set_maps(None)
            self.sample_view.set_sample(None)
        self._fill_layers()
        if runs:
            self._load_runs()

    def _store_dataset(self) -> None:
        if not self._applying:
            self.document.push(SetProjectSettings(self.document, "dataset", self.dataset_box.settings()))

    def _store_training(self) -> None:
        if not self._applying:
            value = {**self.settings_box.to_dict(), "callbacks": self.callbacks_box.settings()}
            self.document.push(SetProjectSettings(self.document, "training", value))

    def _fill_layers(self) -> None:
        network = self.snapshot or self.document.network
        analysis = self.snapshot_analysis or self.document.analysis
        current = self.layer_box.currentText()
        names = [analysis.nodes[n].name for n in analysis.order
                 if analysis.nodes[n].output_shape is not None and len(analysis.nodes[n].output_shape) == 3
                 and network.node(n).type != "Input"]
        if names == [self.layer_box.itemText(i) for i in range(self.layer_box.count())]:
            return
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(names)
        if current in names:
            self.layer_box.setCurrentText(current)
        self.layer_box.blockSignals(False)

    # ================================================================== dataset preview
    def preview_dataset(self) -> None:
        settings = self.dataset_box.settings()
        self.dataset_box.fit_label.setText("Loading a preview…")

        def load():
            from cnnstudio.data.compatibility import check_compatibility
            from cnnstudio.data.preview import preview_samples
            from cnnstudio.data.registry import load_dataset
            dataset = load_dataset(settings["name"], path=settings["path"], split="train", subset=200, seed=0)
            problems = [str(p) for p in check_compatibility(analyze(self.document.network), dataset.sample_shape,
                                                             dataset.num_classes)]
            return preview_samples(dataset, per_class=2, seed=0), problems

        def done(result) -> None:
            samples, problems = result
            self.dataset_box.show_preview(samples)
            self.dataset_box.show_fit(problems)

        def failed(error: Exception) -> None:
            self.dataset_box.show_fit([str(error)])

        self._background(load, done, failed)

    def wait_for_background(self, milliseconds: int = 60000) -> None:
        """Let exports and previews still running finish before the window goes away."""
        for task in list(self._tasks):
            task.wait(milliseconds)

    def _background(self, function, on_done, on_error) -> None:
        task = BackgroundTask(function, on_done, on_error, self)
        self._tasks.append(task)
        task.finished.connect(lambda: self._tasks.remove(task) if task in self._tasks else None)
        task.start()

    # ================================================================== running
    @property
    def running(self) -> bool:
        return self.session is not None and self.session.is_running()

    def start(self) -> bool:
        if self.running:
            return False
        analysis = self.document.analysis
        if not analysis.ok:
            problems = "\n".join(d.text for d in analysis.errors) or "The network has no output layer."
            self.prompter.error("Cannot train", f"Fix these problems first:\n{problems}")
            return False
        try:
            config = self.settings_box.config()
        except ValueError as error:
            self.prompter.error("Cannot train", str(error))
            return False
        dataset = self.dataset_box.settings()
        if dataset["path"] is None and self.dataset_box.path.isEnabled():
            self.prompter.error("Cannot train", "Choose the dataset's folder or file first (Browse…).")
            return False
        self.snapshot = self.document.network.copy()
        self.snapshot_analysis = analyze(self.snapshot)
        self.run_folder = new_run_folder(runs_folder(self.document.path, self._scratch))
        from cnnstudio.training.callback_settings import make_callbacks
        callbacks = make_callbacks(self.callbacks_box.settings(), self.run_folder,
                                   has_validation=dataset["validation_split"] > 0)
        label = f"run {len(self.runs) + 1} · {config.optimizer} lr {config.learning_rate:g}"
        request = TrainingRequest(self.snapshot, config, dataset["name"], dataset["path"], dataset["subset"],
                                  dataset["validation_split"], probe_layers=self._probe_layers(),
                                  probe_index=self.sample_box.value(), callbacks=callbacks, label=label)
        self.request = request
        self.session = TrainingThread(request, self)
        worker = self.session.worker
        worker.started.connect(self._on_started)
        worker.batchMetrics.connect(self.plots.add_batches)
        worker.epochEnd.connect(self._on_epoch_end)
        worker.progress.connect(self._on_progress)
        worker.featureMaps.connect(self._on_feature_maps)
        worker.filters.connect(self._on_filters)
        worker.probeSample.connect(lambda sample: self.sample_view.set_sample(sample, "the sample being probed"))
        worker.marker.connect(self.plots.add_marker)
        worker.status.connect(self.status.setText)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self.plots.start_run(label)
        self.failure = ""
        self.epoch_bar.setRange(0, config.epochs)
        self.epoch_bar.setValue(0)
        self.batch_bar.setValue(0)
        self._set_running(True)
        self.session.start()
        return True

    def _probe_layers(self) -> list[str]:
        chosen = self.layer_box.currentText()
        return [chosen] if chosen else []

    def _set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.export_button.setEnabled(not running and self._current_weights() is not None)
        for box in (self.dataset_box, self.settings_box, self.callbacks_box):
            box.setEnabled(not running)
        if not running:
            self.pause_button.setChecked(False)
        self.document.set_read_only(running)
        self.runningChanged.emit(running)

    def _on_pause(self, paused: bool) -> None:
        if self.session is None:
            return
        if paused:
            self.session.worker.pause()
            self.pause_button.setText("Resume")
            self.status.setText("Paused after the current batch; press Resume to go on.")
        else:
            self.session.worker.resume()
            self.pause_button.setText("Pause")

    def stop(self) -> None:
        if self.session is not None:
            self.session.worker.request_stop()
            self.session.worker.resume()
            self.status.setText("Stopping after the current batch…")

    def stop_and_wait(self, milliseconds: int = 60000) -> bool:
        """For closing the window: stop the run and wait for its thread (events keep flowing)."""
        if self.session is None:
            return True
        self.stop()
        # the session quits the thread itself: the worker's finished -> thread.quit connection is
        # queued to this (blocked) UI thread, so waiting on the thread alone would wait out the limit
        ended = self.session.stop_and_wait(milliseconds)
        from PySide6.QtWidgets import QApplication
        QApplication.processEvents()
        return ended

    def _on_started(self, params: dict) -> None:
        self.batch_bar.setRange(0, int(params.get("steps", 1)))
        self.plots.set_epochs(int(params.get("epochs", 1)))

    def _on_progress(self, info: dict) -> None:
        self.epoch_bar.setValue(int(info["epoch"]))
        self.batch_bar.setRange(0, int(info["steps"]))
        self.batch_bar.setValue(int(info["batch"]))
        self.last_status = (f"Epoch {info['epoch'] + 1}/{info['epochs']} · batch {info['batch']}/{info['steps']} · "
                            f"{info['samples_per_second']:,.0f} samples/s · ETA {_fmt_seconds(info['eta'])}")
        if not self.pause_button.isChecked():
            self.status.setText(self.last_status)

    def _on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.plots.add_epoch(epoch, logs)
        self.epoch_bar.setValue(epoch + 1)

    def _on_feature_maps(self, maps: dict) -> None:
        name = self.layer_box.currentText()
        if name in maps:
            self.mosaic.set_maps(maps[name], f"{name} {maps[name].shape}")

    def _on_filters(self, filters: np.ndarray) -> None:
        rgb = filters.shape[1] == 3
        maps = filters if rgb else filters[:, 0]
        self.filters.set_maps(maps, "first-layer filters", rgb=rgb)

    def _on_finished(self, outcome: TrainingOutcome) -> None:
        self.outcome = outcome
        status = "stopped" if self.session.worker.trainer and self.session.worker.trainer.interrupted else "finished"
        self._keep_model(outcome.state_dict)
        run = SavedRun(self.run_folder, self.request.label, status, outcome.history, outcome.epochs,
                       self.settings_box.to_dict(), self.dataset_box.settings(), outcome.classes)
        try:
            save_run(run, outcome.state_dict)
        except OSError as error:
            self.prompter.error("Cannot keep the run", f"{self.run_folder}: {error}")
        self.runs.append(run)
        self._fill_runs(select_last=True)
        self.results.show_results(outcome.val_x, outcome.val_y, outcome.probabilities, outcome.classes)
        self._refresh_maps_after_training()
        accuracy = outcome.history.get("val_accuracy") or outcome.history.get("accuracy") or [float("nan")]
        self.status.setText(f"Run {status} in {_fmt_seconds(outcome.seconds)}: accuracy {accuracy[-1]:.4f}. "
                            f"Weights, log and settings kept in {self.run_folder}.")
        self._end_session()
        self.runFinished.emit(status)

    def _on_failed(self, message: str) -> None:
        self.failure = message
        run = SavedRun(self.run_folder, self.request.label, "failed", {}, [], self.settings_box.to_dict(),
                       self.dataset_box.settings(), message=message)
        try:
            save_run(run, None)
        except OSError:
            pass
        self.runs.append(run)  # listed now as it will be after reopening the project
        self._fill_runs(select_last=False)
        self.status.setText(f"<span style='color:#E53935'>Run failed: {html.escape(message.splitlines()[0])}"
                            "</span> The project is unchanged.")
        self._end_session()
        self.prompter.error("Training failed", message + "\n\nThe project is unchanged.")
        self.runFinished.emit("failed")

    def _end_session(self) -> None:
        self.plots.flush()
        session = self.session
        if session is not None:
            session.thread.wait(30000)
        self._set_running(False)
        self.session = None

    # ================================================================== after training
    def _keep_model(self, state_dict: dict) -> None:
        from cnnstudio.core.build import build_model
        model = build_model(self.snapshot)
        model.load_state_dict(state_dict)
        self.trained_model = model.eval()

    def _refresh_maps_after_training(self) -> None:
        if self.trained_model is None or self.outcome is None or self.running:
            return
        x = self.outcome.val_x
        if not len(x):
            return
        index = min(self.sample_box.value(), len(x) - 1)
        self._show_maps_for(x[index:index + 1], f"validation sample #{index} "
                                                f"({self.outcome.classes[int(self.outcome.val_y[index])]})")

    def _show_maps_for(self, sample: np.ndarray, caption: str) -> None:
        from cnnstudio.training.probes import FeatureMapProbe, first_layer_filters
        name = self.layer_box.currentText()
        if name and name in self.trained_model.layer_names:
            maps = FeatureMapProbe(self.trained_model, [name]).capture(sample)
            self.mosaic.set_maps(maps[name][0], name)
        self.sample_view.set_sample(sample[0], caption)
        try:
            self._on_filters(first_layer_filters(self.trained_model))
        except ValueError:
            pass

    def predict_drawing(self, sample: np.ndarray) -> None:
        if self.trained_model is None:
            self.status.setText("Train a network (or choose a finished run) to classify drawings.")
            return
        import torch
        with torch.no_grad():
            probabilities = self.trained_model(torch.from_numpy(sample[None].astype(np.float32))).numpy()[0]
        if not self.trained_model.final_softmax:
            probabilities = np.exp(probabilities - probabilities.max())
            probabilities /= probabilities.sum()
        self.results.show_prediction(probabilities)
        self._show_maps_for(sample[None], "your drawing")

    def _on_hover(self, channel: int, row: int, column: int, value: float) -> None:
        analysis = self.snapshot_analysis or self.document.analysis
        name = self.layer_box.currentText()
        try:
            node = analysis.by_name(name)
        except KeyError:
            return
        field = node.receptive_field
        input_shape = analysis.input_shape
        text = f"{name} channel {channel}, row {row}, column {column}: value {value:.4g}"
        if field is not None and input_shape is not None and len(input_shape) == 3:
            region = field.region((row, column), input_shape[1:])
            self.sample_view.set_region(region)
            (top, bottom), (left, right) = region
            text += (f"<br>sees input rows {top}-{bottom}, columns {left}-{right} "
                     f"(receptive field {field.text()})")
        self.hover_label.setText(text)

    # ================================================================== runs and export
    def _load_runs(self) -> None:
        self.runs = load_runs(runs_folder(self.document.path, self._scratch)) if self.document.path else []
        self.plots.start_run("")
        for run in self.runs:
            self.plots.start_run(run.label)
            for index, epoch in enumerate(run.epochs):
                self.plots.add_epoch(epoch, {k: v[index] for k, v in run.history.items() if index < len(v)})
        self._fill_runs(select_last=True)
        if self.runs:  # the box shows the last run as chosen: load it, as choosing it would
            self._on_run_chosen(len(self.runs) - 1)

    def _fill_runs(self, select_last: bool) -> None:
        self.run_box.blockSignals(True)
        self.run_box.clear()
        for run in self.runs:
            self.run_box.addItem(run.summary())
            settings = ", ".join(f"{k} {v}" for k, v in run.settings.items() if k != "callbacks")
            dataset = run.dataset.get("name", "?")
            subset = run.dataset.get("subset")
            self.run_box.setItemData(self.run_box.count() - 1,
                                     f"{run.label}\ndataset {dataset}{f' ({subset} samples)' if subset else ''}\n"
                                     f"{settings}{chr(10) + run.message if run.message else ''}",
                                     Qt.ItemDataRole.ToolTipRole)
        if select_last and self.runs:
            self.run_box.setCurrentIndex(len(self.runs) - 1)
        self.run_box.blockSignals(False)
        self.export_button.setEnabled(not self.running and self._current_weights() is not None)

    def _on_run_chosen(self, index: int) -> None:
        if not 0 <= index < len(self.runs) or self.running:
            return
        run = self.runs[index]
        if run.weights.exists():
            try:
                self.snapshot = self.document.network.copy()
                self.snapshot_analysis = analyze(self.snapshot)
                self._keep_model(load_state_dict(run))
            except (OSError, ValueError, RuntimeError) as error:
                self.trained_model = None
                self.status.setText(f"That run's weights no longer fit the network ({error}).")
        self.export_button.setEnabled(self._current_weights() is not None)

    def keep_runs_with(self, project_path: Path) -> None:
        """An untitled project was saved: its runs move next to the file."""
        from .runs import move_runs
        target = runs_folder(project_path, self._scratch)
        move_runs(self._scratch, target)
        for run in self.runs:
            if run.folder.parent == self._scratch:
                run.folder = target / run.folder.name

    def _current_weights(self):
        return self.trained_model.state_dict() if self.trained_model is not None else None

    def export(self, fmt: str, file_filter: str) -> None:
        weights = self._current_weights()
        if weights is None:
            self.prompter.error("Nothing to export", "Train the network first, or choose a finished run.")
            return
        stem = self.document.path.stem if self.document.path else "model"
        suffix = file_filter.split("(*")[1].rstrip(")")
        path = self.prompter.save_path(str(Path.home() / f"{stem}{suffix}"), file_filter, f"Export {fmt}")
        if not path:
            return
        network, title = self.snapshot or self.document.network, self.document.project.name or None
        self.status.setText(f"Exporting {fmt}…")

        def work():
            from cnnstudio.training.export import export_model
            return export_model(network, weights, fmt, path, title=title)

        self._background(work, lambda written: self._exported(written),
                         lambda error: self.prompter.error("Export failed", str(error)))

    def _exported(self, written) -> None:
        self.status.setText(f"Exported {written}")
        self.prompter.info("Exported", f"Wrote {written}")
        self.last_export = Path(written)
