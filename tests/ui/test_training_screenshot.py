"""``python -m cnnstudio screenshot PROJECT --view training``: trains a few real
batches, then writes the window showing the Train tab, without writing anything
beside the project."""

from __future__ import annotations

import json

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from cnnstudio.cli import main
from cnnstudio.ui.settings import config_dir
from training_helpers import LECTURE_FILE


def _scratch_runs() -> set:
    return set((config_dir() / "runs").glob("*/*/run.json"))


def test_a_training_screenshot_trains_and_writes_a_png_but_nothing_beside_the_project(qapp, tmp_path, capsys):
    beside = LECTURE_FILE.with_name("lecture_mnist.runs")
    assert not beside.exists()  # otherwise this test could not tell
    runs_before = _scratch_runs()
    target = tmp_path / "training.png"

    assert main(["screenshot", str(LECTURE_FILE), "--view", "training", "--train-steps", "10", "-o", str(target)]) == 0

    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert QImage(str(target)).size() == QSize(1600, 1000)  # the default size
    assert str(target) in capsys.readouterr().out
    assert not beside.exists()
    new_runs = _scratch_runs() - runs_before  # the run went to the scratch folder of an untitled copy
    assert len(new_runs) == 1
    record = json.loads(next(iter(new_runs)).read_text("utf-8"))
    assert record["status"] == "finished" and record["epochs"] == [0, 1]
