"""File > Export Keras Code writes the open network as a Keras 3 script (no Keras needed to write it)."""

from __future__ import annotations

import ast

from cnnstudio.core.network import sequential
from cnnstudio.core.project import Project


def _file_menu_actions(window):
    menu = window.menuBar().actions()[0].menu()
    return [action.text() for action in menu.actions()]


def test_the_file_menu_offers_keras_code_next_to_pytorch_code(lecture_window):
    texts = _file_menu_actions(lecture_window)
    assert texts.index("Export &Keras Code…") == texts.index("Export PyTorch &Code…") + 1


def test_exporting_writes_a_keras_script_of_the_open_network(lecture_window, tmp_path):
    target = tmp_path / "lecture_keras.py"
    lecture_window.prompter.save_to = str(target)
    lecture_window.export_keras_action.trigger()
    source = target.read_text()
    ast.parse(source)
    assert "keras.Sequential([" in source and 'layers.Conv2D(32, (3, 3), activation="relu", name="conv2d_1")' in source
    assert lecture_window.prompter.infos and not lecture_window.prompter.errors


def test_a_network_with_problems_is_not_exported_and_the_user_is_told_why(window, tmp_path):
    broken = sequential([("Input", {"shape": [1, 2, 2]}), ("Conv2D", {"filters": 2}, "conv3")])
    window.document.replace_project(Project(broken), None)
    window.prompter.save_to = str(tmp_path / "broken.py")
    assert window.export_keras_code() is False
    assert "conv3" in window.prompter.errors[0][1]
    assert not (tmp_path / "broken.py").exists()
