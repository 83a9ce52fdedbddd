"""Autosave: unsaved edits are copied aside; after a crash the next window offers them
back; a clean close (or saying no) leaves no copy behind."""

from __future__ import annotations

import gc
from pathlib import Path

import shiboken6
from PySide6.QtCore import QPointF

from cnnstudio.core.project import load_project

LECTURE_FILE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"
LECTURE_BYTES = LECTURE_FILE.read_bytes()


def crash(window) -> None:
    """The process dies: the window is destroyed without a close event, so nothing is
    cleaned up.  The caller drops its own references afterwards."""
    window.autosave_timer.stop()
    shiboken6.delete(window)


def copies(folder: Path) -> list[str]:
    return sorted(path.suffix for path in folder.iterdir())


def edit_lecture(window, user) -> dict:
    assert window.open_path(LECTURE_FILE)
    me = user(window)
    me.click_block("dense_1")
    me.set_number("units", 128)
    me.click_block("conv2d_2")
    me.choose("padding", "same")
    return window.document.network.to_dict()


def test_after_a_crash_the_next_window_restores_the_edits_as_unsaved_work(make_window, user, tmp_path):
    folder = tmp_path / "auto"
    first = make_window(autosave_folder=folder)
    edited = edit_lecture(first, user)
    first.autosave_now()
    assert copies(folder) == [".cnnproj", ".json"]
    [copy] = folder.glob("*.cnnproj")
    assert load_project(copy).network.to_dict() == edited
    assert first.offer_recovery() is False  # a window never offers its own copy
    crash(first)
    del first
    gc.collect()
    assert copies(folder) == [".cnnproj", ".json"]  # nothing cleaned up after the crash

    second = make_window(autosave_folder=folder, restore=True)
    assert second.offer_recovery() is True
    [(kind, description)] = second.prompter.questions
    assert kind == "restore" and description.startswith("lecture_mnist.cnnproj (autosaved ")
    document = second.document
    assert document.network.to_dict() == edited
    assert document.modified and second.isWindowModified() and second.status_saved.text() == "modified"
    assert document.path == LECTURE_FILE
    assert second.windowTitle().startswith("lecture_mnist.cnnproj")
    assert document.analysis.total_params != 93_322
    assert [row for row in user(second).summary_rows() if row[0] == "dense_1"][0][2] == "(128,)"
    assert second.scene.nodes["n4"].settings.endswith("same · relu")
    assert not second.undo_action.isEnabled()  # a fresh history, starting from the restored work
    assert LECTURE_FILE.read_bytes() == LECTURE_BYTES  # recovering never writes the original


def test_an_untitled_network_is_recovered_too(make_window, user, tmp_path):
    folder = tmp_path / "auto"
    first = make_window(autosave_folder=folder)
    me = user(first)
    first.view.drop_layer("Input", QPointF(0, 0))
    me.double_click_palette("Conv2D")
    me.set_number("filters", 8)
    built = first.document.network.to_dict()
    first.autosave_now()
    crash(first)
    del first, me
    gc.collect()

    second = make_window(autosave_folder=folder)
    assert second.offer_recovery()
    assert "an untitled project" in second.prompter.questions[0][1]
    assert second.document.network.to_dict() == built
    assert second.document.path is None and second.document.modified
    assert second.scene.nodes["n2"].params_text == "80 params"


def test_answering_no_removes_the_copy_and_keeps_the_empty_window(make_window, user, tmp_path):
    folder = tmp_path / "auto"
    first = make_window(autosave_folder=folder)
    edit_lecture(first, user)
    first.autosave_now()
    crash(first)
    del first
    gc.collect()

    second = make_window(autosave_folder=folder, restore=False)
    assert second.offer_recovery() is False
    assert [q[0] for q in second.prompter.questions] == ["restore"]
    assert copies(folder) == []
    assert second.document.network.to_dict() == {"nodes": [], "edges": []} and not second.document.modified

    third = make_window(autosave_folder=folder)
    assert third.offer_recovery() is False and third.prompter.questions == []


def test_closing_cleanly_leaves_no_copy_to_recover(make_window, user, tmp_path):
    folder = tmp_path / "auto"
    first = make_window(autosave_folder=folder, save_changes="discard")
    edit_lecture(first, user)
    first.autosave_now()
    assert copies(folder) == [".cnnproj", ".json"]
    assert first.close()
    assert first.prompter.questions == [("save_changes", "lecture_mnist.cnnproj")]
    assert copies(folder) == []

    second = make_window(autosave_folder=folder)
    assert second.autosaver.pending() == []
    assert second.offer_recovery() is False and second.prompter.questions == []


def test_nothing_is_autosaved_while_nothing_is_unsaved(make_window, user, tmp_path):
    folder = tmp_path / "auto"
    window = make_window(autosave_folder=folder)
    window.open_path(LECTURE_FILE)
    window.autosave_now()
    assert copies(folder) == []
    me = user(window)
    me.click_block("dense_2")
    me.set_number("units", 12)
    window.autosave_now()
    assert copies(folder) == [".cnnproj", ".json"]
    window.undo_action.trigger()  # back to the saved state: the copy would only bring back undone edits
    assert not window.document.modified
    window.autosave_now()
    assert copies(folder) == []
