"""A setting that does not fit is shown on the block, in its tooltip and in the
Problems list, and goes away when fixed; a value outside a parameter's range is
refused in the inspector with the reason and never reaches the network."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument


def plain(rich_text: str) -> str:
    """What a rich-text label or tooltip reads as on screen."""
    document = QTextDocument()
    document.setHtml(rich_text)
    return document.toPlainText()


def test_a_kernel_too_large_for_its_input_marks_the_block_and_lists_the_problem(lecture_window, user):
    me = user(lecture_window)
    me.click_block("conv2d_3")  # its input is (64, 5, 5)
    assert lecture_window.inspector.node_id == me.node_id("conv2d_3")
    me.set_pair("kernel_size", 7, 7)

    block = me.block("conv2d_3")
    assert block.severity == "error"
    assert "does not fit" in block.problem and "7x7" in block.problem and "5x5" in block.problem
    assert "padding='same'" in plain(block.toolTip())
    assert block.shape_text == "→ ?"
    assert me.block("flatten_1").shape_text == "→ ?"  # nothing below it can be computed
    problems = [text for text in me.problems() if "does not fit" in text]
    assert len(problems) == 1
    assert problems[0].startswith("conv2d_3:") and "padding='same'" in problems[0]
    assert lecture_window.problems_dock.windowTitle().startswith("Problems (")
    assert "padding='same'" in plain(lecture_window.inspector.explanation.text())
    row = [r for r in me.summary_rows() if r[0] == "conv2d_3"][0]
    assert row[2] == "?"

    me.choose("padding", "same")  # the fix the message proposes
    assert block.severity == "" and block.problem == ""
    assert "does not fit" not in plain(block.toolTip())
    assert me.problems() == ["No problems: every layer fits its input."]
    assert lecture_window.problems_dock.windowTitle() == "Problems"
    assert block.shape_text == "→ (5, 5, 64)"  # the lecture file shows Keras order
    assert lecture_window.document.analysis.total_params == 93_322 - 36_928 - 36_928 + (7 * 7 * 64 + 1) * 64 \
        + (5 * 5 * 64 + 1) * 64


def test_undoing_the_fix_brings_the_problem_back_and_undoing_the_kernel_clears_it(lecture_window, user):
    me = user(lecture_window)
    me.click_block("conv2d_3")
    me.set_pair("kernel_size", 7, 7)
    me.choose("padding", "same")
    lecture_window.undo_action.trigger()
    assert me.block("conv2d_3").severity == "error"
    assert any("does not fit" in text for text in me.problems())
    lecture_window.undo_action.trigger()  # height and width were one edit
    assert me.block("conv2d_3").severity == ""
    assert lecture_window.document.analysis.total_params == 93_322
    assert not lecture_window.document.modified
    assert me.field("kernel_size").value() == [3, 3]  # the inspector follows the undo


@pytest.mark.parametrize("typed, reason", [("0", "below the minimum 1"), ("999", "above the maximum 256")])
def test_an_out_of_range_kernel_typed_in_the_inspector_is_refused_with_the_reason(lecture_window, user, typed,
                                                                                 reason):
    me = user(lecture_window)
    me.click_block("conv2d_1")
    before = lecture_window.document.network.to_dict()
    steps = lecture_window.document.undo_stack.count()

    if typed == "0":
        box = me.field("kernel_size").height_box
        box.setFocus()
        box.selectAll()
        me.qtbot.keyClicks(box, typed)
        me.qtbot.keyClick(box, Qt.Key.Key_Return)  # typed numbers apply on Enter, not digit by digit
    else:
        me.field("kernel_size").width_box.setValue(int(typed))

    message = lecture_window.inspector.field_error("kernel_size")
    assert message.startswith("Not applied:") and reason in message and typed in message
    assert lecture_window.document.network.to_dict() == before
    assert lecture_window.document.undo_stack.count() == steps and not lecture_window.document.modified
    assert me.block("conv2d_1").params_text == "320 params"

    me.set_pair("kernel_size", 5, 5)  # a valid value clears the message and is applied
    assert lecture_window.inspector.field_error("kernel_size") == ""
    assert lecture_window.document.network.node(me.node_id("conv2d_1")).params["kernel_size"] == [5, 5]
    assert me.block("conv2d_1").params_text == "832 params"


def test_filters_zero_and_a_bad_input_shape_are_refused(window, user):
    from PySide6.QtCore import QPointF
    me = user(window)
    window.view.drop_layer("Input", QPointF(0, 0))
    me.type_shape("1, 0, 28")
    assert "Not applied" in window.inspector.field_error("shape")
    me.type_shape("one, two")
    assert "Not applied" in window.inspector.field_error("shape")
    assert window.document.network.nodes[0].params["shape"] == [1, 28, 28]

    me.double_click_palette("Conv2D")
    steps = window.document.undo_stack.count()
    me.set_number("filters", 0)
    assert "below the minimum 1" in window.inspector.field_error("filters")
    assert window.document.network.nodes[1].params["filters"] == 32
    assert window.document.undo_stack.count() == steps
