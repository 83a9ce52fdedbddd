"""The .cnnproj file: round trips, atomic saves, one clear error per kind of bad file, the schema."""

from __future__ import annotations

import copy
import json
import os
import pickle
import stat
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnstudio.core import project as project_module
from cnnstudio.core.layers import CATALOG
from cnnstudio.core.network import Network
from cnnstudio.core.project import (FORMAT_NAME, FORMAT_VERSION, MIGRATIONS, SCHEMA_FILE_NAME, Project,
                                    ProjectError, dumps, load_project, project_from_dict,
                                    project_to_dict, save_project)
from cnnstudio.core.project_schema import json_schema, write_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "resources" / "schema" / SCHEMA_FILE_NAME
REGENERATE = f"python -m cnnstudio schema -o resources/schema/{SCHEMA_FILE_NAME}"


def branching_net() -> Network:
    """Input -> Conv2D -> (ReLU, MaxPool2D... ) with a Concatenate, so wire order matters."""
    net = Network()
    net.add_node("Input", {"shape": [1, 28, 28]}, node_id="n1", position=(0, 0))
    net.add_node("Conv2D", {"filters": 8, "kernel_size": 3, "padding": "same"}, node_id="n2", position=(12.5, 110))
    net.add_node("ReLU", node_id="n3", name="branch_a", position=(-140.25, 220))
    net.add_node("BatchNorm", node_id="n4", position=(140, 220))
    net.add_node("Concatenate", node_id="n5", position=(0, 330))
    net.add_node("GlobalAveragePooling2D", node_id="n6", position=(0, 440))
    net.add_node("Dense", {"units": 10, "activation": "softmax"}, node_id="n7", position=(0, 550))
    for source, target in [("n1", "n2"), ("n2", "n3"), ("n2", "n4"), ("n4", "n5"), ("n3", "n5"),
                           ("n5", "n6"), ("n6", "n7")]:
        net.connect(source, target)
    return net


def sample_project() -> Project:
    return Project(branching_net(), name="branches", description="Two paths, joined. Übung 3",
                   dataset={"name": "mnist", "num_classes": 10}, training={"epochs": 5, "lr": 0.001},
                   view={"shape_order": "keras", "zoom": 1.25})


def valid_doc() -> dict:
    return json.loads(dumps(sample_project()))


# ============================================================================ round trips

def test_save_then_load_gives_the_same_network_and_settings(tmp_path):
    original = sample_project()
    path = tmp_path / "branches.cnnproj"
    save_project(original, path)
    loaded = load_project(path)
    assert loaded.network.same_as(original.network)
    assert (loaded.name, loaded.description) == (original.name, original.description)
    assert (loaded.dataset, loaded.training, loaded.view) == (original.dataset, original.training, original.view)


def test_positions_and_wire_order_survive_a_round_trip(tmp_path):
    path = tmp_path / "p.cnnproj"
    save_project(sample_project(), path)
    network = load_project(path).network
    assert network.node("n2").position == (12.5, 110.0)
    assert network.node("n3").position == (-140.25, 220.0)
    assert network.inputs_of("n5") == ["n4", "n3"]  # Concatenate's input order is kept


def test_saved_text_is_dumps_and_is_stable(tmp_path):
    project = sample_project()
    path = tmp_path / "p.cnnproj"
    save_project(project, path)
    text = path.read_text(encoding="utf-8")
    assert text == dumps(project) and text.endswith("}\n")
    save_project(load_project(path), path)
    assert path.read_text(encoding="utf-8") == text
    assert json.loads(text) == project_to_dict(project)
    assert list(json.loads(text)) == ["format", "version", "name", "description", "network", "dataset",
                                      "training", "view"]
    assert [n["id"] for n in json.loads(text)["network"]["nodes"]] == [f"n{i}" for i in range(1, 8)]


def test_params_may_omit_defaults_and_are_completed_by_the_catalog():
    doc = {"format": FORMAT_NAME, "version": 1,
           "network": {"nodes": [{"id": "a", "type": "Conv2D", "params": {"filters": 4}}, {"id": "b", "type": "ReLU"}]}}
    project = project_from_dict(doc)
    conv = project.network.node("a")
    assert conv.params == CATALOG["Conv2D"].normalize_params({"filters": 4})
    assert conv.params["kernel_size"] == [3, 3] and conv.position == (0.0, 0.0)
    assert project.network.edges == [] and project.view == {} and project.dataset is None and project.name == ""


def test_missing_names_are_generated_without_taking_a_later_explicit_name():
    doc = {"format": FORMAT_NAME, "version": 1,
           "network": {"nodes": [{"id": "a", "type": "Conv2D"}, {"id": "b", "type": "Conv2D", "name": "conv2d_1"}]}}
    network = project_from_dict(doc).network
    assert network.node("a").name == "conv2d_2" and network.node("b").name == "conv2d_1"


def test_loading_does_not_change_the_dict_it_is_given():
    doc = valid_doc()
    del doc["network"]["nodes"][1]["params"]["filters"]
    before = copy.deepcopy(doc)
    project_from_dict(doc)
    assert doc == before


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.cnnproj"
    path.write_bytes(b"\xef\xbb\xbf" + dumps(sample_project()).encode("utf-8"))
    assert load_project(path).network.same_as(branching_net())


@settings(max_examples=25, deadline=None)
@given(positions=st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=5),
       description=st.text(max_size=40),
       view=st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.booleans(), st.text(max_size=8),
                                                            st.floats(allow_nan=False, allow_infinity=False)),
                            max_size=4))
def test_any_positions_text_and_view_round_trip_through_the_text(positions, description, view):
    network = Network()
    for x, y in positions:
        network.add_node("ReLU", position=(x, y))
    project = Project(network, description=description, view=view)
    loaded = project_from_dict(json.loads(dumps(project)))
    assert loaded.network.same_as(network)
    assert loaded.description == description and loaded.view == view


# ============================================================================ atomic save

def test_save_leaves_only_the_target_file(tmp_path):
    save_project(sample_project(), tmp_path / "p.cnnproj")
    save_project(sample_project(), tmp_path / "p.cnnproj")
    assert os.listdir(tmp_path) == ["p.cnnproj"]


def test_save_flushes_the_file_and_the_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    save_project(sample_project(), tmp_path / "p.cnnproj")
    assert len(synced) == (2 if os.name == "posix" else 1)


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_a_failure_mid_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, broken):
    path = tmp_path / "p.cnnproj"
    path.write_bytes(b"the old project")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, broken, fail)
    with pytest.raises(ProjectError) as caught:
        save_project(sample_project(), path)
    assert str(path) in str(caught.value) and "No space left on device" in str(caught.value)
    assert path.read_bytes() == b"the old project"
    assert os.listdir(tmp_path) == ["p.cnnproj"]


def test_an_unexpected_error_mid_save_still_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "p.cnnproj"
    path.write_bytes(b"the old project")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_project(sample_project(), path)
    assert path.read_bytes() == b"the old project" and os.listdir(tmp_path) == ["p.cnnproj"]


def test_a_setting_json_cannot_hold_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "p.cnnproj"
    path.write_bytes(b"the old project")
    project = sample_project()
    project.training = {"callbacks": [{"patience": object()}]}
    with pytest.raises(ProjectError) as caught:
        save_project(project, path)
    assert caught.value.where == "training.callbacks[0].patience"
    assert path.read_bytes() == b"the old project" and os.listdir(tmp_path) == ["p.cnnproj"]


def test_a_position_that_is_not_finite_is_refused_on_save(tmp_path):
    project = sample_project()
    project.network.move({"n3": (float("nan"), 0.0)})
    with pytest.raises(ProjectError) as caught:
        save_project(project, tmp_path / "p.cnnproj")
    assert caught.value.where == "network.nodes[2].position[0]"
    assert os.listdir(tmp_path) == []


def test_save_refuses_a_missing_folder(tmp_path):
    path = tmp_path / "nowhere" / "p.cnnproj"
    with pytest.raises(ProjectError) as caught:
        save_project(sample_project(), path)
    assert "does not exist" in caught.value.problem and "nowhere" in str(caught.value)
    assert not (tmp_path / "nowhere").exists()


def test_save_refuses_a_folder_as_target(tmp_path):
    with pytest.raises(ProjectError, match="folder"):
        save_project(sample_project(), tmp_path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and symlinks")
def test_save_keeps_the_file_mode_and_a_symlink(tmp_path):
    real = tmp_path / "real.cnnproj"
    real.write_text("{}")
    real.chmod(0o640)
    link = tmp_path / "link.cnnproj"
    link.symlink_to(real)
    save_project(sample_project(), link)
    assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert load_project(real).network.same_as(branching_net())


# ============================================================================ bad files

def edit(change):
    """A bad file made by changing one thing in a valid document."""
    def make() -> bytes:
        doc = valid_doc()
        change(doc)
        return json.dumps(doc, indent=2).encode("utf-8")
    return make


def raw(data: bytes):
    return lambda: data


def nodes(doc):
    return doc["network"]["nodes"]


def set_path(keys, value):
    def change(doc):
        target = doc
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return change


def delete(keys):
    def change(doc):
        target = doc
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return change


def add_edge(source, target):
    return lambda doc: doc["network"]["edges"].append({"source": source, "target": target})


VALID_TEXT = dumps(sample_project()).encode("utf-8")

# id, file bytes, where, a piece of the problem, a piece of the fix
BAD_FILES = [
    ("empty", raw(b""), "", "empty", "backup"),
    ("only-whitespace", raw(b"  \n\n"), "", "empty", "backup"),
    ("truncated", raw(VALID_TEXT[:300]), "line ", "truncated", "backup"),
    ("not-json", raw(b"model = Sequential()\n"), "line 1, column 1", "not valid JSON", "repair"),
    ("not-utf8", raw(b'{\n  "name": "caf\xe9"\n}'), "line 2, column 15", "not UTF-8", "UTF-8"),
    ("binary", raw(b"\x89PNG\r\n\x1a\n\x00\x00"), "line 1, column 1", "not UTF-8", "UTF-8"),
    ("top-level-list", raw(b"[1, 2]"), "top level", "found a list", ".cnnproj"),
    ("duplicate-key", raw(b'{"format": "cnnstudio-project", "format": "x"}'), "key 'format'", "twice", "Keep one"),
    ("nan", raw(VALID_TEXT.replace(b"[12.5, 110.0]", b"[NaN, 110.0]")), "network.nodes[1].position[0]",
     "not a finite number", "ordinary number"),
    ("infinity", raw(VALID_TEXT.replace(b"[12.5, 110.0]", b"[1e999, 110.0]")), "network.nodes[1].position[0]",
     "not a finite number", "ordinary number"),
    ("missing-format", edit(delete(["format"])), "format", "missing", '"format": "cnnstudio-project"'),
    ("wrong-format", edit(set_path(["format"], "keras-model")), "format", "not a CNN Studio project", ".cnnproj"),
    ("missing-version", edit(delete(["version"])), "version", "missing", f'"version": {FORMAT_VERSION}'),
    ("text-version", edit(set_path(["version"], "1")), "version", "whole number", f'"version" to {FORMAT_VERSION}'),
    ("float-version", edit(set_path(["version"], 1.5)), "version", "whole number", f'"version" to {FORMAT_VERSION}'),
    ("bool-version", edit(set_path(["version"], True)), "version", "whole number", f'"version" to {FORMAT_VERSION}'),
    ("newer-version", edit(set_path(["version"], 99)), "version",
     f"was written by a newer CNN Studio (format version 99; this version reads up to {FORMAT_VERSION})",
     "Update CNN Studio to open it."),
    ("version-0", edit(set_path(["version"], 0)), "version", "not one CNN Studio ever wrote",
     f'"version" to {FORMAT_VERSION}'),
    ("unknown-top-level-field", edit(set_path(["netwrok"], {})), "netwrok", "unknown top-level field",
     "Did you mean 'network'?"),
    ("name-not-text", edit(set_path(["name"], 3)), "name", "expected text", "quoted string"),
    ("dataset-not-object", edit(set_path(["dataset"], "mnist")), "dataset", "expected an object", "{...}"),
    ("missing-network", edit(delete(["network"])), "network", "missing", '"nodes": []'),
    ("network-not-object", edit(set_path(["network"], [])), "network", "found a list", '"nodes"'),
    ("nodes-not-list", edit(set_path(["network", "nodes"], {"n1": {}})), "network.nodes", "expected a list",
     "[...]"),
    ("edges-not-list", edit(set_path(["network", "edges"], None)), "network.edges", "found null", "[...]"),
    ("node-not-object", edit(lambda d: nodes(d).append("Conv2D")), "network.nodes[7]", "found text", '"type"'),
    ("node-without-id", edit(lambda d: nodes(d)[2].pop("id")), "network.nodes[2]", 'no "id"', '"n1"'),
    ("node-without-type", edit(lambda d: nodes(d)[2].pop("type")), "network.nodes[2]", 'no "type"', "Conv2D"),
    ("empty-id", edit(lambda d: nodes(d)[2].update(id="")), "network.nodes[2].id", "non-empty text",
     "non-empty string"),
    ("unknown-node-field", edit(lambda d: nodes(d)[2].update(postion=[1, 2])), "network.nodes[2].postion",
     "unknown node field 'postion'", "Did you mean 'position'? Otherwise remove it."),
    ("position-one-number", edit(lambda d: nodes(d)[2].update(position=[1])), "network.nodes[2].position",
     "two numbers", "[x, y]"),
    ("position-text", edit(lambda d: nodes(d)[2].update(position=["a", 2])), "network.nodes[2].position",
     "two numbers", "[x, y]"),
    ("position-object", edit(lambda d: nodes(d)[2].update(position={"x": 1, "y": 2})),
     "network.nodes[2].position", "two numbers", "[x, y]"),
    ("duplicate-id", edit(lambda d: nodes(d)[3].update(id="n2")), "network.nodes[3].id",
     "'n2' is already used by network.nodes[1]", "different id"),
    ("duplicate-name", edit(lambda d: nodes(d)[3].update(name="conv2d_1")), "network.nodes[3].name",
     "'conv2d_1' is already used by network.nodes[1]", "different name"),
    ("bad-name", edit(lambda d: nodes(d)[3].update(name="2nd conv")), "network.nodes[3].name",
     "not a valid layer name", 'remove "name" to get one like batch_normalization_1'),
    ("reserved-name", edit(lambda d: nodes(d)[3].update(name="forward")), "network.nodes[3].name", "reserved",
     "Rename the layer"),
    ("unknown-type", edit(lambda d: nodes(d)[1].update(type="Conv2d")), "network.nodes[1].type",
     "unknown layer type 'Conv2d'", "Did you mean 'Conv2D'"),
    ("unknown-type-far", edit(lambda d: nodes(d)[1].update(type="Transformer")), "network.nodes[1].type",
     "unknown layer type 'Transformer'", "Known types: AdaptiveAvgPool2D, Add, AvgPool2D"),
    ("kernel-size-0", edit(lambda d: nodes(d)[1]["params"].update(kernel_size=0)),
     "network.nodes[1].params.kernel_size", "0 is below the minimum 1", "from 1 to 256"),
    ("kernel-size-99999", edit(lambda d: nodes(d)[1]["params"].update(kernel_size=[3, 99999])),
     "network.nodes[1].params.kernel_size", "99999 is above the maximum 256", "from 1 to 256"),
    ("kernel-size-text", edit(lambda d: nodes(d)[1]["params"].update(kernel_size="3x3")),
     "network.nodes[1].params.kernel_size", "expected an integer", "default [3, 3]"),
    ("padding-choice", edit(lambda d: nodes(d)[1]["params"].update(padding="full")),
     "network.nodes[1].params.padding", "'full' is not one of", '"valid", "same"'),
    ("dropout-rate", edit(lambda d: nodes(d).append({"id": "d", "type": "Dropout", "params": {"rate": 1.5}})),
     "network.nodes[7].params.rate", "above the maximum 0.99", "a number from 0 to 0.99"),
    ("unknown-param", edit(lambda d: nodes(d)[1]["params"].update(kernal_size=3)),
     "network.nodes[1].params.kernal_size", "has no parameter 'kernal_size'", "Did you mean 'kernel_size'?"),
    ("params-not-object", edit(lambda d: nodes(d)[1].update(params=[32, 3])), "network.nodes[1].params",
     "expected an object", "defaults"),
    ("stride-and-dilation", edit(lambda d: nodes(d)[1]["params"].update(strides=2, dilation_rate=2)),
     "network.nodes[1].params.dilation_rate", "cannot be combined", "agree"),
    ("edge-not-object", edit(lambda d: d["network"]["edges"].append(["n1", "n2"])), "network.edges[7]",
     "expected an edge object", '"source"'),
    ("edge-missing-target", edit(lambda d: d["network"]["edges"].append({"source": "n1"})),
     "network.edges[7].target", "expected a node id", "id"),
    ("edge-to-missing-node", edit(add_edge("n7", "n77")), "network.edges[7].target",
     "there is no node with id 'n77'", "Did you mean 'n7'? Otherwise remove this edge"),
    ("edge-from-missing-node", edit(add_edge("output", "n2")), "network.edges[7].source",
     "there is no node with id 'output'", "Remove this edge"),
    ("edge-cycle", edit(add_edge("n7", "n2")), "network.edges[7]", "would make a cycle", "loop"),
    ("edge-self-loop", edit(add_edge("n3", "n3")), "network.edges[7]", "itself", "cannot feed itself"),
    ("edge-duplicate", edit(add_edge("n1", "n2")), "network.edges[7]", "already connected", "Remove"),
    ("edge-into-input", edit(add_edge("n7", "n1")), "network.edges[7]", "takes no inputs", "Remove"),
]


@pytest.mark.parametrize("make, where, problem, fix", [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_one_clear_error_and_stays_untouched(tmp_path, make, where, problem, fix):
    path = tmp_path / "bad.cnnproj"
    content = make()
    path.write_bytes(content)
    before = path.stat().st_mtime_ns
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    error = caught.value
    message = str(error)
    assert error.path == str(path) and message.startswith(str(path))
    assert error.where.startswith(where) if where else error.where == ""
    assert problem in error.problem, message
    assert fix in error.fix, message
    assert "\n" not in message and error.where in message and error.fix in message
    assert path.read_bytes() == content and path.stat().st_mtime_ns == before
    assert os.listdir(tmp_path) == ["bad.cnnproj"]


def test_a_missing_file_says_so(tmp_path):
    path = tmp_path / "gone.cnnproj"
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    assert str(path) in str(caught.value) and "does not exist" in caught.value.problem
    assert not path.exists()


def test_a_folder_is_not_a_project(tmp_path):
    with pytest.raises(ProjectError) as caught:
        load_project(tmp_path)
    assert "folder" in caught.value.problem and ".cnnproj" in caught.value.fix


def test_an_unreadable_file_is_a_project_error(tmp_path, monkeypatch):
    path = tmp_path / "locked.cnnproj"
    path.write_bytes(VALID_TEXT)

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    assert "cannot be read: Permission denied" in caught.value.problem and str(path) in str(caught.value)


def test_a_huge_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    monkeypatch.setattr(project_module, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.cnnproj"
    path.write_bytes(VALID_TEXT)
    with pytest.raises(ProjectError, match="too large"):
        load_project(path)


def test_deeply_nested_json_is_a_project_error(tmp_path):
    path = tmp_path / "deep.cnnproj"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ProjectError, match="nested too deeply"):
        load_project(path)


def test_project_from_dict_names_its_source():
    with pytest.raises(ProjectError) as caught:
        project_from_dict({"format": FORMAT_NAME}, source="clipboard")
    assert str(caught.value).startswith("clipboard: version:")


def test_project_error_has_its_parts_and_pickles():
    error = ProjectError("a.cnnproj", "network.nodes[2].params.kernel_size", "0 is below the minimum 1",
                         "Set kernel_size to 1 or more.")
    assert str(error) == ("a.cnnproj: network.nodes[2].params.kernel_size: 0 is below the minimum 1. "
                          "Set kernel_size to 1 or more.")
    copy_ = pickle.loads(pickle.dumps(error))
    assert (copy_.path, copy_.where, copy_.problem, copy_.fix, str(copy_)) == (
        error.path, error.where, error.problem, error.fix, str(error))


# ============================================================================ migrations

def test_the_current_version_needs_no_migration():
    assert all(version < FORMAT_VERSION for version in MIGRATIONS)


def test_old_versions_are_migrated_step_by_step_on_load_without_touching_the_file(tmp_path, monkeypatch):
    steps = []

    def minus1_to_0(doc):  # pretend version -1 called the network "graph"
        steps.append(-1)
        doc["graph"] = doc.pop("layers")
        return doc

    def v0_to_v1(doc):  # ... and version 0 called it "graph" and had no description
        steps.append(0)
        doc["network"] = doc.pop("graph")
        doc["description"] = "migrated"
        return doc

    monkeypatch.setitem(MIGRATIONS, -1, minus1_to_0)
    monkeypatch.setitem(MIGRATIONS, 0, v0_to_v1)
    old = valid_doc()
    old["version"] = -1
    old["layers"] = old.pop("network")
    del old["description"]
    path = tmp_path / "old.cnnproj"
    path.write_text(json.dumps(old), encoding="utf-8")
    content = path.read_bytes()

    project = load_project(path)
    assert steps == [-1, 0]
    assert project.network.same_as(branching_net()) and project.description == "migrated"
    assert path.read_bytes() == content
    assert json.loads(dumps(project))["version"] == FORMAT_VERSION


def test_a_failing_migration_is_a_project_error(tmp_path, monkeypatch):
    monkeypatch.setitem(MIGRATIONS, 0, lambda doc: doc["no such field"])
    doc = valid_doc()
    doc["version"] = 0
    with pytest.raises(ProjectError) as caught:
        project_from_dict(doc, source="old.cnnproj")
    assert caught.value.where == "version" and "upgraded from format version 0" in caught.value.problem


# ============================================================================ schema

@pytest.fixture(scope="module")
def validator():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_schema_file_on_disk_matches_the_catalog():
    assert SCHEMA_FILE.exists(), f"{SCHEMA_FILE} is missing; generate it with `{REGENERATE}`"
    on_disk = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert on_disk == json_schema(), f"{SCHEMA_FILE} is out of date; regenerate it with `{REGENERATE}`"


def test_write_schema_writes_json_schema(tmp_path):
    write_schema(tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8")) == json_schema()


def test_saved_projects_are_valid_against_the_schema(validator, tmp_path):
    path = tmp_path / "p.cnnproj"
    save_project(sample_project(), path)
    validator.validate(json.loads(path.read_text(encoding="utf-8")))
    validator.validate(project_to_dict(Project(Network())))


def test_every_layer_type_with_its_defaults_is_valid_against_the_schema(validator):
    network = Network()
    for type_name in CATALOG:
        network.add_node(type_name)
    validator.validate(project_to_dict(Project(network)))


@pytest.mark.parametrize("change, message", [
    (lambda d: nodes(d)[1]["params"].update(kernel_size=0), "kernel_size 0"),
    (lambda d: nodes(d)[1]["params"].update(kernel_size=[3, 99999]), "kernel_size 99999"),
    (lambda d: nodes(d)[1]["params"].update(kernal_size=3), "unknown parameter"),
    (lambda d: nodes(d)[1].update(type="Conv2d"), "unknown type"),
    (lambda d: nodes(d)[1].update(name="forward"), "reserved name"),
    (lambda d: nodes(d)[1].update(position=[1]), "one-number position"),
    (lambda d: d.update(version=FORMAT_VERSION + 1), "other version"),
    (lambda d: d.update(extra=1), "unknown top-level field"),
])
def test_the_schema_rejects_what_the_loader_rejects(validator, change, message):
    doc = valid_doc()
    change(doc)
    assert not validator.is_valid(doc), message
    with pytest.raises(ProjectError):
        project_from_dict(doc)


def test_the_schema_accepts_omitted_defaults_like_the_loader(validator):
    doc = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
           "network": {"nodes": [{"id": "a", "type": "MaxPool2D", "params": {"kernel_size": 3, "strides": None}}]}}
    validator.validate(doc)
    assert project_from_dict(doc).network.node("a").params["strides"] is None


def test_importing_the_project_module_does_not_import_torch():
    import subprocess
    code = "import cnnstudio.core.project, sys; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


def test_the_example_in_the_format_docs_loads_and_matches_the_schema(validator):
    text = (ROOT / "resources" / "schema" / "README.md").read_text(encoding="utf-8")
    example = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    validator.validate(example)
    project = project_from_dict(example, source="resources/schema/README.md")
    assert [n.name for n in project.network.nodes] == ["input_1", "conv2d_1", "flatten_1", "dense_1"]
