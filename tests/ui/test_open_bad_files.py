"""Opening a bad project file from the window: one message that names the file and
says what is wrong; the project that was open stays open with its undo history;
the bad file is left exactly as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hostile_projects import HOSTILE_FILES

LECTURE_FILE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"
LECTURE_BYTES = LECTURE_FILE.read_bytes()


def edited(change) -> bytes:
    doc = json.loads(LECTURE_BYTES)
    change(doc)
    return json.dumps(doc, indent=2).encode("utf-8")


def set_top(key, value):
    return lambda doc: doc.__setitem__(key, value)


def node_params(index, **params):
    return lambda doc: doc["network"]["nodes"][index]["params"].update(params)


# id, the file (bytes, or "folder" / "missing"), a piece of the message
BAD_FILES = [
    ("empty", b"", "empty"),
    ("truncated-json", LECTURE_BYTES[:400], "truncated"),
    ("not-json", b"model = Sequential()\n", "not valid JSON"),
    ("wrong-format", edited(set_top("format", "keras-model")), "not a CNN Studio project"),
    ("newer-version", edited(set_top("version", 99)), "newer CNN Studio"),
    ("directory", "folder", "folder"),
    ("missing", "missing", "does not exist"),
    ("unknown-layer-type", edited(lambda doc: doc["network"]["nodes"][1].update(type="Conv2d")),
     "unknown layer type 'Conv2d'"),
    ("kernel-0", edited(node_params(1, kernel_size=0)), "0 is below the minimum 1"),
    ("kernel-99999", edited(node_params(3, kernel_size=[3, 99999])), "99999 is above the maximum 256"),
    ("edge-to-missing-node", edited(lambda doc: doc["network"]["edges"].append({"source": "n9", "target": "n99"})),
     "there is no node with id 'n99'"),
    # files that escaped the reader as other exceptions before issue 12
    *[(name, content, problem) for name, (content, _, problem) in sorted(HOSTILE_FILES.items())],
]


def make_bad_file(folder: Path, content) -> Path:
    folder.mkdir()
    path = folder / "bad.cnnproj"
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    return path


def snapshot_file(path: Path):
    if path.is_file():
        return path.read_bytes(), path.stat().st_mtime_ns
    return path.is_dir(), path.exists()


def document_state(window):
    document = window.document
    stack = document.undo_stack
    return (document.network.to_dict(), document.path, document.modified, stack.count(), stack.index(),
            [stack.text(i) for i in range(stack.count())], window.windowTitle(), window.summary.order)


@pytest.mark.parametrize("content, problem", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_reported_by_name_and_the_open_project_is_kept(lecture_window, user, tmp_path, content,
                                                                     problem):
    me = user(lecture_window)
    me.click_block("dense_1")
    me.set_number("units", 128)  # unsaved work with an undo history
    before = document_state(lecture_window)
    path = make_bad_file(tmp_path / "files", content)
    file_before = snapshot_file(path)

    assert lecture_window.open_path(path) is False

    prompter = lecture_window.prompter
    assert prompter.questions == [("save_changes", "lecture_mnist.cnnproj")]  # asked first, answered 'discard'
    [(title, text)] = prompter.errors
    assert title == "Cannot open project"
    assert str(path) in text and problem in text
    assert document_state(lecture_window) == before
    assert lecture_window.document.analysis.total_params != 93_322
    assert snapshot_file(path) == file_before
    assert os.listdir(tmp_path / "files") == (["bad.cnnproj"] if path.exists() else [])

    lecture_window.undo_action.trigger()  # the kept history still works
    assert lecture_window.document.analysis.total_params == 93_322
    assert not lecture_window.document.modified


def test_a_bad_file_chosen_in_the_open_dialog_asks_nothing_when_nothing_is_unsaved(lecture_window, tmp_path):
    path = make_bad_file(tmp_path / "files", b"{\"format\": \"cnnstudio-project\", \"version\": 1, ")
    lecture_window.prompter.open_from = str(path)
    before = document_state(lecture_window)

    lecture_window.open_action.trigger()

    prompter = lecture_window.prompter
    assert [q[0] for q in prompter.questions] == ["open_path"]
    assert len(prompter.errors) == 1 and str(path) in prompter.errors[0][1]
    assert document_state(lecture_window) == before
    assert path.read_bytes() == b"{\"format\": \"cnnstudio-project\", \"version\": 1, "


def test_answering_cancel_to_the_unsaved_question_opens_nothing(lecture_window, user, tmp_path):
    me = user(lecture_window)
    me.click_block("dense_2")
    me.set_number("units", 5)
    before = document_state(lecture_window)
    lecture_window.prompter.save_changes = "cancel"
    other = tmp_path / "copy.cnnproj"
    other.write_bytes(LECTURE_BYTES)

    assert lecture_window.open_path(other) is False
    assert lecture_window.prompter.errors == []
    assert document_state(lecture_window) == before
