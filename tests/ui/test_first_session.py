"""A new user's first session, kept fixed (issue 11): background jobs never open stray
windows, Quit ends the application and forgets discarded work, the side docks keep
their size, Ctrl+Z in an Inspector field undoes the network, and a block dropped
below a chain's end lands wired to it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QScrollArea

from cnnstudio.ui.canvas.node_item import HEIGHT, WIDTH
from cnnstudio.ui.main_window import MainWindow
from gestures import drop_from_palette
from training_helpers import RUN_TIMEOUT_MS, configure, make_training_window, open_lecture, train_and_wait  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
DOCK_SLACK_PX = 3  # a splitter may round a dock's width by a pixel or two


def visible_top_levels() -> list:
    return [widget for widget in QApplication.topLevelWidgets() if widget.isVisible()]


def side_widths(window) -> tuple[int, int, int]:
    return window.palette_dock.width(), window.inspector_dock.width(), window.width()


def assert_same_widths(before: tuple[int, int, int], after: tuple[int, int, int]) -> None:
    names = ("Layers dock", "Inspector dock", "window")
    for name, old, new in zip(names, before, after):
        assert abs(new - old) <= DOCK_SLACK_PX, f"the {name} went from {old} to {new} px"


# ---------------------------------------------------------------- no stray windows
def test_preview_export_and_a_lab_experiment_leave_only_the_main_window_on_screen(qtbot, make_training_window,
                                                                                   tmp_path, monkeypatch):
    window = make_training_window()
    open_lecture(window)
    view = window.show_training()
    grid = view.dataset_box.preview_grid
    view.dataset_box.preview_button.click()
    qtbot.waitUntil(lambda: grid.count() > 0, timeout=RUN_TIMEOUT_MS)
    view.wait_for_background()
    assert visible_top_levels() == [window]
    assert all(grid.itemAt(i).widget().window() is window for i in range(grid.count()))
    panel = view.dataset_box.parentWidget()
    while not isinstance(panel, QScrollArea):
        panel = panel.parentWidget()
    assert not panel.horizontalScrollBar().isVisible(), "the preview pushed the settings sideways"

    configure(view, subset=64, batch_size=16, epochs=1)
    assert train_and_wait(qtbot, view) == "finished"
    target = tmp_path / "weights.safetensors"
    monkeypatch.setattr(window.prompter, "save_path", lambda *args, **kwargs: str(target))
    [safetensors] = [a for a in view.export_button.menu().actions() if "safetensors" in a.text().lower()]
    safetensors.trigger()
    qtbot.waitUntil(lambda: bool(window.prompter.infos or window.prompter.errors), timeout=RUN_TIMEOUT_MS)
    assert window.prompter.errors == [] and target.is_file()
    assert visible_top_levels() == [window]

    page = window.show_lab("learned").page("learned")
    page.subset_box.setValue(100)
    page.epochs_box.setValue(1)
    assert page.start_experiment()
    qtbot.waitUntil(lambda: page.task is None, timeout=RUN_TIMEOUT_MS)
    assert page.failure == "" and len(page.results) == 2
    assert visible_top_levels() == [window]


# ---------------------------------------------------------------- Quit
QUIT_SESSION = """
import sys
from pathlib import Path
from PySide6.QtCore import QElapsedTimer, QPointF, QTimer
from cnnstudio.ui.app import make_application
app = make_application()
from cnnstudio.ui.main_window import MainWindow
from cnnstudio.ui.prompter import Prompter
sys.path.insert(0, {tests_ui!r})
from training_helpers import configure

class DiscardingPrompter(Prompter):
    def ask_save_changes(self, name):
        print("asked to save", name, flush=True)
        return "discard"
    def ask_stop_training(self):
        return True
    def info(self, title, text):
        print("info:", title, flush=True)
    def error(self, title, text):
        print("error:", title, text, flush=True)

def wait_until(condition, what):
    clock = QElapsedTimer()
    clock.start()
    while not condition():
        if clock.elapsed() > 120_000:
            sys.exit(f"gave up waiting for {{what}}")
        app.processEvents()
        QTimer.singleShot(20, lambda: None)
        app.processEvents()

window = MainWindow()
window.prompter = DiscardingPrompter(window)
window.show()
assert window.open_path(Path({lecture!r}), ask=False, as_copy=True)
view = window.show_training()
view.dataset_box.preview_button.click()
wait_until(lambda: view.dataset_box.preview_grid.count() > 0, "the dataset preview")
configure(view, subset=64, batch_size=16, epochs=1)
ended = []
view.runFinished.connect(ended.append)
view.train_button.click()
wait_until(lambda: ended, "the run's end")
view.wait_for_background()
print("run", ended[0], flush=True)
window.central_tabs.setCurrentIndex(0)
window.view.drop_layer("Dropout", QPointF(-900, -900))
window.autosave_now()
print("autosaved", sorted(p.name for p in window.autosaver.folder.iterdir()), flush=True)
QTimer.singleShot(0, window.quit_action.trigger)
code = app.exec()
print("event loop returned", code, flush=True)
"""


def test_quit_after_a_preview_and_a_run_discards_the_changes_and_ends_the_process(tmp_path):
    script = tmp_path / "session.py"
    script.write_text(textwrap.dedent(QUIT_SESSION).format(tests_ui=str(Path(__file__).parent),
                                                          lecture=str(ROOT / "projects" / "lecture_mnist.cnnproj")))
    config = tmp_path / "config"
    env = {**os.environ, "CNNSTUDIO_CONFIG_DIR": str(config), "QT_QPA_PLATFORM": "offscreen"}
    # the timeout only keeps a hang from stalling the suite; the session itself takes seconds
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "run finished" in lines
    autosaved = [line for line in lines if line.startswith("autosaved")]
    assert autosaved and autosaved[0] != "autosaved []", "the edit was not autosaved before Quit"
    assert any(line.startswith("asked to save") for line in lines)
    assert "event loop returned 0" in lines
    assert not any((config / "autosave").iterdir()), "the discarded project's autosave survived Quit"
    assert "Cannot set parent" not in done.stderr


# ---------------------------------------------------------------- docks keep their size
def test_the_side_docks_and_the_window_keep_their_width_across_tabs(make_window, qtbot):
    window = make_window()
    qtbot.waitUntil(lambda: window.palette_dock.width() > 0)
    before = side_widths(window)
    for _ in range(3):
        window.show_training()
        window.show_lab()
        window.central_tabs.setCurrentIndex(0)
        qtbot.wait(1)  # let the layout settle, as between a user's clicks
        assert_same_widths(before, side_widths(window))


def test_the_side_docks_keep_their_width_after_a_run(qtbot, make_training_window):
    window = make_training_window()
    open_lecture(window)
    before = side_widths(window)
    view = window.show_training()
    configure(view, subset=64, batch_size=16, epochs=1)
    assert train_and_wait(qtbot, view) == "finished"
    window.central_tabs.setCurrentIndex(0)
    qtbot.wait(1)
    assert_same_widths(before, side_widths(window))


RESTART_SESSION = """
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from cnnstudio.ui.app import make_application
app = make_application()
from cnnstudio.ui.main_window import MainWindow

def widths(window):
    return window.palette_dock.width(), window.inspector_dock.width(), window.width()

first = MainWindow(restore_layout=False)
first.show()
QTest.qWait(20)
first.resizeDocks([first.palette_dock, first.inspector_dock], [250, 300], Qt.Orientation.Horizontal)
QTest.qWait(20)
print("before", *widths(first))
first.close()
again = MainWindow(restore_layout=True)
again.show()
QTest.qWait(20)
print("after", *widths(again))
"""


def test_a_restart_brings_back_the_docks_at_the_width_the_user_gave_them(tmp_path):
    # the offscreen screen is 800 px wide unless told otherwise: too narrow for the window to
    # keep any dock above its minimum, so this session gets a desktop-sized screen of its own
    screen = tmp_path / "screen.json"
    screen.write_text('{"screens": [{"name": "desktop", "x": 0, "y": 0, "width": 1920, "height": 1080}]}')
    env = {**os.environ, "CNNSTUDIO_CONFIG_DIR": str(tmp_path / "config"),
           "QT_QPA_PLATFORM": f"offscreen:configfile={screen}"}
    done = subprocess.run([sys.executable, "-c", RESTART_SESSION], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: tuple(int(v) for v in line.split()[1:]) for line in done.stdout.splitlines()}
    assert rows["before"][:2] == (250, 300), "the docks did not take the user's widths"
    assert_same_widths(rows["before"], rows["after"])


# ---------------------------------------------------------------- editing habits
def test_ctrl_z_typed_in_an_inspector_field_undoes_the_network_edit(lecture_window, user, qtbot):
    you = user(lecture_window)
    you.click_block("conv2d_2")
    you.type_number("filters", "48")
    node = you.network.node_by_name("conv2d_2")
    assert node.params["filters"] == 48
    box = you.field("filters").box
    assert box.hasFocus()
    qtbot.keyClick(box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert you.network.node_by_name("conv2d_2").params["filters"] == 64
    assert box.value() == 64
    qtbot.keyClick(box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert you.network.node_by_name("conv2d_2").params["filters"] == 48


def test_a_block_dropped_just_below_the_chains_last_block_is_wired_after_it(lecture_window, user):
    you = user(lecture_window)
    view = lecture_window.view
    last = you.block("dense_2")
    below = last.sceneBoundingRect().center() + QPointF(0, HEIGHT + WIDTH * 0.1)
    view.centerOn(below)
    drop_from_palette(view, "Dropout", QPointF(view.mapFromScene(below)))

    network = you.network
    [added] = [n for n in network.nodes if n.type == "Dropout"]
    _, outputs = network.adjacency()
    assert outputs[you.node_id("dense_2")] == [added.id]
    assert you.problems() == ["No problems: every layer fits its input."]
    assert lecture_window.document.undo_stack.undoText() == "Append Dropout"  # one step
    lecture_window.undo_action.trigger()
    assert all(n.type != "Dropout" for n in network.nodes)
