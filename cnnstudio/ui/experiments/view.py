"""The Experiments tab: define a sweep, run it in a child process, watch its trials,
compare them on accuracy against cost, open one as a run or apply it to the project.

The sweep itself runs in ``python -m cnnstudio sweep`` (``SweepProcess``), on a
copy of the project as it is in the window; its trials are run folders of the
project (the Train tab lists them) and its study lives beside the project file.
This view shows the child's events while it runs, and reads the study back from
its storage (off the UI thread) when it opens or a sweep ends.  The definition
is the project's ``experiments`` object, edited through undoable commands.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from cnnstudio.core.project import dumps
from cnnstudio.training.settings import with_absolute_dataset_path
from cnnstudio.training.sweeps.experiment import read_experiment
from cnnstudio.training.sweeps.parallel import parallel_layout
from cnnstudio.training.sweeps.space import SearchSpace, SpaceError, parse_space
from cnnstudio.training.sweeps.study import RUNNING, StudySnapshot, TrialRow, default_storage

from .. import theme
from ..background import BackgroundTasks
from ..commands import SetProjectSettings
from ..document import NetworkDocument
from .plots import CostPlot, ParallelPlot
from .process import SweepProcess
from .space_editor import SpaceEditor
from .trial_actions import apply_trial_command, show_run
from .trials_panel import TrialsPanel

class ExperimentsView(QWidget):
    runningChanged = Signal(bool)
    sweepFinished = Signal(str)     # finished / stopped / failed
    studyLoaded = Signal()

    def __init__(self, document: NetworkDocument, prompter, training_view: Callable[[], object] = lambda: None,
                 show_training: Callable[[], object] = lambda: None, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.prompter = prompter
        self.training_view = training_view      # the Train tab if it was built (its run list follows sweeps)
        self.show_training = show_training      # builds and shows the Train tab
        self.process: SweepProcess | None = None
        self.snapshot_file: Path | None = None
        self.study: StudySnapshot | None = None
        self.space: SearchSpace | None = None   # the shown study's space, over the network as it is now
        self.background = BackgroundTasks(self)
        self._storing = False
        self._build()
        self._connect()
        self.load_project()

    # ================================================================== layout
    def _build(self) -> None:
        self.editor = SpaceEditor()
        self.run_button = QPushButton("Run sweep")
        self.run_button.setToolTip("Run the trials in a separate process; each trial is a run of the project")
        self.stop_button = QPushButton("Stop")
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m trials")
        self.status = QLabel("Define the settings to vary, then run the sweep.")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        left_layout.addWidget(self.editor, 1)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.status)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(420)

        self.cost_plot = CostPlot()
        self.parallel_plot = ParallelPlot()
        self.plot_tabs = QTabWidget()
        self.plot_tabs.addTab(self.cost_plot, "Accuracy vs cost")
        self.plot_tabs.addTab(self.parallel_plot, "Parallel coordinates")

        self.trials = TrialsPanel()
        # the parts the window and the tests reach by name
        self.model, self.proxy, self.table = self.trials.model, self.trials.proxy, self.trials.table
        self.filter_edit, self.open_button, self.apply_button = (self.trials.filter_edit, self.trials.open_button,
                                                                 self.trials.apply_button)
        self.select_trial, self.selected_row = self.trials.select_trial, self.trials.selected_row

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.plot_tabs)
        right.addWidget(self.trials)
        right.setSizes([480, 420])
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([440, 1000])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._set_running(False)

    def _connect(self) -> None:
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.editor.changed.connect(self._store)
        self.document.projectReplaced.connect(self.load_project)
        self.document.settingsChanged.connect(self._on_settings_changed)
        self.document.analysisChanged.connect(self._on_network_changed)
        self.document.fileStateChanged.connect(self._update_run_button)
        self.trials.selectionChanged.connect(self._on_selection)
        self.cost_plot.trialClicked.connect(self.select_trial)
        self.cost_plot.costChanged.connect(lambda _cost: self._refresh_pictures())
        self.open_button.clicked.connect(self.open_selected_run)
        self.apply_button.clicked.connect(self.apply_selected)

    # ================================================================== the project's experiment
    @property
    def storage(self) -> str | None:
        return default_storage(self.document.path) if self.document.path else None

    def load_project(self) -> None:
        """Another project: its experiment in the editor, its study (if any) in the table.
        A sweep of the previous project stops (its study can be carried on later)."""
        if self.process is not None:
            self.stop()
        project = self.document.project
        self.editor.show_project(project.network, project.experiments, project.training, self.document.num_classes)
        self.study, self.space = None, None
        self.model.set_study([], "score", [])
        self._refresh_pictures()
        self._update_run_button()
        self.reload_study()

    def _store(self) -> None:
        self._storing = True
        try:
            self.document.push(SetProjectSettings(self.document, "experiments", self.editor.experiments()))
        finally:
            self._storing = False
        if self.study is None or self.study.name != self.editor.study_name:
            self.reload_study()

    def _on_settings_changed(self, key: str) -> None:
        if key == "experiments" and not self._storing:  # undo, redo: show what the project holds now
            project = self.document.project
            self.editor.show_project(project.network, project.experiments, project.training,
                                     self.document.num_classes, self._study_names)
            if self.study is None or self.study.name != self.editor.study_name:
                self.reload_study()
        elif key == "training":
            self.editor.training = self.document.project.training

    def _on_network_changed(self) -> None:
        self.editor.refresh_problems(self.document.network)
        names = [node.name for node in self.document.network.nodes if node.type != "Input"]
        owners = [self.editor.owner_box.itemText(i) for i in range(1, self.editor.owner_box.count())]
        if names != owners:  # a layer added, removed or renamed: offer the network as it is now
            project = self.document.project
            self.editor.show_project(project.network, project.experiments, project.training,
                                     self.document.num_classes, self._study_names)
        self._parse_study_space()

    @property
    def _study_names(self) -> list[str]:
        return [self.editor.study_box.itemText(i) for i in range(self.editor.study_box.count())]

    # ================================================================== the study
    def reload_study(self) -> None:
        """Read the named study from the project's storage, off the UI thread."""
        storage, name = self.storage, self.editor.study_name
        if storage is None:
            return

        def read():
            from cnnstudio.training.sweeps.study import read_study, study_names
            return study_names(storage), read_study(storage, name)

        def failed(error: Exception) -> None:
            self.status.setText(f"The study cannot be read: {html.escape(str(error))}")
            self.studyLoaded.emit()

        self.background.run(read, self._show_study, failed)

    def _show_study(self, result) -> None:
        names, study = result
        self.editor.study_box.blockSignals(True)
        current = self.editor.study_box.currentText()
        self.editor.study_box.clear()
        self.editor.study_box.addItems(names)
        self.editor.study_box.setCurrentText(current)
        self.editor.study_box.blockSignals(False)
        if study is not None and study.name == self.editor.study_name:
            self.study = study
            self._parse_study_space()
            self.model.set_study(list(study.specs), study.objective, study.rows)
            if not self.running:
                self.progress.setRange(0, max(1, self.editor.trials_box.value()))
                self.progress.setValue(sum(1 for row in study.rows if row.counted))
        elif not self.running:
            self.study, self.space = None, None
            self.model.set_study([], "score", [])
        self._refresh_pictures()
        self.studyLoaded.emit()

    def _parse_study_space(self) -> None:
        """The study's space over the network as it is now (for applying a trial to it)."""
        self.space = None
        if self.study is None:
            return
        try:
            self.space = parse_space(self.study.specs, self.document.network, num_classes=self.document.num_classes)
        except SpaceError:
            self.space = None

    def _refresh_pictures(self) -> None:
        rows = self.model.rows
        maximize = self.study.maximize if self.study is not None else True
        self.cost_plot.show_rows(rows, self.model.metric, maximize)
        self.model.set_front(self.cost_plot.front)
        space = self._space_for_pictures()
        if space is not None:
            self.parallel_plot.show_layout(parallel_layout(rows, space, self.model.metric),
                                           self.trials.selected_number())
        else:
            self.parallel_plot.plot.clear()

    def _space_for_pictures(self) -> SearchSpace | None:
        if self.space is not None:
            return self.space
        if self.study is not None and self.study.dimensions:
            return SearchSpace(tuple(self.study.dimensions))  # the network no longer has every swept layer
        return None

    # ================================================================== running
    @property
    def running(self) -> bool:
        return self.process is not None

    def _update_run_button(self) -> None:
        self.run_button.setEnabled(not self.running)
        if self.document.path is None and not self.running:
            self.status.setText("Save the project to run sweeps: the study and the trials' runs are kept beside "
                                "its file.")

    def start(self) -> bool:
        """Check the experiment as the CLI would, then start the sweep's process."""
        if self.running:
            return False
        if self.document.path is None:
            self.prompter.error("Cannot run the sweep", "Save the project first: a sweep keeps its study and its "
                                                        "trials' runs beside the project file.")
            return False
        project = self.document.project
        try:
            experiment = read_experiment(self.editor.experiments(), project.network, where="The Experiments tab",
                                         num_classes=self.document.num_classes)
        except SpaceError as error:
            self.prompter.error("Cannot run the sweep", str(error))
            return False
        try:
            handle, name = tempfile.mkstemp(prefix="cnnstudio-sweep-", suffix=".cnnproj")
            os.close(handle)
            self.snapshot_file = Path(name)
            copy = with_absolute_dataset_path(project, self.document.path.parent)
            copy.experiments = self.editor.experiments()
            self.snapshot_file.write_text(dumps(copy), "utf-8")
        except OSError as error:
            self.prompter.error("Cannot run the sweep", f"The project's copy cannot be written: {error}")
            return False
        process = self.process = SweepProcess(self.document.path, self)
        process.sweepStarted.connect(self._on_sweep_started)
        process.trialStarted.connect(self._on_trial_started)
        process.trialProgress.connect(self._on_trial_progress)
        process.trialEnded.connect(self._on_trial_ended)
        process.ended.connect(self._on_ended)
        self.status.setText(f"Starting sweep {html.escape(experiment.name)}…")
        self._set_running(True)
        process.start_sweep(self.snapshot_file, [])
        return True

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.status.setText("Stopping after the current batch…")

    def shutdown(self, milliseconds: int = 60000) -> None:
        """For closing the window: stop a sweep and let background reads finish."""
        if self.process is not None:
            process = self.process
            process.stop()
            process.wait(milliseconds)
            from PySide6.QtWidgets import QApplication
            QApplication.processEvents()
        self.background.wait(milliseconds)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)  # an unsaved project is explained when Run is pressed
        self.stop_button.setEnabled(running)
        self.editor.setEnabled(not running)
        self.runningChanged.emit(running)

    def _on_sweep_started(self, event: dict) -> None:
        names = list(event.get("space", {}))
        if self.study is None or self.study.name != event.get("study"):
            self.study = StudySnapshot(str(event.get("study")), dict(event.get("space", {})),
                                       str(event.get("objective")), str(event.get("direction")), [])
            self._parse_study_space()
            self.model.set_study(names, self.study.objective, [])
        self.progress.setRange(0, max(1, int(event.get("target", 1))))
        self.progress.setValue(int(event.get("done", 0)))
        self.status.setText(f"Study {html.escape(str(event.get('study')))} in "
                            f"{html.escape(str(event.get('storage')))}: {event.get('done', 0)} of "
                            f"{event.get('target')} trials done.")

    def _on_trial_started(self, event: dict) -> None:
        self.model.upsert(TrialRow(int(event["number"]), RUNNING, dict(event.get("values", {}))))
        self.status.setText(f"Trial {event['number']}: starting…")

    def _on_trial_progress(self, event: dict) -> None:
        self.status.setText(f"Trial {event['number']}: epoch {int(event['epoch']) + 1} of {event['epochs']}, "
                            f"batch {event['batch']} of {event['steps']}")

    def _on_trial_ended(self, data: dict) -> None:
        row = TrialRow.from_json(data)
        self.model.upsert(row)
        if self.study is not None:
            self.study.rows = list(self.model.rows)
        if row.counted:
            self.progress.setValue(min(self.progress.maximum(), self.progress.value() + 1))
        self._refresh_pictures()

    def _on_ended(self, status: str, message: str) -> None:
        if self.process is not None:
            self.process.deleteLater()
        self.process = None
        if self.snapshot_file is not None:
            self.snapshot_file.unlink(missing_ok=True)
            self.snapshot_file = None
        self._set_running(False)
        color = theme.ERROR_COLOR if status == "failed" else theme.text_color().name()
        self.status.setText(f"<span style='color:{color}'>Sweep {status}"
                            f"{': ' + html.escape(message) if message else ''}.</span> Its trials are runs of the "
                            "project (Train tab).")
        self.reload_study()
        training = self.training_view()
        if training is not None and not training.running:  # the new trials are runs of the project
            training.load_project_settings(runs=True)
        self.sweepFinished.emit(status)

    # ================================================================== a trial
    def _on_selection(self) -> None:
        number = self.trials.selected_number()
        self.cost_plot.set_selected(number)
        layout = self.parallel_plot.layout_shown
        if layout is not None:
            self.parallel_plot.show_layout(layout, number)

    def open_selected_run(self) -> bool:
        """Show the selected trial's run in the Train tab."""
        row = self.selected_row()
        if row is None or not row.run:
            return False
        training = self.show_training()
        problem = show_run(training, row.run) if training is not None else "The Train tab is not available."
        if problem:
            self.prompter.error("Cannot open the run", problem)
        return not problem

    def apply_selected(self) -> bool:
        """Give the project the selected trial's settings and network, as one undoable edit."""
        row = self.selected_row()
        if row is None or self.study is None:
            return False
        try:
            space = parse_space(self.study.specs, self.document.network, num_classes=self.document.num_classes)
            command = apply_trial_command(self.document, space, row.values, row.number)
        except (SpaceError, ValueError) as error:
            self.prompter.error("Cannot apply the trial", f"The project's network cannot take trial "
                                                          f"{row.number}'s values: {error}")
            return False
        if not self.document.push(command):
            self.prompter.error("Cannot apply the trial", "The project is locked while training runs.")
            return False
        self.trials.note.setText(f"Applied trial {row.number} to the project (Edit → Undo takes it back).")
        return True


__all__ = ["ExperimentsView"]
