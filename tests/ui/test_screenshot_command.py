"""``python -m cnnstudio screenshot``: a PNG of the window with a project open."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from cnnstudio.cli import main

LECTURE_FILE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"


def test_the_screenshot_command_writes_a_png_of_the_asked_size(qapp, tmp_path, capsys):
    target = tmp_path / "s.png"
    assert main(["screenshot", str(LECTURE_FILE), "-o", str(target), "--size", "1200x800"]) == 0
    image = QImage(str(target))
    assert not image.isNull() and image.size() == QSize(1200, 800)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(target) in capsys.readouterr().out


def test_a_screenshot_with_a_selected_layer_works_too(qapp, tmp_path):
    target = tmp_path / "selected.png"
    assert main(["screenshot", str(LECTURE_FILE), "-o", str(target), "--size", "800x600", "--select",
                 "conv2d_2"]) == 0
    assert QImage(str(target)).size() == QSize(800, 600)


@pytest.mark.parametrize("args, problem", [
    (["missing.cnnproj"], "does not exist"),
    ([str(LECTURE_FILE), "--select", "conv2d_9"], "conv2d_9"),
])
def test_a_bad_project_or_layer_is_exit_code_2_with_one_line_and_no_png(qapp, tmp_path, capsys, args, problem):
    if args[0] == "missing.cnnproj":
        args = [str(tmp_path / "missing.cnnproj")]
    target = tmp_path / "s.png"
    assert main(["screenshot", *args, "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnnstudio: error:") and problem in err and err.count("\n") == 1
    assert "Traceback" not in err
    assert not target.exists()


def test_a_bad_project_file_names_the_file(qapp, tmp_path, capsys):
    bad = tmp_path / "bad.cnnproj"
    bad.write_text("{", encoding="utf-8")
    assert main(["screenshot", str(bad), "-o", str(tmp_path / "s.png")]) == 2
    assert str(bad) in capsys.readouterr().err


def test_an_output_folder_that_does_not_exist_is_exit_code_2(qapp, tmp_path, capsys):
    assert main(["screenshot", str(LECTURE_FILE), "-o", str(tmp_path / "nowhere" / "s.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_bad_size_is_refused_by_the_argument_parser(qapp, tmp_path):
    with pytest.raises(SystemExit) as caught:
        main(["screenshot", str(LECTURE_FILE), "-o", str(tmp_path / "s.png"), "--size", "big"])
    assert caught.value.code == 2
