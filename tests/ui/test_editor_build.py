"""Building the lecture's network from an empty canvas the way a user does: drop an
Input, type its shape, double-click layers in the palette, set their numbers in the
inspector, draw a wire.  Then undo all of it, redo all of it, save and reopen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF
from PySide6.QtWidgets import QApplication

from cnnstudio.core.project import load_project
from cnnstudio.ui.canvas.node_item import GRID, HEIGHT, WIDTH
from cnnstudio.ui.canvas.view import LAYER_MIME
from gestures import drag_events

LECTURE_FILE = Path(__file__).resolve().parents[2] / "projects" / "lecture_mnist.cnnproj"

# name, type, output shape (PyTorch order), params: the lecture's table
LECTURE_ROWS = [
    ("input_1", "Input", "(1, 28, 28)", "0"),
    ("conv2d_1", "Conv2D", "(32, 26, 26)", "320"),
    ("maxpooling2d_1", "MaxPool2D", "(32, 13, 13)", "0"),
    ("conv2d_2", "Conv2D", "(64, 11, 11)", "18,496"),
    ("maxpooling2d_2", "MaxPool2D", "(64, 5, 5)", "0"),
    ("conv2d_3", "Conv2D", "(64, 3, 3)", "36,928"),
    ("flatten_1", "Flatten", "(576,)", "0"),
    ("dense_1", "Dense", "(64,)", "36,928"),
    ("dense_2", "Dense", "(10,)", "650"),
]
CHAIN = [(f"n{i}", f"n{i + 1}") for i in range(1, 9)]
EMPTY = {"nodes": [], "edges": []}


def build_lecture(user) -> None:
    """The lecture's Keras code, clicked together: nine layers, every number typed or chosen."""
    window = user.window
    input_id = window.view.drop_layer("Input", QPointF(WIDTH / 2, HEIGHT / 2))
    assert window.inspector.node_id == input_id  # the dropped block is selected and inspected
    user.type_shape("3, 32, 32")
    assert window.scene.nodes[input_id].shape_text == "→ (3, 32, 32)"
    user.type_shape("1 x 28 x 28")  # the lecture's grey 28x28 digits
    assert window.scene.nodes[input_id].shape_text == "→ (1, 28, 28)"

    user.double_click_palette("Conv2D")  # 32 filters of 3x3 are the defaults
    user.choose("activation", "relu")
    user.double_click_palette("MaxPool2D")
    user.double_click_palette("Conv2D")
    user.type_number("filters", "64")
    user.choose("activation", "relu")
    user.double_click_palette("MaxPool2D")
    conv3 = user.double_click_palette("Conv2D")
    user.set_number("filters", 64)
    user.set_pair("kernel_size", 5, 5)  # a change of mind ...
    assert window.scene.nodes[conv3].shape_text == "→ (64, 1, 1)"
    user.set_pair("kernel_size", 3, 3)  # ... back to the lecture's 3x3
    user.choose("activation", "relu")
    user.double_click_palette("Flatten")
    user.double_click_palette("Dense")  # 64 units is the default
    user.choose("activation", "relu")
    user.double_click_palette("Dense")
    user.type_number("units", "10")
    user.choose("activation", "softmax")


def without_positions(network_dict: dict) -> list[dict]:
    return [{k: v for k, v in node.items() if k != "position"} for node in network_dict["nodes"]]


def test_building_the_lecture_network_from_an_empty_canvas_gives_93322_params(window, user):
    me = user(window)
    assert window.document.network.to_dict() == EMPTY
    build_lecture(me)

    analysis = window.document.analysis
    assert analysis.total_params == 93_322
    assert "Total params: 93,322" in window.summary.totals.text()
    assert "93,322 params" in window.status_params.text()
    assert [row[:4] for row in me.summary_rows()] == LECTURE_ROWS
    assert me.problems() == ["No problems: every layer fits its input."]
    assert [(e.source, e.target) for e in window.document.network.edges] == CHAIN

    for name, _type, shape, params in LECTURE_ROWS:
        block = me.block(name)
        assert block.shape_text == f"→ {shape}"
        assert block.params_text == ("" if params == "0" else f"{params} params")
        assert block.severity == ""
    assert me.block("conv2d_1").params_text == "320 params"
    assert me.block("conv2d_1").shape_text == "→ (32, 26, 26)"
    assert me.block("conv2d_1").settings == "32 · 3x3 · relu"
    assert me.block("conv2d_3").settings == "64 · 3x3 · relu"
    assert me.block("dense_2").settings == "10 · softmax"
    assert me.block("input_1").settings == "1 ch · 28×28"  # the same words in PyTorch and Keras order

    # the very network of the lecture's project file, block for block, at the same places
    lecture = load_project(LECTURE_FILE).network.to_dict()
    assert window.document.network.to_dict() == lecture


def test_a_deleted_wire_is_drawn_again_from_the_output_port(window, user):
    me = user(window)
    build_lecture(me)
    me.click_wire("conv2d_3", "flatten_1")
    assert window.scene.selected_edges() == [("n6", "n7")] and window.scene.selected_node_ids() == []
    window.delete_action.trigger()
    assert ("n6", "n7") not in window.scene.edges
    assert me.block("flatten_1").severity == "error"
    assert window.document.analysis.total_params != 93_322

    me.drag_wire("conv2d_3", "flatten_1")  # press on the port, drag onto the block, release
    assert ("n6", "n7") in window.scene.edges
    assert {(e.source, e.target) for e in window.document.network.edges} == set(CHAIN)
    assert window.document.analysis.total_params == 93_322
    assert me.block("flatten_1").severity == "" and me.block("flatten_1").shape_text == "→ (576,)"
    assert window.document.undo_stack.undoText() == "Connect"


def test_a_press_on_the_lower_half_of_a_port_starts_a_wire_too(lecture_window, user):
    me = user(lecture_window)
    me.click_wire("input_1", "conv2d_1")
    lecture_window.delete_action.trigger()
    assert ("n1", "n2") not in lecture_window.scene.edges
    me.drag_wire("input_1", "conv2d_1", below=4.0)  # the port is drawn half outside the block
    assert ("n1", "n2") in lecture_window.scene.edges
    assert lecture_window.document.analysis.total_params == 93_322
    assert lecture_window.document.undo_stack.count() == 2


def test_connect_nodes_wires_two_blocks_and_refuses_a_cycle_with_a_reason(window, user, qtbot):
    me = user(window)
    build_lecture(me)
    me.click_wire("dense_1", "dense_2")
    window.delete_action.trigger()
    assert window.document.analysis.total_params == 93_322 - 650
    assert window.scene.connect_nodes("n8", "n9")
    assert window.document.analysis.total_params == 93_322

    steps = window.document.undo_stack.count()
    before = window.document.network.to_dict()
    with qtbot.waitSignal(window.scene.message, timeout=1000) as said:
        assert not window.scene.connect_nodes("n9", "n2")
    assert "cycle" in said.args[0]
    assert window.document.undo_stack.count() == steps
    assert window.document.network.to_dict() == before


def test_undo_every_step_empties_the_canvas_and_redo_rebuilds_exactly(window, user):
    me = user(window)
    build_lecture(me)
    built = window.document.network.to_dict()
    assert window.document.modified

    steps = me.undo_all()
    assert steps == window.document.undo_stack.count() > 9
    assert window.document.network.to_dict() == EMPTY
    assert window.scene.nodes == {} and window.scene.edges == {}
    assert me.summary_rows() == []
    assert window.document.analysis.total_params == 0
    assert not window.document.modified  # back where the empty window started

    assert me.redo_all() == steps
    assert window.document.network.to_dict() == built
    assert set(window.scene.edges) == set(CHAIN) and len(window.scene.nodes) == 9
    assert [row[:4] for row in me.summary_rows()] == LECTURE_ROWS
    assert me.block("conv2d_2").params_text == "18,496 params"
    assert window.document.analysis.total_params == 93_322


def test_the_built_network_is_saved_and_reopens_the_same(window, make_window, user, tmp_path):
    me = user(window)
    build_lecture(me)
    me.drag_block("dense_2", 80, 0)  # a position of the user's own must survive too
    moved = window.document.network.node("n9").position
    assert moved != (0.0, 880.0)

    target = tmp_path / "my_lecture.cnnproj"
    window.prompter.save_to = str(tmp_path / "my_lecture")  # the suffix is added
    window.save_action.trigger()
    assert target.is_file()
    assert not window.document.modified and window.document.path == target
    assert window.windowTitle().startswith("my_lecture.cnnproj")

    second = make_window()
    assert second.open_path(target)
    assert second.document.network.same_as(window.document.network)
    assert second.document.network.node("n9").position == moved
    assert {n.id: n.position for n in second.document.network.nodes} == \
        {n.id: n.position for n in window.document.network.nodes}
    assert {key: item.pos().toTuple() for key, item in second.scene.nodes.items()} == \
        {key: item.pos().toTuple() for key, item in window.scene.nodes.items()}
    assert user(second).summary_rows() == me.summary_rows()
    assert not second.document.modified and not second.undo_action.isEnabled()


def test_a_layer_dragged_from_the_palette_is_dropped_under_the_cursor(window, user):
    viewport = window.view.viewport()
    point = QPointF(viewport.width() * 0.6, viewport.height() * 0.3)
    mime = QMimeData()
    mime.setData(LAYER_MIME, b"Input")
    enter, move, drop = drag_events(mime, point)
    for event in (enter, move, drop):
        QApplication.sendEvent(viewport, event)
        assert event.isAccepted()

    [node] = window.document.network.nodes
    assert node.type == "Input" and node.name == "input_1"
    scene_point = window.view.mapToScene(point.toPoint())
    expected = (round((scene_point.x() - WIDTH / 2) / GRID) * GRID, round((scene_point.y() - HEIGHT / 2) / GRID) * GRID)
    assert node.position == expected
    assert window.scene.selected_node_ids() == [node.id] and window.inspector.node_id == node.id
    assert window.document.undo_stack.undoText() == "Add Input"


def test_a_drag_that_carries_no_layer_is_refused(window):
    viewport = window.view.viewport()
    mime = QMimeData()
    mime.setText("Conv2D")
    enter, _move, drop = drag_events(mime, QPointF(100, 100))
    QApplication.sendEvent(viewport, enter)
    assert not enter.isAccepted()
    QApplication.sendEvent(viewport, drop)
    assert not drop.isAccepted()
    assert window.document.network.to_dict() == EMPTY and not window.undo_action.isEnabled()
