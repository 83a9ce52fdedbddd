"""What no float holds, no Unicode text is, no canvas shows or no project nests is
refused in words, with its place, when reading and when writing (issue 12)."""

from __future__ import annotations

import os

import pytest

from cnnstudio.core.network import Network, sequential
from cnnstudio.core.project import (MAX_DEPTH, POSITION_LIMIT, Project, ProjectError, load_project,
                                    project_from_dict, save_project)
from hostile_projects import HOSTILE_FILES


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_a_hostile_file_is_one_project_error_at_its_place_and_stays_untouched(tmp_path, name):
    content, where, problem = HOSTILE_FILES[name]
    path = tmp_path / "hostile.cnnproj"
    path.write_bytes(content)
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    error = caught.value
    message = str(error)
    assert error.where.startswith(where) if where else error.where == ""
    assert problem in error.problem, message
    assert message.startswith(f"{path}: ") and "\n" not in message and error.fix in message
    assert len(message) < 600, "a message stays readable whatever the file holds"
    assert path.read_bytes() == content and os.listdir(tmp_path) == ["hostile.cnnproj"]


def test_a_cycle_closed_anywhere_is_found_in_one_pass_and_named_with_its_nodes():
    """A 300-layer chain whose first edge in the file closes the loop through all of it."""
    chain = sequential([("Input", {"shape": [4]})] + [("ReLU", {})] * 300)
    doc = {"format": "cnnstudio-project", "version": 1, "network": chain.to_dict()}
    ids = [n["id"] for n in doc["network"]["nodes"]]
    doc["network"]["edges"].insert(0, {"source": ids[-1], "target": ids[1]})
    with pytest.raises(ProjectError) as caught:
        project_from_dict(doc)
    error = caught.value
    assert error.where == "network.edges[300]"  # read in order, the last edge of the loop closes it
    assert error.problem.startswith("connecting re_lu_299 to re_lu_300 would make a cycle "
                                    "(re_lu_300 -> re_lu_1 -> re_lu_2 -> re_lu_3 -> ... (292 more) -> ")
    assert error.problem.endswith("re_lu_298 -> re_lu_299 -> re_lu_300)")


def test_names_left_out_of_a_large_file_are_made_up_without_clashes():
    nodes = [{"id": f"a{i}", "type": "ReLU"} for i in range(2000)]
    nodes[1000]["name"] = "re_lu_5"  # an explicit name later in the file stays its own
    network = project_from_dict({"format": "cnnstudio-project", "version": 1, "network": {"nodes": nodes}}).network
    names = [node.name for node in network.nodes]
    assert len(set(names)) == 2000 and names[1000] == "re_lu_5"
    assert names[:6] == ["re_lu_1", "re_lu_2", "re_lu_3", "re_lu_4", "re_lu_6", "re_lu_7"]


@pytest.mark.parametrize("change, where", [
    (lambda p: p.network.move({"n2": (2 * POSITION_LIMIT, 0.0)}), "network.nodes[1].position[0]"),
    (lambda p: setattr(p, "description", "caf\ud800"), "description"),
    (lambda p: p.view.update(deep=nested(MAX_DEPTH + 5)), "view.deep"),
    (lambda p: p.view.update(big=10 ** 400), "view.big"),
    (lambda p: p.view.update(inf=float("inf")), "view.inf"),
])
def test_a_project_no_file_could_hold_is_refused_before_anything_is_written(tmp_path, change, where):
    project = Project(sequential([("Input", {}), ("Flatten", {})]), view={})
    change(project)
    path = tmp_path / "p.cnnproj"
    path.write_bytes(b"the old project")
    with pytest.raises(ProjectError) as caught:
        save_project(project, path)
    assert caught.value.where.startswith(where)
    assert path.read_bytes() == b"the old project" and os.listdir(tmp_path) == ["p.cnnproj"]


def nested(depth: int):
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


def test_the_largest_position_and_deepest_settings_a_file_may_hold_round_trip(tmp_path):
    network = Network()
    network.add_node("Input", position=(-POSITION_LIMIT, POSITION_LIMIT))
    project = Project(network, view={"deep": nested(MAX_DEPTH - 2)})
    save_project(project, tmp_path / "p.cnnproj")
    loaded = load_project(tmp_path / "p.cnnproj")
    assert loaded.network.same_as(network) and loaded.view == project.view


@pytest.mark.parametrize("path", ["with\0nul.cnnproj", "/dev/null"])
def test_names_and_files_that_are_no_project_file_are_project_errors(path):
    if path == "/dev/null" and not os.path.exists(path):
        pytest.skip("no /dev/null here")
    with pytest.raises(ProjectError):
        load_project(path)
