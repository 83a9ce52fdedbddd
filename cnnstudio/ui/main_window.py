"""The studio's main window: it composes the canvas and the panels, owns the
menus, toolbar and status bar, and handles files. Edits go through commands;
numbers come from the document's analysis."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QLabel, QMainWindow, QTabWidget, QToolBar, QUndoView, QVBoxLayout,
                               QWidget)

from cnnstudio.core.analysis import training_optimizer
from cnnstudio.core.project import Project
from cnnstudio.core.summary import human_bytes
from cnnstudio.paths import EXAMPLE_PROJECTS

from .autosave import INTERVAL_MS
from .canvas.scene import NetworkScene
from .canvas.view import NetworkView
from .document import NetworkDocument
from .edit_actions import EditActions
from .icons import app_icon
from .panels.inspector import InspectorPanel
from .panels.palette import PalettePanel
from .panels.problems import ProblemsPanel
from .panels.summary import SummaryPanel
from .preview.controller import LivePreview
from .preview.views import PreviewViews
from .project_files import ProjectFiles
from .prompter import Prompter
from .workspace import Workspace
from .settings import app_settings, config_dir
from .template_dialog import open_template
from .ui_thread_gc import collect_garbage_on_ui_thread

APP_NAME = "CNN Studio"


class MainWindow(QMainWindow):
    def __init__(self, autosave_folder: Path | None = None, restore_layout: bool = True) -> None:
        super().__init__()
        collect_garbage_on_ui_thread()
        self.setWindowIcon(app_icon())
        self.prompter = Prompter(self)
        self.document = NetworkDocument(parent=self)
        self.scene = NetworkScene(self.document, self)
        self.view = NetworkView(self.scene)
        self.edits = EditActions(self.scene)
        self.training_view = None  # built on first use: it loads pyqtgraph, which the editor does not need
        self.lab_view = None  # built on first use, like the training view
        self.experiments_view = None  # built on first use (issue 18: sweeps)
        self.lock_banner = QLabel("Training is running: the network is locked for editing. Stop the run to edit.")
        self.lock_banner.setStyleSheet("background: #FB8C00; color: white; padding: 4px 8px; font-weight: bold;")
        self.lock_banner.hide()
        design = QWidget()
        design_layout = QVBoxLayout(design)
        design_layout.setContentsMargins(0, 0, 0, 0)
        design_layout.setSpacing(0)
        design_layout.addWidget(self.lock_banner)
        design_layout.addWidget(self.view)
        self.central_tabs = QTabWidget()
        self.central_tabs.setDocumentMode(True)
        self.central_tabs.addTab(design, "Design")
        self.central_tabs.addTab(QWidget(), "Train")
        self.central_tabs.addTab(QWidget(), "Lab")
        self.central_tabs.addTab(QWidget(), "Experiments")
        self.central_tabs.currentChanged.connect(self._on_central_tab)
        self.setCentralWidget(self.central_tabs)
        self.files = ProjectFiles(self, autosave_folder or config_dir() / "autosave")

        self.palette = PalettePanel()
        self.inspector = InspectorPanel(self.document)
        self.summary = SummaryPanel(self.document)
        self.problems = ProblemsPanel(self.document)
        self.history = QUndoView(self.document.undo_stack)
        self.history.setEmptyLabel("<opened>")
        self.previews = LivePreview(self.document, self._runs_base, self)
        self.preview_views = PreviewViews(self.previews, self.scene, self.inspector)
        self._make_docks()
        self.workspace = Workspace(self, self.central_tabs, [self.palette_dock, self.inspector_dock],
                                   [self.summary_dock, self.problems_dock, self.history_dock])
        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()
        self._connect()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(INTERVAL_MS)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()
        self.resize(1440, 900)
        if restore_layout:
            self._restore_layout()
        self._update_title()
        self._update_status()

    # ================================================================== layout
    def _dock(self, title: str, widget, area, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _make_docks(self) -> None:
        left, right, bottom = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                               Qt.DockWidgetArea.BottomDockWidgetArea)
        self.palette_dock = self._dock("Layers", self.palette, left, "palette")
        self.inspector_dock = self._dock("Inspector", self.inspector, right, "inspector")
        self.summary_dock = self._dock("Summary", self.summary, bottom, "summary")
        self.problems_dock = self._dock("Problems", self.problems, bottom, "problems")
        self.history_dock = self._dock("History", self.history, bottom, "history")
        self.tabifyDockWidget(self.summary_dock, self.problems_dock)
        self.tabifyDockWidget(self.problems_dock, self.history_dock)
        self.summary_dock.raise_()
        self.resizeDocks([self.palette_dock, self.inspector_dock], [210, 330], Qt.Orientation.Horizontal)
        self.resizeDocks([self.summary_dock], [270], Qt.Orientation.Vertical)
        self.setCorner(Qt.Corner.BottomLeftCorner, left)
        self.setCorner(Qt.Corner.BottomRightCorner, right)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        action.setStatusTip(tip or text.replace("&", "").replace("…", ""))
        action.setToolTip(tip or text.replace("&", "").replace("…", ""))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def _make_actions(self) -> None:
        S = QKeySequence.StandardKey
        stack = self.document.undo_stack
        self.new_action = self._action("&New", self.new_project, S.New, "Start an empty network")
        self.new_template_action = self._action("New from &Template…", lambda: open_template(self), "Ctrl+Shift+N",
                                                "Start from a classic architecture: LeNet, AlexNet, VGG, ResNet, ...")
        self.open_action = self._action("&Open…", self.open_dialog, S.Open, "Open a .cnnproj project")
        self.save_action = self._action("&Save", self.save, S.Save, "Save the project")
        self.save_as_action = self._action("Save &As…", self.save_as, S.SaveAs, "Save under a new name")
        self.import_model_action = self._action("&Import Model…", self.import_model, None,
                                                "Open an ONNX, PyTorch or Keras model as a new project")
        self.export_code_action = self._action("Export PyTorch &Code…", self.export_code, "Ctrl+E",
                                               "Write the network as a standalone PyTorch module")
        self.export_keras_action = self._action("Export &Keras Code…", self.export_keras_code, None,
                                                "Write the network as a Keras 3 script")
        self.quit_action = self._action("&Quit", self.quit, S.Quit)
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(S.Undo)
        self.redo_action = stack.createRedoAction(self, "&Redo")
        # both habits on every platform: the platform's own Redo keys (only the first would be bound
        # by QKeySequence(S.Redo)) plus Ctrl+Shift+Z and Ctrl+Y, whichever the user grew up with
        redo_keys = [*QKeySequence.keyBindings(S.Redo), QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
        self.redo_action.setShortcuts(list(dict.fromkeys(redo_keys)))
        self.cut_action = self._action("Cu&t", self.edits.cut, S.Cut)
        self.copy_action = self._action("&Copy", self.edits.copy, S.Copy)
        self.paste_action = self._action("&Paste", self.edits.paste, S.Paste)
        self.duplicate_action = self._action("&Duplicate", self.edits.duplicate, "Ctrl+D",
                                             "Copy the selected blocks and paste them beside")
        self.delete_action = self._action("&Delete", self.edits.delete_selection,
                                          [QKeySequence(S.Delete), QKeySequence("Backspace")],
                                          "Delete the selected blocks or wires")
        self.select_all_action = self._action("Select &All", self._select_all, S.SelectAll)
        self.tidy_action = self._action("&Tidy Layout", self.edits.tidy, "Ctrl+L",
                                        "Arrange the blocks in rows by depth")
        self.group_action = self._action("&Group", self.edits.group, "Ctrl+G", "Make the selected blocks one block")
        self.ungroup_action = self._action("U&ngroup", self.edits.ungroup, "Ctrl+Shift+G", "Dissolve the selected group")
        self.toggle_group_action = self._action("&Open/Close Group", self.edits.toggle_group, "Ctrl+Shift+O",
                                                "Open the selected group in place, or close it (or double-click it)")
        self.zoom_in_action = self._action("Zoom &In", self.view.zoom_in, [QKeySequence(S.ZoomIn),
                                                                           QKeySequence("Ctrl+=")])
        self.zoom_out_action = self._action("Zoom &Out", self.view.zoom_out, S.ZoomOut)
        self.zoom_fit_action = self._action("Zoom to &Fit", self.view.zoom_to_fit, "Ctrl+0",
                                            "Show the whole network")
        self.zoom_reset_action = self._action("&Actual Size", lambda: self.view.set_zoom(1.0), "Ctrl+1")
        self.snap_action = self._action("&Snap to Grid", self.scene.set_snap_to_grid, None,
                                        "Align blocks to the grid when they move", checkable=True)
        self.snap_action.setChecked(True)
        self.keras_order_action = self._action("Keras Shape Order (H, W, C)", self._toggle_order, None,
                                               "Show shapes as (H, W, C) instead of (C, H, W)", checkable=True)
        self.live_preview_action = self._action("&Live Previews", self._toggle_previews, None,
                                                "Run one sample through the network after each edit and show "
                                                "every block's output", checkable=True)
        self.live_preview_action.setChecked(app_settings().value("live_previews", True, type=bool))
        if not self.live_preview_action.isChecked():
            self.previews.set_enabled(False)
        for action in (self.delete_action, self.copy_action, self.cut_action, self.paste_action,
                       self.duplicate_action, self.select_all_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.new_template_action)
        self.examples_menu = file_menu.addMenu("New from &Example")
        for path in sorted(EXAMPLE_PROJECTS.glob("*.cnnproj")):
            action = self.examples_menu.addAction(path.stem.replace("_", " "))
            action.triggered.connect(lambda _=False, p=path: self.open_example(p))
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.import_model_action)
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addAction(self.export_code_action)
        file_menu.addAction(self.export_keras_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        for action in (self.undo_action, self.redo_action, None, self.cut_action, self.copy_action,
                       self.paste_action, self.duplicate_action, self.delete_action, None,
                       self.select_all_action, self.tidy_action, None, self.group_action, self.ungroup_action,
                       self.toggle_group_action):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        for action in (self.zoom_in_action, self.zoom_out_action, self.zoom_fit_action, self.zoom_reset_action,
                       None, self.snap_action, self.keras_order_action, self.live_preview_action, None):
            view_menu.addSeparator() if action is None else view_menu.addAction(action)
        for dock in (self.palette_dock, self.inspector_dock, self.summary_dock, self.problems_dock,
                     self.history_dock):
            view_menu.addAction(dock.toggleViewAction())

        from .lab.view import PAGES as LAB_PAGES
        self.lab_menu = bar.addMenu("&Lab")
        for key, (title, _module, _cls) in LAB_PAGES.items():
            self.lab_menu.addAction(self._action(title, lambda _checked=False, page=key: self.show_lab(page)))

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&Keyboard Shortcuts", self._show_shortcuts))
        help_menu.addAction(self._action("&About CNN Studio", self._show_about))

    def _make_toolbar(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.new_action, self.open_action, self.save_action, None, *self._steady_undo_actions(),
                       None, self.delete_action, self.tidy_action, None, self.zoom_fit_action,
                       self.zoom_in_action, self.zoom_out_action):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.addToolBar(toolbar)

    def _steady_undo_actions(self) -> tuple[QAction, QAction]:
        """Undo and Redo for the toolbar with words that never change, so the buttons after
        them stay put; what they would undo is in the tooltip (the Edit menu names it too)."""
        stack = self.document.undo_stack
        undo = QAction("Undo", self)
        redo = QAction("Redo", self)
        undo.triggered.connect(stack.undo)
        redo.triggered.connect(stack.redo)
        for action, can, text, changed_can, changed_text, verb in (
                (undo, stack.canUndo, stack.undoText, stack.canUndoChanged, stack.undoTextChanged, "Undo"),
                (redo, stack.canRedo, stack.redoText, stack.canRedoChanged, stack.redoTextChanged, "Redo")):
            def tip(value: str, action=action, verb=verb) -> None:
                action.setToolTip(f"{verb} {value}" if value else f"Nothing to {verb.lower()}")
            action.setEnabled(can())
            changed_can.connect(action.setEnabled)
            changed_text.connect(tip)
            tip(text())
        return undo, redo

    def _make_status_bar(self) -> None:
        self.status_params = QLabel()
        self.status_memory = QLabel()
        self.status_selection = QLabel()
        self.status_saved = QLabel()
        for label in (self.status_selection, self.status_params, self.status_memory, self.status_saved):
            self.statusBar().addPermanentWidget(label)

    def _connect(self) -> None:
        self.document.analysisChanged.connect(self._update_status)
        self.document.fileStateChanged.connect(self._update_title)
        self.document.fileStateChanged.connect(self._update_status)
        self.scene.selectionChanged.connect(self._on_selection)
        self.scene.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.palette.appendRequested.connect(self.edits.append)
        self.summary.nodesSelected.connect(self._select_from_panel)
        self.problems.nodesSelected.connect(self._select_from_panel)
        self.summary.orderChanged.connect(self._on_order_changed)
        self.problems.countChanged.connect(self._on_problem_count)

    # ================================================================== training
    def _on_central_tab(self, index: int) -> None:
        if index == 1:
            self.show_training()
        elif index == 2:
            self.show_lab()
        elif index == 3:
            self.show_experiments()

    def show_training(self):
        """The training view, built the first time it is shown."""
        if self.training_view is None:
            from .training.view import TrainingView
            self.training_view = TrainingView(self.document, self.prompter)
            self.training_view.runningChanged.connect(self.lock_banner.setVisible)
            self.training_view.healthFindings.connect(self._show_training_health)
            self.workspace.replace_page(1, self.training_view, "Train")
            self.training_view.detect_devices()
        self.central_tabs.setCurrentIndex(1)
        return self.training_view

    def _show_training_health(self, findings: list) -> None:
        """A run's training-health findings: in the Problems list and as marks on the blocks."""
        from .canvas.health_marks import show_health_marks
        self.problems.show_training_findings(findings)
        show_health_marks(self.scene, findings)

    def show_lab(self, page: str | None = None):
        """The Lab tab (issue #7), built the first time it is shown; ``page`` is a key of
        ``lab.view.PAGES`` ("filters", "convolution", "pooling", ...)."""
        if self.lab_view is None:
            from .lab.view import LabView
            from .torch_threads import use_one_thread_here
            use_one_thread_here()  # the Lab's pages run small models on the UI thread
            self.lab_view = LabView(self.document, lambda: self.training_view)
            self.workspace.replace_page(2, self.lab_view, "Lab")
        self.central_tabs.setCurrentIndex(2)
        if page is not None:
            self.lab_view.show_page(page)
        return self.lab_view

    def show_experiments(self):
        """The Experiments tab (sweeps), built the first time it is shown."""
        if self.experiments_view is None:
            from .experiments.view import ExperimentsView
            self.experiments_view = ExperimentsView(self.document, self.prompter, lambda: self.training_view,
                                                    self.show_training)
            self.workspace.replace_page(3, self.experiments_view, "Experiments")
        self.central_tabs.setCurrentIndex(3)
        return self.experiments_view

    @property
    def training_running(self) -> bool:
        return self.training_view is not None and self.training_view.running

    # ================================================================== selection and view
    def _on_selection(self) -> None:
        selected = self.scene.selected_node_ids()
        groups = self.scene.selected_group_ids()
        if len(groups) == 1 and set(selected) == set(self.document.network.groups.descendant_nodes(groups[0])):
            self.inspector.show_group(groups[0])
        else:
            self.inspector.show_node(selected[0] if len(selected) == 1 else None)
        self.summary.select_nodes(selected)
        self.preview_views.show_selected()
        self._update_status()

    def _select_from_panel(self, node_ids: list[str]) -> None:
        self.scene.select_nodes(node_ids)
        if node_ids and node_ids[0] in self.scene.nodes:
            self.view.ensureVisible(self.scene.item_showing(node_ids[0]), 60, 60)

    def _select_all(self) -> None:
        self.scene.select_nodes(list(self.scene.nodes))

    def _toggle_previews(self, enabled: bool) -> None:
        self.previews.set_enabled(enabled)
        settings = app_settings()
        settings.setValue("live_previews", enabled)
        settings.sync()

    def _runs_base(self) -> Path | None:
        """Where the open project's runs are (the trained weights a preview can use)."""
        if self.training_view is not None:
            return self.training_view.runs_base()
        from cnnstudio.training.run_folder import runs_dir
        return runs_dir(self.document.path) if self.document.path is not None else None

    def _toggle_order(self, keras: bool) -> None:
        self.summary.set_order("keras" if keras else "torch")

    def _on_order_changed(self, order: str) -> None:
        self.scene.set_order(order)
        self.keras_order_action.setChecked(order == "keras")

    def _on_problem_count(self, errors: int, warnings: int) -> None:
        title = "Problems" + (f" ({errors + warnings})" if errors + warnings else "")
        self.problems_dock.setWindowTitle(title)

    def _update_status(self) -> None:
        analysis = self.document.analysis
        self.status_params.setText(f"{analysis.total_params:,} params · {analysis.macs:,} MACs")
        memory = analysis.memory(self.summary.batch_size, "float32",
                                 optimizer=training_optimizer(self.document.project.training))
        self.status_memory.setText(f"training memory (batch {memory.batch_size}): {human_bytes(memory.total)}")
        selected = self.scene.selected_node_ids()
        self.status_selection.setText(f"{len(selected)} selected" if selected else "")
        if self.document.modified:
            self.status_saved.setText("modified")
        else:  # an untitled project with no edits has never been saved
            self.status_saved.setText("saved" if self.document.path is not None else "not saved yet")

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.document.modified)

    # ================================================================== files (the work is ProjectFiles')
    @property
    def autosaver(self):
        return self.files.autosaver

    @property
    def shape_order(self) -> str:
        return self.summary.order

    def status_message(self, text: str, milliseconds: int = 4000) -> None:
        self.statusBar().showMessage(text, milliseconds)

    def confirm_discard(self) -> bool:
        return self.files.confirm_discard()

    def new_project(self) -> bool:
        return self.files.new_project()

    def open_project(self, project: Project) -> None:
        """Show ``project`` as a new, untitled document (saving asks where)."""
        self.files.replace(project, None)

    def open_example(self, path: Path) -> bool:
        """Open an example as a new, untitled copy, so saving never overwrites the example."""
        return self.open_path(path, as_copy=True)

    def open_dialog(self) -> bool:
        return self.files.open_dialog(EXAMPLE_PROJECTS)

    def open_path(self, path: Path, ask: bool = True, as_copy: bool = False) -> bool:
        """Open ``path``; a bad file is reported and the current project stays open."""
        return self.files.open_path(path, ask=ask, as_copy=as_copy)

    def save(self) -> bool:
        return self.files.save()

    def save_as(self) -> bool:
        return self.files.save_as()

    def export_code(self) -> bool:
        return self.files.export_code()

    def import_model(self) -> bool:
        from .import_model import import_model_into
        return import_model_into(self)

    def export_keras_code(self) -> bool:
        from .keras_export import export_keras_code
        return export_keras_code(self)

    def autosave_now(self) -> None:
        self.files.autosave_now()

    def offer_recovery(self) -> bool:
        return self.files.offer_recovery()

    def project_opened(self, project: Project) -> None:
        """Another project is open: shapes in its order, the whole network in view."""
        self.summary.set_order("keras" if (project.view or {}).get("shape_order") == "keras" else "torch")
        self._update_title()
        self.view.show_network()

    def project_saved(self, path: Path, first_save: bool) -> None:
        if first_save and self.training_view is not None:
            self.training_view.keep_runs_with(path)
        self.status_message(f"Saved {path}")

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.files.recent()
        if not files:
            self.recent_menu.addAction("No recent projects").setEnabled(False)
        for file in files:
            action = self.recent_menu.addAction(file)
            action.triggered.connect(lambda _=False, f=file: self.files.open_recent(f))

    # ================================================================== closing
    def quit(self) -> bool:
        """File > Quit: close the window (asking what closing asks) and end the application."""
        if not self.close():
            return False
        from PySide6.QtWidgets import QApplication
        QApplication.quit()
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.training_running:
            if not self.prompter.ask_stop_training():
                event.ignore()
                return
            self.training_view.stop_and_wait()
        if not self.files.close():
            event.ignore()
            return
        self.autosave_timer.stop()
        self.previews.shutdown()
        if self.training_view is not None:
            self.training_view.wait_for_background()
        if self.lab_view is not None:
            self.lab_view.shutdown()
        if self.experiments_view is not None:
            self.experiments_view.shutdown()
        self.workspace.show_editor()  # the remembered layout is the editor's, with its docks
        settings = app_settings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("window_state", self.saveState())
        settings.sync()
        event.accept()

    def _restore_layout(self) -> None:
        settings = app_settings()
        geometry, state = settings.value("geometry"), settings.value("window_state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    # ================================================================== help
    def _show_shortcuts(self) -> None:
        rows = []
        for action in self.findChildren(QAction):
            if action.shortcut().toString() and action.text():
                rows.append(f"<tr><td>{action.text().replace('&', '')}</td>"
                            f"<td><b>{action.shortcut().toString()}</b></td></tr>")
        self.prompter.info("Keyboard shortcuts", "<table>" + "".join(sorted(set(rows))) + "</table>"
                           "<p>Wheel or Ctrl+wheel zooms; middle-drag pans; drag from a block's bottom port "
                           "to another block to connect.</p>")

    def _show_about(self) -> None:
        from cnnstudio import __version__
        self.prompter.info("About CNN Studio", f"CNN Studio {__version__}\nDesign, check and train convolutional "
                                               "networks visually with PyTorch.")

