"""The bridge between the Qt-free project and the widgets.

``NetworkDocument`` owns the open project, its undo stack and its latest
analysis.  The core network announces each change through its plain
``Event``; the document re-runs the (cheap, pure) analysis and re-emits both
as Qt signals that the canvas, inspector, summary and problems list follow.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from cnnstudio.core.analysis import Analysis, analyze
from cnnstudio.core.network import Change, Network
from cnnstudio.core.project import Project


class NetworkDocument(QObject):
    networkChanged = Signal(object)   # a core Change
    analysisChanged = Signal()
    projectReplaced = Signal()        # a different project (new/open): views rebuild
    fileStateChanged = Signal()       # path or saved state
    readOnlyChanged = Signal(bool)
    settingsChanged = Signal(str)     # "dataset", "training" or "experiments": the project's settings objects

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._project = project or Project(Network())
        self._path: Path | None = None
        self._read_only = False
        self._analysis = analyze(self.network, num_classes=self.num_classes)
        self.network.changed.subscribe(self._on_network_changed)
        self.settingsChanged.connect(self._on_settings_changed)

    # ------------------------------------------------------------------ state
    @property
    def project(self) -> Project:
        return self._project

    @property
    def network(self) -> Network:
        return self._project.network

    @property
    def analysis(self) -> Analysis:
        return self._analysis

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def num_classes(self) -> int | None:
        classes = (self._project.dataset or {}).get("num_classes")
        return classes if isinstance(classes, int) else None

    @property
    def read_only(self) -> bool:
        return self._read_only

    def set_read_only(self, value: bool) -> None:
        if value != self._read_only:
            self._read_only = value
            self.readOnlyChanged.emit(value)

    @property
    def display_name(self) -> str:
        if self._path is not None:
            return self._path.name
        return self._project.name or "Untitled"

    # ------------------------------------------------------------------ editing
    def push(self, command: QUndoCommand) -> bool:
        """Run ``command`` through the undo stack; refused while training locks the project."""
        if self._read_only:
            return False
        self.undo_stack.push(command)
        return True

    def replace_project(self, project: Project, path: Path | None) -> None:
        """Open another project: a fresh undo history, clean state."""
        self.network.changed.unsubscribe(self._on_network_changed)
        self._project = project
        self._path = path
        self.network.changed.subscribe(self._on_network_changed)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._analysis = analyze(self.network, num_classes=self.num_classes)
        self.projectReplaced.emit()
        self.analysisChanged.emit()
        self.fileStateChanged.emit()

    SETTINGS = ("dataset", "training", "experiments")

    def settings(self, key: str) -> dict | None:
        """The project's ``dataset``, ``training`` or ``experiments`` settings object."""
        if key not in self.SETTINGS:
            raise KeyError(key)
        return getattr(self._project, key)

    def set_settings(self, key: str, value: dict | None) -> None:
        """Replace the project's ``dataset`` or ``training`` settings (through ``SetProjectSettings``,
        so the change is undoable) and tell the views."""
        if key not in self.SETTINGS:
            raise KeyError(key)
        setattr(self._project, key, value)
        self.settingsChanged.emit(key)

    def mark_saved(self, path: Path) -> None:
        self._path = path
        self.undo_stack.setClean()
        self.fileStateChanged.emit()

    def reanalyze(self) -> None:
        self._analysis = analyze(self.network, num_classes=self.num_classes)
        self.analysisChanged.emit()

    def _on_settings_changed(self, key: str) -> None:
        if key == "dataset":  # the classifier check depends on the dataset's classes
            self.reanalyze()

    def _on_clean_changed(self, _clean: bool) -> None:
        self.fileStateChanged.emit()

    def _on_network_changed(self, change: Change) -> None:
        self.networkChanged.emit(change)
        if change.kind != "moved":  # positions change no number
            self.reanalyze()
