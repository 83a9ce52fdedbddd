"""Group blocks on the real canvas: grouping, opening and closing in place, duplicating,
moving and deleting a group, all undoable back to exactly the earlier document."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt

from cnnstudio.core.analysis import analyze
from cnnstudio.core.group_layout import frame_rect
from cnnstudio.core.templates import TEMPLATES
from cnnstudio.ui.canvas.group_item import GroupBlockItem, GroupFrameItem
from cnnstudio.ui.commands import Disconnect, SetParams
from conftest import LECTURE_FILE


def group_id(network, path: str) -> str:
    parent = None
    for name in path.split("/"):
        parent = next(g.id for g in network.groups if g.name == name and g.parent == parent)
    return parent


def open_template(window, key: str, shape=(3, 64, 64), classes: int = 10):
    window.open_project(TEMPLATES[key].project(shape, classes))
    return window.document.network


def double_click(qtbot, window, scene_point: QPointF) -> None:
    view = window.view
    view.centerOn(scene_point)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene_point))


def test_grouping_from_the_canvas_is_undoable_to_exactly_the_earlier_document(make_window, user, qtbot):
    window = make_window()
    assert window.open_path(LECTURE_FILE)
    u = user(window)
    network = window.document.network
    before = network.copy()

    u.select("conv2d_2", "maxpooling2d_2")
    window.group_action.trigger()
    (group,) = network.groups
    assert set(group.node_ids) == {u.node_id("conv2d_2"), u.node_id("maxpooling2d_2")} and not group.collapsed
    assert group.id in window.scene.group_frames  # an open group: a frame around its blocks
    assert window.inspector.group is not None  # the new group is selected and shown in the inspector

    window.inspector.group.name_edit.setText("stage2")
    window.inspector.group.name_edit.editingFinished.emit()
    assert network.groups.get(group.id).name == "stage2"
    assert "stage2/conv2d_2" in u.summary_rows()[3][0]

    frame = window.scene.group_frames[group.id]
    double_click(qtbot, window, frame.header_rect().center())  # close it in place
    block = window.scene.group_blocks[group.id]
    assert network.groups.get(group.id).collapsed and not u.block("conv2d_2").isVisible()
    assert "(13, 13, 32) → (5, 5, 64)" in block.shape_text  # the lecture file shows Keras order and "2 layers · 18,496 params" == block.size_text

    window.scene.select_groups([group.id])
    window.duplicate_action.trigger()
    assert len(network.groups) == 2 and len(network) == len(before) + 2
    copy = next(g for g in network.groups if g.id != group.id)
    assert copy.name == "stage3" and copy.collapsed  # the next free name after stage2

    window.scene.select_groups([group.id])
    window.ungroup_action.trigger()
    assert [g.id for g in network.groups] == [copy.id] and u.block("conv2d_2").isVisible()

    steps = u.undo_all()
    assert steps == 5 and network.same_as(before) and len(network.groups) == 0
    assert not window.scene.group_blocks and not window.scene.group_frames
    u.redo_all()
    assert [g.name for g in network.groups] == ["stage3"]


def test_a_template_opens_collapsed_and_double_click_opens_and_closes_a_stage(make_window, qtbot):
    window = make_window()
    network = open_template(window, "resnet18")
    start = network.copy()
    scene = window.scene
    assert sorted(network.groups.get(g).name for g in scene.group_blocks) == \
        ["layer1", "layer2", "layer3", "layer4", "stem"]
    assert sum(item.isVisible() for item in scene.nodes.values()) == 3  # input, avgpool, fc

    layer2 = group_id(network, "layer2")
    double_click(qtbot, window, scene.group_blocks[layer2].sceneBoundingRect().center())
    assert not network.groups.get(layer2).collapsed and layer2 in scene.group_frames
    blocks = [group_id(network, "layer2/block1"), group_id(network, "layer2/block2")]
    assert set(blocks) <= set(scene.group_blocks)
    frame = frame_rect(network, layer2)
    assert network.node_by_name("layer3_block1_conv1").position[1] > frame.bottom  # layer3 made room

    double_click(qtbot, window, scene.group_blocks[blocks[0]].sceneBoundingRect().center())
    conv = scene.nodes[network.node_by_name("layer2_block1_conv1").id]
    assert conv.isVisible() and conv.title == "conv1"
    # the wire into the open block ends on its first layer, the one into layer3 on layer3's block
    edge = scene.edges[(network.node_by_name("layer1_block2_relu").id, conv.node_id)]
    assert edge.isVisible() and edge.target_item is conv and isinstance(edge.source_item, GroupBlockItem)

    double_click(qtbot, window, scene.group_frames[blocks[0]].header_rect().center())
    double_click(qtbot, window, scene.group_frames[layer2].header_rect().center())
    assert network.same_as(start)
    window.undo_action.trigger()
    assert not network.groups.get(layer2).collapsed


def test_dragging_a_collapsed_group_moves_all_its_layers_in_one_step(make_window, user):
    window = make_window()
    network = open_template(window, "vgg11", (3, 32, 32))
    u = user(window)
    stage = group_id(network, "stage3")
    block = window.scene.group_blocks[stage]
    members = network.groups.descendant_nodes(stage)
    before = {n: network.node(n).position for n in members}
    view = window.view
    view.centerOn(block)
    start = view.mapFromScene(block.sceneBoundingRect().center())
    qtbot = u.qtbot
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(view.viewport(), pos=start + QPoint(60 * step, 0))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=start + QPoint(300, 0))
    moved = {n: network.node(n).position for n in members}
    dx = moved[members[0]][0] - before[members[0]][0]
    assert dx > 100 and all(moved[n] == (before[n][0] + dx, before[n][1]) for n in members)
    assert window.document.undo_stack.count() == 1
    window.undo_action.trigger()
    assert {n: network.node(n).position for n in members} == before


def test_a_wire_drawn_from_a_collapsed_group_starts_at_its_last_layer(make_window, user):
    window = make_window()
    network = open_template(window, "vgg11", (3, 32, 32))
    u = user(window)
    avgpool = network.node_by_name("avgpool").id
    stage5 = group_id(network, "stage5")
    network_edges = len(network.edges)
    window.document.push(Disconnect(network, network.node_by_name("stage5_pool").id, avgpool))
    block = window.scene.group_blocks[stage5]
    view = window.view
    view.centerOn(block)
    start = view.mapFromScene(block.output_port())
    end = view.mapFromScene(u.block("avgpool").sceneBoundingRect().center())
    u.qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    u.qtbot.mouseMove(view.viewport(), pos=(start + end) / 2)
    u.qtbot.mouseMove(view.viewport(), pos=end)
    u.qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert len(network.edges) == network_edges
    assert network.inputs_of(avgpool) == [network.node_by_name("stage5_pool").id]
    assert analyze(network).ok


def test_deleting_a_collapsed_group_deletes_its_layers_and_undo_brings_all_back(make_window):
    window = make_window()
    network = open_template(window, "resnet18", (3, 32, 32))
    before = network.copy()
    layer4 = group_id(network, "layer4")
    window.scene.select_groups([layer4])
    window.delete_action.trigger()
    assert layer4 not in network.groups and len(network) == len(before) - len(before.groups.descendant_nodes(layer4))
    assert any("is not connected" in d.message for d in window.document.analysis.diagnostics)
    window.undo_action.trigger()
    assert network.same_as(before) and layer4 in window.scene.group_blocks


def test_problems_inside_a_group_show_on_its_block_and_by_path(make_window, user):
    window = make_window()
    network = open_template(window, "resnet18", (3, 32, 32))
    u = user(window)
    conv = network.node_by_name("layer3_block2_conv2").id
    window.document.push(SetParams(network, conv, {"filters": 100}))
    block = window.scene.group_blocks[group_id(network, "layer3")]
    assert block.severity == "error" and "layer3/block2/add" in block.problem
    assert any(text.startswith("layer3/block2/add") for text in u.problems())


def test_save_and_reopen_keep_the_groups_as_they_were_left(make_window, tmp_path, qtbot):
    target = tmp_path / "r18.cnnproj"
    window = make_window(save_to=str(target))
    network = open_template(window, "resnet18", (3, 32, 32))
    layer1 = group_id(network, "layer1")
    double_click(qtbot, window, window.scene.group_blocks[layer1].sceneBoundingRect().center())
    assert window.save()
    saved = network.copy()
    assert window.open_path(target)
    reopened = window.document.network
    assert reopened.same_as(saved) and not reopened.groups.get(layer1).collapsed
    assert isinstance(window.scene.group_frames[layer1], GroupFrameItem)
