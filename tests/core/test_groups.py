"""Group blocks: a view over nodes that never changes what is computed, saved with the project,
named by path, and opened or closed in place without blocks overlapping."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnstudio.core.analysis import analyze
from cnnstudio.core.build import plan_network
from cnnstudio.core.codegen import generate_code
from cnnstudio.core.fragment import copy_fragment, plan_paste, selection_parent
from cnnstudio.core.group_layout import (BLOCK_HEIGHT, BLOCK_WIDTH, Rect, block_rect, collapse_moves, expand_moves,
                                         frame_rect, tidy_top_level, visible_units)
from cnnstudio.core.groups import GroupError, Groups, node_paths
from cnnstudio.core.network import Network, NetworkError
from cnnstudio.core.project import (FORMAT_VERSION, MIGRATIONS, Project, ProjectError, dumps, load_project,
                                    project_from_dict, save_project)
from cnnstudio.core.summary import format_summary, summary_json
from cnnstudio.core.templates import TEMPLATES
from lecture import lecture_net


def flat(network: Network) -> Network:
    """The same network without its groups."""
    copy = network.copy()
    copy.set_groups(Groups())
    return copy


def ids(network: Network, *names: str) -> list[str]:
    return [network.node_by_name(name).id for name in names]


# ---------------------------------------------------------------------- grouping never changes what is computed

def numbers(analysis) -> list[tuple]:
    return [(n.node_id, n.name, n.type, n.input_shapes, n.output_shape, n.params, n.macs, n.receptive_field,
             n.receptive_step, [(d.severity, d.message, d.fix) for d in n.diagnostics])
            for n in (analysis.nodes[i] for i in analysis.order)]


@pytest.mark.parametrize("key", ["resnet50", "mobilenet_v2", "vgg16_bn"])
def test_the_analysis_of_a_grouped_template_equals_that_of_the_flat_network(key):
    grouped = TEMPLATES[key].network((3, 64, 64), 10)
    assert len(grouped.groups) > 4
    a, b = analyze(grouped, num_classes=10), analyze(flat(grouped), num_classes=10)
    assert numbers(a) == numbers(b)
    assert (a.total_params, a.macs, a.memory(32).total, a.output_id) == (b.total_params, b.macs, b.memory(32).total,
                                                                         b.output_id)


def test_grouped_and_flat_networks_build_and_export_the_same_model():
    grouped = TEMPLATES["resnet18"].network((3, 32, 32), 10)
    assert plan_network(grouped) == plan_network(flat(grouped))
    assert generate_code(grouped) == generate_code(flat(grouped))


# ---------------------------------------------------------------------- names by path

def test_nodes_inside_groups_are_named_by_their_path():
    network = TEMPLATES["resnet50"].network()
    analysis = analyze(network)
    conv = analysis.nodes[network.node_by_name("layer2_block1_conv1").id]
    assert conv.path == "layer2/block1/conv1" and conv.name == "layer2_block1_conv1"
    assert analysis.nodes[network.node_by_name("fc").id].path == "fc"
    rows = format_summary(network, analysis)
    assert "layer4/block1/downsample_conv (Conv2D)" in rows and "layer4_block1_downsample_conv" not in rows
    assert "layer2/block1/add (Add)" in rows and "layer2/block1/bn3, layer2/block1/downsample_bn" in rows
    layers = {row["name"]: row for row in summary_json(network, analysis)["layers"]}
    assert layers["layer2_block1_conv1"]["path"] == "layer2/block1/conv1"


def test_diagnostics_name_a_node_inside_a_group_by_its_path():
    network = TEMPLATES["resnet18"].network((3, 32, 32), 10)
    network.set_params(network.node_by_name("layer3_block2_conv2").id, {"filters": 100})
    (error,) = analyze(network).errors
    assert error.text.startswith("layer3/block2/add: its inputs must have the same shape to be added, "
                                 "got (100, 2, 2) and (256, 2, 2)")
    assert error.node_name == "layer3_block2_add"


def test_a_path_keeps_the_full_name_when_the_short_one_would_be_another_layers_name():
    names = {"a": "stage_conv", "b": "conv", "c": "stage_relu", "d": "other"}
    groups = Groups().grouped("stage", ["a", "c", "d"])
    assert node_paths(names, groups) == {"a": "stage/stage_conv", "b": "conv", "c": "stage/relu", "d": "stage/other"}


# ---------------------------------------------------------------------- the group structure

def test_group_ungroup_and_nesting():
    groups = Groups().grouped("block1", ["n2", "n3"], group_id="g1").grouped("block2", ["n4"], group_id="g2")
    stage = groups.grouped("stage", ["n5"], ["g1", "g2"], kind="Stage", group_id="g3")
    assert stage.children("g3") == ["g1", "g2"] and stage.chain("n2") == ["g1", "g3"]
    assert sorted(stage.descendant_nodes("g3")) == ["n2", "n3", "n4", "n5"]
    back = stage.ungrouped("g3")
    assert back.get("g1").parent is None and back.owner("n5") is None and "g3" not in back
    inner = stage.ungrouped("g1")
    assert inner.owner("n2") == "g3" and inner.get("g3").node_ids == ("n5", "n2", "n3")
    with pytest.raises(GroupError, match="different groups"):
        stage.grouped("mixed", ["n2", "n5"])


def test_deleting_nodes_empties_groups_and_undo_restores_them_exactly():
    network = TEMPLATES["resnet18"].network((3, 32, 32), 10)
    before, groups = network.copy(), network.groups
    block = network.groups.get(next(g.id for g in network.groups if g.name == "block2" and
                                    network.groups.get(g.parent).name == "layer1"))
    removed = network.remove_nodes(network.groups.descendant_nodes(block.id))
    assert block.id not in network.groups and len(network.groups) == len(groups) - 1
    network.restore(removed)
    assert network.same_as(before)


@pytest.mark.parametrize("change, words", [
    (lambda g: g[0].update(nodes=["nope"]), "there is no node with id 'nope'"),
    (lambda g: g[1].update(nodes=g[0]["nodes"][:1]), "is already in network.groups[0]"),
    (lambda g: g[0].update(parent=g[0]["id"]), "ends up inside itself"),
    (lambda g: g[0].update(parent="g99"), "there is no group with id 'g99'"),
    (lambda g: g[1].update(id=g[0]["id"]), "is already used by network.groups[0]"),
    (lambda g: g[0].update(name="a/b"), "contains '/'"),
    (lambda g: g[0].update(name=""), "needs a name"),
    (lambda g: g[0].update(colapsed=True), "unknown group field 'colapsed'"),
    (lambda g: g[0].update(collapsed="yes"), "expected true or false"),
    (lambda g: g.append({"id": "empty", "name": "empty", "nodes": []}), "holds no layers"),
])
def test_bad_groups_in_a_file_are_one_clear_project_error(tmp_path, change, words):
    project = TEMPLATES["vgg11"].project((3, 32, 32), 10)
    data = json.loads(dumps(project))
    change(data["network"]["groups"])
    path = tmp_path / "bad.cnnproj"
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    assert words in str(caught.value) and caught.value.where.startswith("network.groups[")


def test_set_groups_refuses_groups_of_nodes_the_network_does_not_have():
    network = lecture_net()
    with pytest.raises(NetworkError, match="no node with id 'n99'"):
        network.set_groups(Groups().grouped("x", ["n99"]))


# ---------------------------------------------------------------------- files

def test_save_and_reopen_keep_the_groups(tmp_path):
    project = TEMPLATES["resnet50"].project()
    path = tmp_path / "r50.cnnproj"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.network.same_as(project.network)
    assert len(loaded.network.groups) == 1 + 4 + (3 + 4 + 6 + 3)  # the stem, the stages, their blocks
    assert json.loads(path.read_text())["version"] == FORMAT_VERSION == 2
    assert dumps(loaded) == path.read_text()


def test_a_version_1_file_opens_with_no_groups_and_saves_as_version_2(tmp_path):
    path = tmp_path / "old.cnnproj"
    old = json.loads(dumps(Project(lecture_net())))
    old["version"] = 1
    del old["network"]["groups"]
    path.write_text(json.dumps(old))
    content = path.read_bytes()
    project = load_project(path)
    assert 1 in MIGRATIONS and len(project.network.groups) == 0 and project.network.same_as(lecture_net())
    assert path.read_bytes() == content
    assert json.loads(dumps(project))["network"]["groups"] == []
    assert project_from_dict(json.loads(dumps(project))).network.same_as(project.network)


# ---------------------------------------------------------------------- expanding and collapsing in place

def shown_rects(network: Network) -> list[Rect]:
    """What the canvas draws at the top of each item: layers, collapsed blocks, and the headers of frames."""
    groups = network.groups
    rects = []
    for unit in visible_units(network):
        rects.append(block_rect(network, unit.id) if unit.kind == "group" else
                     Rect(*network.node(unit.id).position, BLOCK_WIDTH, BLOCK_HEIGHT))
    for group in groups:
        if not group.collapsed and groups.group_hidden_in(group.id) is None:
            frame = frame_rect(network, group.id)
            rects.append(Rect(frame.x, frame.y, frame.width, 24))
    return rects


def overlaps(rects: list[Rect]) -> list[tuple[Rect, Rect]]:
    return [(a, b) for i, a in enumerate(rects) for b in rects[i + 1:]
            if a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom]


def toggle(network: Network, group_id: str, expand: bool) -> None:
    network.move(expand_moves(network, group_id) if expand else collapse_moves(network, group_id))
    network.set_groups(network.groups.with_collapsed(group_id, not expand))


def test_a_template_opens_as_a_chain_of_collapsed_stages_without_overlaps():
    network = TEMPLATES["resnet50"].network()
    units = visible_units(network)
    assert sorted(network.groups.get(u.id).name for u in units if u.kind == "group") == \
        ["layer1", "layer2", "layer3", "layer4", "stem"]
    assert len(units) == 8 and not overlaps(shown_rects(network))


def test_expanding_nested_groups_makes_room_and_collapsing_puts_everything_back():
    network = TEMPLATES["resnet50"].network()
    start = network.copy()
    layer2 = next(g.id for g in network.groups if g.name == "layer2")
    blocks = network.groups.children(layer2)
    toggle(network, layer2, expand=True)
    assert not overlaps(shown_rects(network))
    for block in blocks:
        toggle(network, block, expand=True)
        assert not overlaps(shown_rects(network))
    frame = frame_rect(network, layer2)
    below = network.node_by_name("avgpool").position[1]
    assert below > frame.bottom  # the rest of the chain moved down past the open stage
    for block in reversed(blocks):
        toggle(network, block, expand=False)
    toggle(network, layer2, expand=False)
    assert network.same_as(start)


# ---------------------------------------------------------------------- duplicating and tidying

def test_a_duplicated_block_is_the_stages_next_block_with_matching_layer_names():
    network = TEMPLATES["resnet18"].network((3, 32, 32), 10)
    groups = network.groups
    block2 = next(g.id for g in groups if g.name == "block2" and groups.get(g.parent).name == "layer1")
    members = groups.descendant_nodes(block2)
    assert selection_parent(network, members) == groups.get(block2).parent
    plan = plan_paste(network, copy_fragment(network, members), into=groups.get(block2).parent)
    assert [p.name for p in plan.nodes] == [network.node(n).name.replace("block2", "block3") for n in members]
    new = plan.groups.items[-1]
    assert (new.name, new.parent, new.kind, new.node_ids) == ("block3", groups.get(block2).parent,
                                                              "Residual block", tuple(p.node_id for p in plan.nodes))
    paths = node_paths({**{n.id: n.name for n in network.nodes}, **{p.node_id: p.name for p in plan.nodes}},
                       plan.groups)
    assert paths[plan.nodes[0].node_id] == "layer1/block3/conv1"


def test_pasting_a_group_at_the_top_level_keeps_names_that_are_free():
    network = TEMPLATES["vgg11"].network((3, 32, 32), 10)
    stage = next(g.id for g in network.groups if g.name == "stage2")
    fragment = copy_fragment(network, network.groups.descendant_nodes(stage))
    other = lecture_net()
    plan = plan_paste(other, fragment)
    assert [p.name for p in plan.nodes] == ["stage2_conv1", "stage2_pool"]
    assert [g.name for g in plan.groups] == ["stage2"] and plan.groups.items[0].parent is None


def test_tidy_moves_groups_whole_and_leaves_nothing_overlapping():
    network = TEMPLATES["resnet18"].network((3, 32, 32), 10)
    layer2 = next(g.id for g in network.groups if g.name == "layer2")
    toggle(network, layer2, expand=True)
    inside = {n: network.node(n).position for n in network.groups.descendant_nodes(layer2)}
    network.move({n.id: (n.position[0] + 37 * i % 300, n.position[1]) for i, n in enumerate(network.nodes)
                  if network.groups.owner(n.id) is None})  # scatter the top-level layers
    network.move(tidy_top_level(network, network.nodes[0].position))
    assert not overlaps(shown_rects(network))
    moved = {n: network.node(n).position for n in inside}
    dx = {round(moved[n][0] - inside[n][0], 6) for n in inside}
    dy = {round(moved[n][1] - inside[n][1], 6) for n in inside}
    assert len(dx) == len(dy) == 1  # the open stage moved as one piece


def test_a_group_block_shows_the_size_and_shapes_of_the_torch_block_it_stands_for():
    import torch
    from torch import nn

    from cnnstudio.core.group_summary import summarize_groups
    from reference_nets import Bottleneck
    network = TEMPLATES["resnet50"].network()
    block = next(g.id for g in network.groups if g.name == "block1" and network.groups.get(g.parent).name == "layer2")
    summary = summarize_groups(network, analyze(network))[block]
    with torch.device("meta"):
        reference = Bottleneck(256, 128, stride=2, downsample=nn.Sequential(
            nn.Conv2d(256, 512, 1, stride=2, bias=False), nn.BatchNorm2d(512)))
        out = reference(torch.zeros(1, 256, 56, 56))
    assert summary.trainable_params == sum(p.numel() for p in reference.parameters())
    assert summary.input_shapes == ((256, 56, 56),) and summary.output_shape == tuple(out.shape[1:])
    assert summary.layers == 12 and network.node(summary.entry).name == "layer2_block1_conv1"
    assert network.node(summary.exit).name == "layer2_block1_relu"


# ---------------------------------------------------------------------- paths never collide

@settings(max_examples=150, deadline=None)
@given(st.data())
def test_no_two_layers_ever_share_a_path(data):
    """Layer names built to collide: group names, underscores and the short names the prefix rule makes."""
    words = st.sampled_from(["a", "b", "a_b", "conv", "block1"])
    group_names = data.draw(st.lists(words, min_size=1, max_size=4))
    names: dict[str, str] = {}
    for index in range(data.draw(st.integers(2, 10))):
        parts = data.draw(st.lists(words, min_size=1, max_size=3))
        name = "_".join(parts)
        if name not in names.values():
            names[f"n{index}"] = name
    node_ids = list(names)
    groups = Groups()
    parent_choices: list[str | None] = [None]
    for name in group_names:
        free = [n for n in node_ids if groups.owner(n) is None]
        chosen = data.draw(st.lists(st.sampled_from(free), unique=True, min_size=1, max_size=3)) if free else []
        if not chosen:
            break
        parent = data.draw(st.sampled_from(parent_choices))
        groups = groups.grouped(name, chosen)
        new = groups.items[-1].id
        if parent is not None:  # nest it: move the new group under an earlier one
            items = [g if g.id != new else type(g)(g.id, g.name, g.node_ids, parent, g.kind, g.collapsed)
                     for g in groups.items]
            groups = Groups(tuple(items))
        parent_choices.append(new)
    paths = node_paths(names, groups)
    assert len(set(paths.values())) == len(paths)
    for node_id, path in paths.items():
        assert path.split("/")[:-1] == [groups.get(g).name for g in reversed(groups.chain(node_id))]
