"""The summary table and the canvas follow each other: a row selects its block, a
block selects its row; the shape order switch changes the table and the blocks."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt


def click_row(window, qtbot, row: int) -> None:
    table = window.summary.table
    index = table.model().index(row, 0)
    table.scrollTo(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())


def test_clicking_a_summary_row_selects_its_block_and_shows_it_in_the_inspector(lecture_window, user, qtbot):
    me = user(lecture_window)
    click_row(lecture_window, qtbot, 3)
    assert me.summary_rows()[3][0] == "conv2d_2"
    assert lecture_window.scene.selected_node_ids() == [me.node_id("conv2d_2")]
    assert lecture_window.inspector.node_id == me.node_id("conv2d_2")
    assert me.field("filters").value() == 64

    lecture_window.summary.table.selectRow(7)
    assert lecture_window.scene.selected_node_ids() == [me.node_id("dense_1")]
    assert lecture_window.document.undo_stack.count() == 0


def test_selecting_blocks_selects_their_rows(lecture_window, user):
    me = user(lecture_window)
    me.click_block("maxpooling2d_2")
    assert me.selected_summary_rows() == [4]
    me.select("input_1", "dense_2")
    assert me.selected_summary_rows() == [0, 8]
    lecture_window.scene.clearSelection()
    assert me.selected_summary_rows() == []


def test_the_selection_survives_an_edit_that_refreshes_the_table(lecture_window, user):
    me = user(lecture_window)
    me.click_block("dense_1")
    me.set_number("units", 100)
    assert [row for row in me.summary_rows() if row[0] == "dense_1"][0][3] == "57,700"
    assert lecture_window.scene.selected_node_ids() == [me.node_id("dense_1")]
    assert lecture_window.inspector.node_id == me.node_id("dense_1")


def test_switching_the_shape_order_changes_the_table_and_the_blocks(lecture_window, user, tmp_path):
    me = user(lecture_window)
    summary = lecture_window.summary
    # the lecture file asks for Keras order
    assert summary.order == "keras" and lecture_window.keras_order_action.isChecked()
    assert me.summary_rows()[1][2] == "(26, 26, 32)"
    assert me.block("conv2d_1").shape_text == "→ (26, 26, 32)"

    summary.order_box.setCurrentIndex(summary.order_box.findData("torch"))
    assert me.summary_rows()[1][2] == "(32, 26, 26)"
    assert me.block("conv2d_1").shape_text == "→ (32, 26, 26)"
    assert me.block("flatten_1").shape_text == "→ (576,)"
    assert lecture_window.scene.edges[("n2", "n3")].shape_text == "(32, 26, 26)"
    assert not lecture_window.keras_order_action.isChecked()

    lecture_window.keras_order_action.trigger()  # the same switch in the View menu
    assert summary.order == "keras"
    assert [row[2] for row in me.summary_rows()] == ["(28, 28, 1)", "(26, 26, 32)", "(13, 13, 32)", "(11, 11, 64)",
                                                     "(5, 5, 64)", "(3, 3, 64)", "(576,)", "(64,)", "(10,)"]
    assert me.block("conv2d_1").shape_text == "→ (26, 26, 32)"
    assert me.block("maxpooling2d_2").shape_text == "→ (5, 5, 64)"
    assert lecture_window.document.undo_stack.count() == 0  # a view setting, not an edit

    lecture_window.keras_order_action.trigger()
    path = tmp_path / "torch_order.cnnproj"
    lecture_window.prompter.save_to = str(path)
    lecture_window.save_as_action.trigger()
    assert json.loads(path.read_text(encoding="utf-8"))["view"]["shape_order"] == "torch"
