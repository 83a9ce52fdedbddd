"""The Train tab: settings on the left; Train, Pause and Stop with progress; live
plots, feature maps, filters and results on the right; the project's runs and
export of a trained model.

Training itself runs in a child process (``process.TrainingProcess``) that runs
the same session as ``python -m cnnstudio train``; this view only shows what
its events say and, when a run ends, what its folder holds
(``training.trained_run``).  Settings live in the project (``SetProjectSettings``
commands); they are checked by the same rules as the CLI's before a run starts.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget

from cnnstudio.core.analysis import analyze
from cnnstudio.core.project import dumps
from cnnstudio.training import run_folder as runs
from cnnstudio.training.progress import format_duration
from cnnstudio.training.settings import SettingsError, resolve_settings, with_absolute_dataset_path

from .. import theme
from ..background import BackgroundTasks
from ..commands import SetProjectSettings
from ..settings import default_project_folder
from ..document import NetworkDocument
from .feature_maps import MapMosaic
from .maps_page import FeatureMapsPage
from .plots import TrainingPlots
from .process import TrainingProcess
from .project_runs import ProjectRuns
from .results import ResultsView
from .run_controls import EXPORT_FORMATS, RunControls
from .settings_panel import CallbacksBox, DatasetBox, SettingsBox

__all__ = ["EXPORT_FORMATS", "TrainingView", "health_marker_text"]


def health_marker_text(finding: dict) -> str:
    """A plot marker's few words: what, and which layer."""
    words = {"non_finite": "inf/NaN", "dead_relu": "dead ReLUs", "vanishing_gradients": "vanishing gradients",
             "exploding_gradients": "exploding gradients", "lr_too_high": "lr too high", "no_progress": "no progress",
             "overfitting": "over-fitting", "class_imbalance": "unbalanced classes"}
    text = words.get(str(finding.get("kind")), str(finding.get("kind", "health")))
    layers = finding.get("layers") or []
    return text + (f" ({layers[0]})" if layers else "")


class TrainingView(QWidget):
    runningChanged = Signal(bool)
    runFinished = Signal(str)  # finished / stopped / failed
    healthFindings = Signal(list)  # the training-health findings of the run in progress or chosen (JSON dicts)

    def __init__(self, document: NetworkDocument, prompter, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.prompter = prompter
        self.process: TrainingProcess | None = None
        self.run_folder: Path | None = None     # the folder of the run in progress, or of the last one
        self.snapshot = None                    # the network being trained (edits during a run cannot reach it)
        self.snapshot_analysis = None
        self.trained = None                     # training.trained_run.TrainedRun: the run whose results show
        self.project_runs = ProjectRuns()
        self.failure = ""
        self.health_findings: list[dict] = []    # of the run in progress, or of the run chosen
        self.background = BackgroundTasks(self)
        self._applying = False
        self._started_at = 0.0
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

        self.controls = RunControls()
        self.plots = TrainingPlots()
        self.maps_page = FeatureMapsPage()
        self.filters = MapMosaic()
        self.results = ResultsView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Plots")
        self.tabs.addTab(self.maps_page, "Feature maps")
        self.tabs.addTab(self.filters, "Filters")
        self.tabs.addTab(self.results, "Results")
        # the parts tests and the window reach by name
        controls, maps = self.controls, self.maps_page
        self.train_button, self.pause_button, self.stop_button = (controls.train_button, controls.pause_button,
                                                                  controls.stop_button)
        self.export_button, self.run_box, self.status = controls.export_button, controls.run_box, controls.status
        self.epoch_bar, self.batch_bar = controls.epoch_bar, controls.batch_bar
        self.layer_box, self.sample_box, self.mosaic = maps.layer_box, maps.sample_box, maps.mosaic

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 4, 4, 4)
        right_layout.addWidget(self.controls)
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
        self.controls.exportRequested.connect(self.export)
        self.run_box.currentIndexChanged.connect(self._on_run_chosen)
        self.dataset_box.changed.connect(self._store_dataset)
        self.dataset_box.preview_button.clicked.connect(self.preview_dataset)
        self.settings_box.changed.connect(self._store_training)
        self.callbacks_box.changed.connect(self._store_training)
        self.document.projectReplaced.connect(self.load_project_settings)
        self.document.settingsChanged.connect(lambda _key: self.load_project_settings(runs=False))
        self.document.analysisChanged.connect(self._fill_layers)
        self.maps_page.layerChosen.connect(self._on_layer_chosen)
        self.maps_page.sampleChosen.connect(self._refresh_maps_after_training)
        self.results.predictRequested.connect(self.predict_drawing)

    # ================================================================== project settings
    def load_project_settings(self, runs: bool = True) -> None:
        project = self.document.project
        self._applying = True
        try:
            self.dataset_box.apply(project.dataset, (project.training or {}).get("validation_split"))
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
            self.snapshot = self.snapshot_analysis = self.trained = None
            self.export_button.setEnabled(False)
            self.maps_page.clear()
            self.filters.set_maps(None)
            self._show_health([])  # the findings of a run of this project, if one is chosen below
        self._fill_layers()
        if runs:
            self._load_runs(another_project=not self.running)

    def _store_dataset(self) -> None:
        if not self._applying:
            self.document.push(SetProjectSettings(self.document, "dataset", self.dataset_box.settings()))
            self._drop_legacy_split()

    def _store_training(self) -> None:
        if not self._applying:
            value = {**self.settings_box.to_dict(), "callbacks": self.callbacks_box.settings()}
            self.document.push(SetProjectSettings(self.document, "training", value))

    def _drop_legacy_split(self) -> None:
        """An older file kept its validation split under ``training``; once the Train tab stores it
        under ``dataset``, the old copy must not linger."""
        training = self.document.project.training
        if isinstance(training, dict) and "validation_split" in training:
            self._store_training()

    def _fill_layers(self) -> None:
        self.maps_page.show_network(self.snapshot or self.document.network,
                                    self.snapshot_analysis or self.document.analysis)

    def detect_devices(self) -> None:
        """Which devices this machine can train on; it imports torch, so off the UI thread."""
        from .settings_panel import available_devices
        self.settings_box.device_note.setText("looking for GPUs…")
        self._background(available_devices, self.settings_box.show_devices,
                         lambda error: self.settings_box.device_note.setText(f"cannot list devices: {error}"))

    # ================================================================== dataset preview
    def preview_dataset(self) -> None:
        settings = self.dataset_box.settings()
        self.dataset_box.fit_label.setText("Loading a preview…")
        network = self.document.network.copy()

        def load():
            from cnnstudio.data.compatibility import check_compatibility
            from cnnstudio.data.preview import preview_samples
            from cnnstudio.data.registry import load_dataset
            dataset = load_dataset(settings["name"], path=settings["path"], split="train", subset=200, seed=0)
            problems = [str(p) for p in check_compatibility(analyze(network), dataset.sample_shape,
                                                             dataset.num_classes)]
            return preview_samples(dataset, per_class=2, seed=0), problems

        def done(result) -> None:
            samples, problems = result
            self.dataset_box.show_preview(samples)
            self.dataset_box.show_fit(problems)

        self._background(load, done, lambda error: self.dataset_box.show_fit([str(error)]))

    def wait_for_background(self, milliseconds: int = 60000) -> None:
        """Let exports, previews and run loading finish before the window goes away."""
        self.background.wait(milliseconds)

    def _background(self, function, on_done, on_error) -> None:
        self.background.run(function, on_done, on_error)

    # ================================================================== running
    @property
    def running(self) -> bool:
        return self.process is not None

    @property
    def runs(self) -> list[runs.RunRecord]:
        return self.project_runs.records

    def runs_base(self) -> Path:
        return self.project_runs.base(self.document.path)

    def start(self) -> bool:
        """Check the network and settings as the CLI would, then start the run's process."""
        if self.running:
            return False
        analysis = self.document.analysis
        if not analysis.ok:
            problems = "\n".join(d.text for d in analysis.errors) or "The network has no output layer."
            self.prompter.error("Cannot train", f"Fix these problems first:\n{problems}")
            return False
        project = self.document.project
        base_dir = self.document.path.parent if self.document.path else None
        try:
            settings = resolve_settings(project.dataset, project.training, where="The Train tab",
                                        base_dir=base_dir)
        except SettingsError as error:
            self.prompter.error("Cannot train", str(error))
            return False
        try:
            self.run_folder = runs.new_run_folder(self.runs_base())
            copy = self.run_folder / runs.PROJECT_FILE
            from cnnstudio.core.atomic_file import write_atomic
            write_atomic(copy, dumps(with_absolute_dataset_path(project, base_dir)))
        except (OSError, runs.RunFolderError) as error:
            self.prompter.error("Cannot train", f"The run's folder cannot be written: {error}")
            return False
        self.snapshot = self.document.network.copy()
        self.snapshot_analysis = analyze(self.snapshot)
        config = settings.config
        label = f"run {len(self.runs) + 1} · {config.optimizer} lr {config.learning_rate:g}"
        process = self.process = TrainingProcess(self.run_folder, self)
        process.phaseChanged.connect(self._on_phase)
        process.started.connect(self._on_started)
        process.sample.connect(self.maps_page.show_sample)
        process.batches.connect(self.plots.add_batches)
        process.progress.connect(self._on_progress)
        process.epochEnded.connect(self._on_epoch_end)
        process.marker.connect(self.plots.add_marker)
        process.health.connect(self._on_health)
        process.maps.connect(self.maps_page.show_maps)
        process.filters.connect(self._on_filters)
        process.ended.connect(self._on_ended)
        self.plots.start_run(label)
        self._show_health([])
        self.failure = ""
        self.controls.show_starting(config.epochs)
        self._started_at = time.monotonic()
        self._set_running(True)
        process.start(copy, label=label, probe_layer=self.layer_box.currentText() or None,
                      probe_index=self.sample_box.value())
        return True

    def _set_running(self, running: bool) -> None:
        self.controls.set_running(running, self.trained is not None)
        for box in (self.dataset_box, self.settings_box, self.callbacks_box):
            box.setEnabled(not running)
        self.document.set_read_only(running)
        self.runningChanged.emit(running)

    def _on_pause(self, paused: bool) -> None:
        if self.process is None:
            return
        self.process.pause() if paused else self.process.resume()
        self.controls.show_paused(paused)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.status.setText("Stopping…" if self.process.phase != "training"
                                else "Stopping after the current batch…")

    def stop_and_wait(self, milliseconds: int = 60000) -> bool:
        """For closing the window: stop the run and wait until its process has ended."""
        if self.process is None:
            return True
        process = self.process
        process.stop()
        ended = process.wait(milliseconds)
        from PySide6.QtWidgets import QApplication
        QApplication.processEvents()  # the process's last output and its ended signal
        return ended

    def _on_phase(self, phase: str, text: str) -> None:
        if phase != "training":
            self.status.setText(text)

    def _on_started(self, event: dict) -> None:
        params = event.get("params", {})
        self.controls.show_started(int(params.get("steps", 1)))
        self.plots.set_epochs(int(params.get("epochs", 1)))
        if event.get("lr") is not None:
            self.plots.add_learning_rate(0.0, float(event["lr"]))

    def _on_progress(self, info: dict) -> None:
        self.controls.show_progress(info)

    def _on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.plots.add_epoch(epoch, logs)
        self.controls.show_epoch_done(epoch)

    def _on_health(self, finding: dict) -> None:
        """A finding from the run in progress: a marker on the plots where it was seen, and it
        joins the Problems list and the blocks (through ``healthFindings``)."""
        if isinstance(finding.get("x"), (int, float)):
            self.plots.add_marker(float(finding["x"]), health_marker_text(finding))
        self._show_health([*self.health_findings, finding])

    def _health_summary(self) -> str:
        """A pointer to the run's training-health findings, which the loss plot marks and the
        Design tab's Problems list explains (empty when the run looked healthy)."""
        count = len(self.health_findings)
        if not count:
            return ""
        return (f" <span style='color:{theme.WARNING_COLOR}'>{count} training-health finding"
                f"{'s' if count > 1 else ''}: see Problems on the Design tab.</span>")

    def _show_health(self, findings: list[dict]) -> None:
        self.health_findings = list(findings)
        self.healthFindings.emit(self.health_findings)

    def _on_layer_chosen(self, layer: str) -> None:
        if self.process is not None:
            self.process.set_layer(layer or None)
        else:
            self._refresh_maps_after_training()

    def _on_filters(self, filters: np.ndarray) -> None:
        rgb = filters.shape[1] == 3
        self.filters.set_maps(filters if rgb else filters[:, 0], "first-layer filters", rgb=rgb)

    def _on_ended(self, status: str, message: str) -> None:
        self.plots.flush()
        seconds = time.monotonic() - self._started_at
        if self.process is not None:
            self.process.deleteLater()  # its QProcess is already gone; nothing of the run outlives it
        self.process = None
        self._set_running(False)
        try:
            record = runs.read_record(self.run_folder)
        except runs.RunFolderError:
            record = runs.RunRecord(self.run_folder, label=self.run_folder.name, status=status, message=message)
        self.runs.append(record)
        self._fill_runs(select=len(self.runs) - 1 if record.has_weights else None)
        self._move_runs_if_saved_meanwhile()
        if status == runs.FAILED:
            self.failure = message
            self.status.setText(f"<span style='color:{theme.ERROR_COLOR}'>Run failed: "
                                f"{html.escape(message.splitlines()[0] if message else 'no reason given')}</span> "
                                "The project is unchanged.")
            self.prompter.error("Training failed", (message or "The run ended without a reason.")
                                + "\n\nThe project is unchanged.")
        else:
            result = record.result_text()
            self.status.setText(f"Run {status} in {format_duration(seconds)}" + (f": {result}." if result else ".")
                                + f" Kept in {record.folder}." + self._health_summary())
        self.runFinished.emit(status)

    # ================================================================== after training
    def _show_trained(self, trained) -> None:
        """A run's model and predictions, loaded from its folder, become what the tabs show."""
        from ..torch_threads import use_one_thread_here
        use_one_thread_here()
        self.trained = trained
        self.snapshot = trained.network
        self.snapshot_analysis = analyze(trained.network)
        self._fill_layers()
        if trained.has_predictions:
            self.results.show_results(trained.x, trained.y, trained.probabilities, trained.classes)
        self._refresh_maps_after_training()
        self.export_button.setEnabled(not self.running)

    def _refresh_maps_after_training(self) -> None:
        trained = self.trained
        if trained is None or self.running or not trained.has_predictions:
            return
        index = min(self.sample_box.value(), len(trained.x) - 1)
        label = trained.classes[int(trained.y[index])] if trained.classes else str(int(trained.y[index]))
        self._show_maps_for(trained.x[index:index + 1], f"{trained.split} sample #{index} ({label})")

    def _show_maps_for(self, sample: np.ndarray, caption: str) -> None:
        from cnnstudio.training.probes import FeatureMapProbe, first_layer_filters
        model = self.trained.model
        name = self.maps_page.layer
        if name and name in model.layer_names:
            maps = FeatureMapProbe(model, [name]).capture(sample)
            self.maps_page.show_maps(name, maps[name][0])
        self.maps_page.show_sample(sample[0], caption)
        try:
            self._on_filters(first_layer_filters(model))
        except ValueError:
            pass

    def predict_drawing(self, sample: np.ndarray) -> None:
        if self.trained is None:
            self.status.setText("Train a network (or choose a finished run) to classify drawings.")
            return
        from cnnstudio.training.trained_run import class_probabilities
        self.results.show_prediction(class_probabilities(self.trained.model, sample[None])[0])
        self._show_maps_for(sample[None], "your drawing")

    # ================================================================== the project's runs
    def _load_runs(self, another_project: bool = False) -> None:
        self.project_runs.reload(self.document.path, another_project)
        self.plots.start_run("")
        for record in self.runs:
            if not record.epochs:
                continue
            self.plots.start_run(record.label)
            for index, epoch in enumerate(record.epochs):
                self.plots.add_epoch(epoch, {k: v[index] for k, v in record.history.items() if index < len(v)})
            for finding in record.health:
                if isinstance(finding.get("x"), (int, float)):
                    self.plots.add_marker(float(finding["x"]), health_marker_text(finding))
        self._fill_runs(select=self.project_runs.newest_with_weights())

    def _fill_runs(self, select: int | None) -> None:
        self.controls.fill_runs(self.runs)
        if select is not None and self.runs:
            self.run_box.setCurrentIndex(select)
            self._on_run_chosen(select)

    def _on_run_chosen(self, index: int) -> None:
        if not 0 <= index < len(self.runs) or self.running:
            return
        record = self.runs[index]
        self._show_health(record.health)
        if not record.has_weights:
            self.trained = None
            self.export_button.setEnabled(False)
            self.status.setText(f"{record.summary()}: no weights to show" +
                                (f" ({record.message})." if record.message else "."))
            return

        def load():
            from cnnstudio.training.trained_run import load_trained_run
            return load_trained_run(record)

        def failed(error: Exception) -> None:
            self.trained = None
            self.export_button.setEnabled(False)
            self.status.setText(f"That run cannot be shown: {error}")

        self._background(load, self._show_trained, failed)

    def keep_runs_with(self, project_path: Path) -> None:
        """An untitled project was saved: its runs move next to the file (after a run in
        progress has ended, so its process never loses its folder)."""
        self.project_runs.keep_with(project_path)
        if not self.running:
            self._move_runs_if_saved_meanwhile()

    def _move_runs_if_saved_meanwhile(self) -> None:
        moved = self.project_runs.move_pending()
        if self.trained is not None and self.trained.record.folder.name in moved:
            self.trained.record.folder = moved[self.trained.record.folder.name]
        if self.run_folder is not None and self.run_folder.name in moved:
            self.run_folder = moved[self.run_folder.name]

    # ================================================================== export
    def export(self, fmt: str, file_filter: str) -> None:
        if self.trained is None:
            self.prompter.error("Nothing to export", "Train the network first, or choose a finished run.")
            return
        stem = self.document.path.stem if self.document.path else "model"
        folder = self.document.path.parent if self.document.path else default_project_folder()
        suffix = file_filter.split("(*")[1].rstrip(")")
        path = self.prompter.save_path(str(folder / f"{stem}{suffix}"), file_filter, f"Export {fmt}")
        if not path:
            return
        network, weights = self.trained.network, self.trained.model.state_dict()
        title = self.document.project.name or None
        self.status.setText(f"Exporting {fmt}…")

        def work():
            from cnnstudio.training.export import export_model
            return export_model(network, weights, fmt, path, title=title)

        self._background(work, self._exported, lambda error: self.prompter.error("Export failed", str(error)))

    def _exported(self, written) -> None:
        self.status.setText(f"Exported {written}")
        self.prompter.info("Exported", f"Wrote {written}")
        self.last_export = Path(written)
