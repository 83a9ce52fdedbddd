"""Shared helpers for the UI tests: a scripted prompter and a window factory.

The real ``Prompter`` opens modal dialogs; ``FakePrompter`` records every
message and answers every question from a script, so a test never blocks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from cnnstudio.ui.main_window import MainWindow
from cnnstudio.ui.panels.palette import TYPE_ROLE

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = ROOT / "projects"
LECTURE_FILE = PROJECTS / "lecture_mnist.cnnproj"


class FakePrompter:
    """Records what the window says and answers what it asks.

    ``save_changes`` answers the unsaved-changes question ('save', 'discard' or
    'cancel'); ``restore`` answers the recovery question; ``save_to`` and ``open_from``
    are the paths the save and open dialogs return ('' = the user cancelled)."""

    def __init__(self, save_changes: str = "discard", restore: bool = True, save_to: str = "",
                 open_from: str = "", import_from: str = "", module_options: dict | None = None,
                 run_code: bool = False, input_shape: tuple | None = None) -> None:
        self.save_changes = save_changes
        self.restore = restore
        self.save_to = save_to
        self.open_from = open_from
        self.import_from = import_from          # File > Import Model: the model file chosen
        self.module_options = module_options    # the .py dialog's answers (None = cancelled)
        self.run_code = run_code                # whether running the .py file is confirmed
        self.input_shape = input_shape          # the answer when a model leaves its input size open
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.questions: list[tuple[str, str]] = []

    def ask_save_changes(self, name: str) -> str:
        self.questions.append(("save_changes", name))
        return self.save_changes

    def ask_restore(self, description: str) -> bool:
        self.questions.append(("restore", description))
        return self.restore

    def ask_replace(self, path: str) -> bool:
        self.questions.append(("replace", path))
        return True

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def info(self, title: str, text: str) -> None:
        self.infos.append((title, text))

    def open_path(self, folder: str = "") -> str:
        self.questions.append(("open_path", folder))
        return self.open_from

    def save_path(self, suggested: str, file_filter: str = "", title: str = "") -> str:
        self.questions.append(("save_path", suggested))
        return self.save_to

    def import_model_path(self, folder: str, file_filter: str) -> str:
        self.questions.append(("import_model_path", file_filter))
        return self.import_from

    def ask_module_options(self, path: str, classes: list[str]) -> dict | None:
        self.questions.append(("module_options", path, tuple(classes)))
        return self.module_options

    def confirm_run_code(self, path: str) -> bool:
        self.questions.append(("run_code", path))
        return self.run_code

    def ask_input_shape(self, path: str, reason: str) -> tuple | None:
        self.questions.append(("input_shape", reason))
        return self.input_shape


@pytest.fixture
def make_window(qtbot, tmp_path):
    """``make_window(**answers)`` -> a shown MainWindow with a ``FakePrompter(**answers)``,
    its own autosave folder under ``tmp_path`` and no restored layout.  Windows are
    closed at the end of the test (the fake prompter answers 'discard' unless told otherwise)."""

    def make(autosave_folder: Path | None = None, **answers) -> MainWindow:
        window = MainWindow(autosave_folder=autosave_folder or tmp_path / "autosave", restore_layout=False)
        window.prompter = FakePrompter(**answers)
        window.autosave_timer.stop()  # autosaves happen when a test calls autosave_now()
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def lecture_window(make_window):
    """A window with the lecture's project opened from its file (saved state: clean)."""
    window = make_window()
    assert window.open_path(LECTURE_FILE)
    return window


class User:
    """What a user does with the window, one gesture per method, through the real widgets."""

    def __init__(self, qtbot, window: MainWindow) -> None:
        self.qtbot = qtbot
        self.window = window

    # ------------------------------------------------------------------ looking
    @property
    def network(self):
        return self.window.document.network

    def node_id(self, name: str) -> str:
        node = self.network.node_by_name(name)
        assert node is not None, f"no layer named {name!r}"
        return node.id

    def block(self, name: str):
        return self.window.scene.nodes[self.node_id(name)]

    def summary_rows(self) -> list[tuple[str, ...]]:
        """The summary table as the user reads it: (layer, type, output shape, params, MACs) per row."""
        model = self.window.summary.table.model()
        return [tuple(str(model.index(row, column).data()) for column in range(model.columnCount()))
                for row in range(model.rowCount())]

    def selected_summary_rows(self) -> list[int]:
        return sorted({index.row() for index in self.window.summary.table.selectionModel().selectedRows()})

    def problems(self) -> list[str]:
        panel = self.window.problems
        return [panel.item(row).text() for row in range(panel.count())]

    # ------------------------------------------------------------------ the palette
    def palette_item(self, type_name: str):
        tree = self.window.palette.tree
        for group in range(tree.topLevelItemCount()):
            family = tree.topLevelItem(group)
            for child in range(family.childCount()):
                item = family.child(child)
                if item.data(0, TYPE_ROLE) == type_name:
                    return item
        raise AssertionError(f"{type_name} is not in the palette")

    def double_click_palette(self, type_name: str) -> str:
        """Double-click a palette entry (appends after the selected block); returns the new block's id."""
        tree = self.window.palette.tree
        item = self.palette_item(type_name)
        tree.scrollToItem(item)
        centre = tree.visualItemRect(item).center()
        before = {n.id for n in self.network.nodes}
        # a real double-click is a click and then a second press that Qt reports as a double-click;
        # QTest's mouseDClick sends only the latter, which an item view ignores without the first press
        self.qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        self.qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        added = [n.id for n in self.network.nodes if n.id not in before]
        assert len(added) == 1, f"double-clicking {type_name} added {added}"
        return added[0]

    # ------------------------------------------------------------------ the canvas
    def select(self, *names: str) -> None:
        self.window.scene.select_nodes([self.node_id(name) for name in names])

    def click_block(self, name: str) -> None:
        view = self.window.view
        item = self.block(name)
        view.ensureVisible(item)
        centre = view.mapFromScene(item.mapToScene(item.boundingRect().center()))
        self.qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)

    def click_wire(self, source: str, target: str) -> None:
        """Click the middle of the wire ``source -> target`` (selecting only it)."""
        view = self.window.view
        edge = self.window.scene.edges[(self.node_id(source), self.node_id(target))]
        middle = edge.path().pointAtPercent(0.5)
        view.centerOn(middle)
        self.qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(middle))

    def drag_wire(self, source: str, target: str, below: float = 0.0) -> None:
        """Press on ``source``'s output port (``below`` its centre, in scene units), move
        onto ``target`` and release there."""
        view = self.window.view
        start = view.mapFromScene(self.block(source).output_port() + QPointF(0, below))
        end = view.mapFromScene(self.block(target).sceneBoundingRect().center())
        viewport = view.viewport()
        self.qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
        self.qtbot.mouseMove(viewport, pos=(start + end) / 2)
        self.qtbot.mouseMove(viewport, pos=end)
        self.qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)

    def drag_block(self, name: str, dx: int, dy: int, steps: int = 5) -> None:
        """Drag a block by its body ``dx``, ``dy`` viewport pixels."""
        view = self.window.view
        item = self.block(name)
        start = view.mapFromScene(item.sceneBoundingRect().center())
        viewport = view.viewport()
        self.qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
        for step in range(1, steps + 1):
            self.qtbot.mouseMove(viewport, pos=start + QPoint(dx * step // steps, dy * step // steps))
        self.qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(dx, dy))

    # ------------------------------------------------------------------ the inspector
    def field(self, name: str):
        fields = self.window.inspector.fields
        assert name in fields, f"the inspector shows {sorted(fields)} for {self.window.inspector.node_id}"
        return fields[name]

    def type_shape(self, text: str) -> None:
        """Select the Input's shape text, type ``text`` and press Enter."""
        line = self.field("shape").line
        line.setFocus()
        line.selectAll()
        self.qtbot.keyClicks(line, text)
        self.qtbot.keyClick(line, Qt.Key.Key_Return)

    def type_number(self, name: str, text: str) -> None:
        """Select a spin box's text, type ``text`` and press Enter."""
        box = self.field(name).box
        box.setFocus()
        box.selectAll()
        self.qtbot.keyClicks(box, text)
        self.qtbot.keyClick(box, Qt.Key.Key_Return)

    def set_number(self, name: str, value) -> None:
        self.field(name).box.setValue(value)

    def set_pair(self, name: str, height: int, width: int) -> None:
        field = self.field(name)
        field.height_box.setValue(height)
        field.width_box.setValue(width)

    def choose(self, name: str, text: str) -> None:
        box = self.field(name).box
        assert box.findText(text) >= 0, f"{text!r} is not offered for {name}"
        box.setCurrentText(text)

    # ------------------------------------------------------------------ history
    def undo_all(self) -> int:
        steps = 0
        while self.window.undo_action.isEnabled():
            self.window.undo_action.trigger()
            steps += 1
        return steps

    def redo_all(self) -> int:
        steps = 0
        while self.window.redo_action.isEnabled():
            self.window.redo_action.trigger()
            steps += 1
        return steps


@pytest.fixture
def user(qtbot):
    """``user(window)`` -> a ``User`` driving that window."""
    return lambda window: User(qtbot, window)
