"""The Edit menu and the canvas gestures around it: copy, paste, duplicate, cut,
delete, select all, tidy, dropping a block onto a wire, and the question asked
when a window with unsaved changes is closed.  Each edit is one undo step."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from cnnstudio.core.project import load_project
from cnnstudio.ui.canvas.view import LAYER_MIME

LECTURE_FILE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"
LECTURE_BYTES = LECTURE_FILE.read_bytes()


def steps(window) -> int:
    return window.document.undo_stack.count()


def edge_list(window) -> list[tuple[str, str]]:
    return [(e.source, e.target) for e in window.document.network.edges]


def test_copy_and_paste_adds_fresh_blocks_with_their_wire_in_one_undo_step(lecture_window, user):
    me = user(lecture_window)
    original = lecture_window.document.network.to_dict()
    me.select("conv2d_2", "maxpooling2d_2")
    lecture_window.copy_action.trigger()
    lecture_window.paste_action.trigger()

    network = lecture_window.document.network
    assert len(network) == 11 and steps(lecture_window) == 1
    assert lecture_window.document.undo_stack.undoText() == "Paste"
    conv, pool = network.node("n10"), network.node("n11")
    assert (conv.name, pool.name) == ("conv2d_4", "maxpooling2d_3")
    assert conv.params == network.node("n4").params and pool.params == network.node("n5").params
    assert conv.position == (40.0, 370.0) and pool.position == (40.0, 480.0)
    assert edge_list(lecture_window)[-1] == ("n10", "n11") and ("n10", "n11") in lecture_window.scene.edges
    assert lecture_window.scene.selected_node_ids() == ["n10", "n11"]
    assert me.block("conv2d_4").shape_text == "→ ?"  # a pasted block has no input yet

    lecture_window.paste_action.trigger()  # a second paste takes the next free names
    assert {n.name for n in network.nodes[-2:]} == {"conv2d_5", "maxpooling2d_4"}

    lecture_window.undo_action.trigger()
    lecture_window.undo_action.trigger()
    assert network.to_dict() == original
    assert set(lecture_window.scene.nodes) == {f"n{i}" for i in range(1, 10)}


def test_duplicate_copies_the_selection_beside_it_in_one_step(lecture_window, user):
    me = user(lecture_window)
    original = lecture_window.document.network.to_dict()
    me.click_block("dense_1")
    lecture_window.duplicate_action.trigger()
    copy = lecture_window.document.network.node("n10")
    assert copy.name == "dense_3" and copy.type == "Dense" and copy.params["units"] == 64
    assert copy.position == (40.0, 810.0)
    assert lecture_window.scene.selected_node_ids() == ["n10"]
    assert lecture_window.inspector.node_id == "n10"
    assert steps(lecture_window) == 1 and lecture_window.document.undo_stack.undoText() == "Duplicate"
    lecture_window.undo_action.trigger()
    assert lecture_window.document.network.to_dict() == original


def test_cut_then_paste_moves_a_block_out_and_back_under_a_new_id(lecture_window, user):
    me = user(lecture_window)
    me.click_block("dense_2")
    lecture_window.cut_action.trigger()
    assert lecture_window.document.network.node_by_name("dense_2") is None and steps(lecture_window) == 1
    lecture_window.paste_action.trigger()
    pasted = lecture_window.document.network.node_by_name("dense_2")  # the name is free again
    assert pasted is not None and pasted.id == "n10" and pasted.params["activation"] == "softmax"
    assert steps(lecture_window) == 2


def test_delete_removes_a_block_and_its_wires_and_undo_restores_exactly(lecture_window, user):
    me = user(lecture_window)
    original = lecture_window.document.network.to_dict()
    rows = me.summary_rows()
    me.click_block("maxpooling2d_1")
    lecture_window.delete_action.trigger()

    network = lecture_window.document.network
    assert not network.has_node("n3") and "n3" not in lecture_window.scene.nodes
    assert ("n2", "n3") not in lecture_window.scene.edges and ("n3", "n4") not in lecture_window.scene.edges
    assert all("n3" not in pair for pair in edge_list(lecture_window))
    assert len(me.summary_rows()) == 8
    assert me.block("conv2d_2").shape_text == "→ ?"
    assert steps(lecture_window) == 1 and lecture_window.inspector.node_id is None

    lecture_window.undo_action.trigger()
    assert network.to_dict() == original  # same nodes, same wires in the same order
    assert set(lecture_window.scene.edges) == {(e["source"], e["target"]) for e in original["edges"]}
    assert me.summary_rows() == rows
    lecture_window.redo_action.trigger()
    assert not network.has_node("n3")


def test_the_delete_key_on_the_canvas_deletes_the_selected_blocks(lecture_window, user, qtbot):
    me = user(lecture_window)
    me.click_block("flatten_1")
    lecture_window.activateWindow()
    lecture_window.view.setFocus()
    qtbot.keyClick(lecture_window.view.viewport(), Qt.Key.Key_Delete)
    assert lecture_window.document.network.node_by_name("flatten_1") is None
    assert steps(lecture_window) == 1


def test_select_all_selects_every_block_and_every_summary_row(lecture_window, user):
    me = user(lecture_window)
    lecture_window.select_all_action.trigger()
    assert lecture_window.scene.selected_node_ids() == [f"n{i}" for i in range(1, 10)]
    assert me.selected_summary_rows() == list(range(9))
    assert lecture_window.status_selection.text() == "9 selected"
    assert lecture_window.inspector.node_id is None
    assert steps(lecture_window) == 0  # selecting is not an edit


def test_tidy_layout_is_one_undo_step(lecture_window, user):
    me = user(lecture_window)
    tidy = {n.id: n.position for n in lecture_window.document.network.nodes}  # the file is tidy already
    me.drag_block("maxpooling2d_1", 150, 20)
    me.drag_block("dense_1", -120, 40)
    assert steps(lecture_window) == 2
    dragged = {n.id: n.position for n in lecture_window.document.network.nodes}
    assert dragged != tidy

    lecture_window.tidy_action.trigger()
    assert {n.id: n.position for n in lecture_window.document.network.nodes} == tidy
    assert {k: item.pos().toTuple() for k, item in lecture_window.scene.nodes.items()} == tidy
    assert steps(lecture_window) == 3 and lecture_window.document.undo_stack.undoText() == "Tidy layout"
    lecture_window.undo_action.trigger()
    assert {n.id: n.position for n in lecture_window.document.network.nodes} == dragged
    lecture_window.redo_action.trigger()
    lecture_window.tidy_action.trigger()  # already tidy: nothing to undo
    assert steps(lecture_window) == 3


def test_a_block_dropped_onto_a_wire_is_inserted_into_it(lecture_window, user):
    me = user(lecture_window)
    original = lecture_window.document.network.to_dict()
    wires = edge_list(lecture_window)
    edge = lecture_window.scene.edges[("n7", "n8")]
    new_id = lecture_window.view.drop_layer("Dropout", edge.path().pointAtPercent(0.5))

    assert new_id == "n10"
    index = wires.index(("n7", "n8"))
    after = edge_list(lecture_window)
    assert ("n7", "n8") not in after and ("n7", "n10") in after
    assert after[index] == ("n10", "n8")  # the new wire into dense_1 takes the old wire's place
    assert me.block("dropout_1").shape_text == "→ (576,)"
    assert lecture_window.document.analysis.total_params == 93_322
    assert steps(lecture_window) == 1 and lecture_window.document.undo_stack.undoText() == "Insert Dropout"
    lecture_window.undo_action.trigger()
    assert lecture_window.document.network.to_dict() == original


def test_a_real_drop_onto_a_wire_inserts_the_block(lecture_window, user):
    me = user(lecture_window)
    view = lecture_window.view
    edge = lecture_window.scene.edges[("n1", "n2")]
    middle = edge.path().pointAtPercent(0.5)
    view.centerOn(middle)
    mime = QMimeData()
    mime.setData(LAYER_MIME, b"BatchNorm")
    point = view.mapFromScene(middle)
    action, button, keys = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    # a drag arrives as enter, move(s) and the drop, in that order
    for event in (QDragEnterEvent(point, action, mime, button, keys), QDragMoveEvent(point, action, mime, button, keys),
                  QDropEvent(QPointF(point), action, mime, button, keys)):
        QApplication.sendEvent(view.viewport(), event)
        assert event.isAccepted()
    node = lecture_window.document.network.node("n10")
    assert node.type == "BatchNorm"
    assert lecture_window.document.network.inputs_of("n10") == ["n1"]
    assert lecture_window.document.network.inputs_of("n2") == ["n10"]
    assert me.block(node.name).params_text == "4 params"


def test_closing_with_unsaved_changes_cancel_keeps_the_window_and_discard_closes(lecture_window, user):
    me = user(lecture_window)
    me.click_block("dense_1")
    me.set_number("units", 32)
    prompter = lecture_window.prompter

    prompter.save_changes = "cancel"
    event = QCloseEvent()
    lecture_window.closeEvent(event)
    assert not event.isAccepted()
    assert not lecture_window.close() and lecture_window.isVisible()
    assert prompter.questions == [("save_changes", "lecture_mnist.cnnproj")] * 2
    assert lecture_window.document.modified

    prompter.save_changes = "discard"
    assert lecture_window.close() and not lecture_window.isVisible()
    assert LECTURE_FILE.read_bytes() == LECTURE_BYTES  # discarding writes nothing


def test_closing_and_answering_save_writes_the_file_first(make_window, user, tmp_path):
    path = tmp_path / "mine.cnnproj"
    path.write_bytes(LECTURE_BYTES)
    window = make_window(save_changes="save")
    assert window.open_path(path)
    me = user(window)
    me.click_block("dense_1")
    me.set_number("units", 32)
    assert window.close()
    assert load_project(path).network.node("n8").params["units"] == 32


def test_closing_an_unmodified_window_asks_nothing(lecture_window):
    assert lecture_window.close()
    assert lecture_window.prompter.questions == []
