"""The Keras-style summary prints, character for character, what Keras's own ``model.summary()``
prints for the exported model, at every line length."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnstudio.cli import main
from cnnstudio.core.project import load_project
from cnnstudio.interop.keras_export import export_keras
from cnnstudio.interop.keras_summary import cell_lines, format_keras_summary
from golden_files import check_golden
from keras_helpers import script_model
from keras_networks import example_and_tour_networks

ROOT = Path(__file__).resolve().parents[2]


def _keras_prints(model, line_length=None) -> str:
    printed = []
    model.summary(line_length=line_length, print_fn=lambda text, **_: printed.append(text))
    return "".join(printed)


@pytest.mark.parametrize(("network", "title"), example_and_tour_networks())
def test_the_summary_is_the_one_keras_prints_at_every_width(network, title, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")  # a wide terminal: Keras's own default widths, 88 and 108
    model = script_model(export_keras(network, None, tmp_path / "model.py", title=title))
    assert format_keras_summary(network, title=title) == _keras_prints(model)
    for width in (36, 52, 61, 76, 97, 130):
        assert format_keras_summary(network, title=title, line_length=width) == _keras_prints(model, width), width


def test_a_narrow_terminal_narrows_the_table_as_keras_does(tmp_path, monkeypatch):
    project = load_project(ROOT / "projects" / "residual_net.cnnproj")
    model = script_model(export_keras(project.network, None, tmp_path / "model.py", title=project.name))
    monkeypatch.setenv("COLUMNS", "70")
    text = format_keras_summary(project.network, title=project.name)
    assert text == _keras_prints(model)
    assert max(len(line) for line in text.splitlines()) == 66


def test_the_lecture_summary_matches_the_reviewed_table(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["summary", str(ROOT / "projects" / "lecture_mnist.cnnproj"), "--style", "keras"]) == 0
    out = capsys.readouterr().out
    check_golden("lecture_mnist_keras_summary.txt", out)
    assert "│ conv2d_1 (Conv2D)" in out and "(None, 26, 26, 32)" in out and " Total params: 93,322 (364.54 KB)" in out


def test_the_residual_summary_matches_the_reviewed_table(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["summary", str(ROOT / "projects" / "residual_net.cnnproj"), "--style", "keras"]) == 0
    out = capsys.readouterr().out
    check_golden("residual_net_keras_summary.txt", out)
    assert "Connected to" in out and "block2_conv2[0][0]," in out


def test_keras_style_and_json_together_is_bad_input(capsys):
    assert main(["summary", str(ROOT / "projects" / "lecture_mnist.cnnproj"), "--style", "keras", "--json"]) == 2
    assert "--json" in capsys.readouterr().err


rich_text = pytest.importorskip("rich.text")
rich_console = pytest.importorskip("rich.console")


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet="ab_( ),.0123456789", min_size=1, max_size=60), width=st.integers(4, 30),
       justify=st.sampled_from("lr"))
def test_cells_wrap_and_cut_words_as_rich_does(text, width, justify):
    console = rich_console.Console(width=200, color_system=None)
    side = {"l": "left", "r": "right"}[justify]
    expected = [line.plain for line in rich_text.Text(text, overflow="ellipsis").wrap(console, width, justify=side)]
    if justify == "r":  # rich pads right-justified lines on the left only
        expected = [line.rjust(width) for line in expected]
    assert cell_lines(text, width, justify) == expected
