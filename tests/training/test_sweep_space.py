"""A sweep's search space, and what a trial's values do to a network."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from cnnstudio.core.analysis import analyze
from cnnstudio.core.project import load_project
from cnnstudio.training.sweeps.experiment import Objective, read_experiment
from cnnstudio.training.sweeps.network_edits import (TrialNetworkError, apply_operations, plan_operations,
                                                     training_values, trial_project)
from cnnstudio.training.sweeps.space import SpaceError, parse_assignment, parse_space

PROJECTS = Path(__file__).resolve().parents[2] / "projects"


@pytest.fixture(scope="module")
def lecture():
    """Two convolutions with BatchNorm, ReLU and pooling, then Flatten, Dropout and Dense."""
    return load_project(PROJECTS / "batchnorm_dropout_net.cnnproj")


def space(project, **specs):
    return parse_space({name.replace("__", "."): spec for name, spec in specs.items()}, project.network,
                       num_classes=10)


def refused(project, name, spec) -> str:
    with pytest.raises(SpaceError) as caught:
        parse_space({name: spec}, project.network, num_classes=10)
    return str(caught.value)


# ============================================================================ specs

def test_ranges_choices_and_fixed_values(lecture):
    parsed = space(lecture, lr="1e-4..1e-1:log", conv2d_1__filters="8..64:step=8", batch_size="32,64,128",
                   optimizer="adam,SGD", dropout_1__rate="0..0.5", conv2d_2__kernel_size="3,5x3", epochs="2")
    by_name = {d.name: d for d in parsed}
    assert parsed.names == ["learning_rate", "conv2d_1.filters", "batch_size", "optimizer", "dropout_1.rate",
                            "conv2d_2.kernel_size", "epochs"]  # lr is learning_rate's short name
    lr = by_name["learning_rate"]
    assert (lr.kind, lr.low, lr.high, lr.log) == ("float", 1e-4, 0.1, True)
    filters = by_name["conv2d_1.filters"]
    assert (filters.kind, filters.low, filters.high, filters.step) == ("int", 8, 64, 8)
    assert filters.grid() == [8, 16, 24, 32, 40, 48, 56, 64]
    assert by_name["batch_size"].choices == (32, 64, 128)
    assert by_name["optimizer"].choices == ("adam", "sgd")
    assert by_name["dropout_1.rate"].kind == "float"  # a float parameter gets a float range from 0..0.5
    kernel = by_name["conv2d_2.kernel_size"]
    assert kernel.choices == (3, "5x3") and kernel.project_value("5x3") == [5, 3]
    assert by_name["epochs"].choices == (2,)
    assert parsed.specs()["learning_rate"] == "1e-4..1e-1:log"


def test_values_drawn_by_optuna_have_the_dimension_types(lecture):
    parsed = space(lecture, lr="1e-4..1e-1:log", conv2d_1__filters="8..64:step=8", batch_size="32,64")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(20):
        values = parsed.suggest(study.ask())
        assert 1e-4 <= values["learning_rate"] <= 0.1
        assert values["conv2d_1.filters"] in range(8, 65, 8) and isinstance(values["conv2d_1.filters"], int)
        assert values["batch_size"] in (32, 64)


@pytest.mark.parametrize("name, spec, expected", [
    ("conv2d_1.filters", "0..64", "--param conv2d_1.filters: 0: 0 is below the minimum 1"),
    ("dropout_1.rate", "0..1.5", "1.5 is above the maximum 0.99"),
    ("conv2d_1.filters", "8..64.5", "64.5 is not a whole number"),
    ("conv2d_1.filters", "64..8", "empty or backwards"),
    ("lr", "0..1:log", "a :log range must start above 0"),
    ("lr", "-1,0.1", "-1: must be > 0"),
    ("optimizer", "adam,adagrad", "adagrad: must be one of 'sgd', 'adam', 'adamw', 'rmsprop', not 'adagrad'"),
    ("conv2d_1.filtres", "8,16", "has no parameter 'filtres' a sweep can vary (did you mean 'filters'?)"),
    ("conv2d_9.filters", "8,16", "there is no layer named 'conv2d_9' (did you mean 'conv2d_2'?)"),
    ("learnig_rate", "0.1,0.2", "neither a training setting nor LAYER.PARAM (did you mean 'learning_rate'?)"),
    ("conv2d_1.activation", "0..3", "a range needs a number setting"),
    ("batch_size", "32,,64", "an empty choice"),
    ("batch_size", "32,32", "32 is listed twice"),
    ("lr", "1e-4..1e-1:log:step=1e-3", "either :log or :step=S"),
])
def test_bad_specs_are_refused_with_a_message_naming_them(lecture, name, spec, expected):
    message = refused(lecture, name, spec)
    assert expected in message and message.startswith(f"--param {name}")


def test_an_empty_space_and_a_bad_assignment_say_how_to_write_one(lecture):
    assert "give at least one --param NAME=SPEC" in refused_empty(lecture)
    with pytest.raises(SpaceError, match="expected NAME=SPEC"):
        parse_assignment("lr")
    assert parse_assignment(" lr = 1e-3..1e-1:log ") == ("lr", "1e-3..1e-1:log")


def refused_empty(project) -> str:
    with pytest.raises(SpaceError) as caught:
        parse_space({}, project.network)
    return str(caught.value)


def test_a_grid_needs_finite_values(lecture):
    assert space(lecture, batch_size="32,64", dropout_1__rate="0..0.4:step=0.2").grid() == {
        "batch_size": [32, 64], "dropout_1.rate": [0.0, 0.2, 0.4]}
    with pytest.raises(SpaceError, match="continuous range"):
        space(lecture, lr="1e-4..1e-1:log").grid()


# ============================================================================ presence

def test_only_blocks_whose_removal_keeps_the_network_valid_can_be_optional(lecture):
    assert space(lecture, maxpooling2d_1__present="true,false").dimensions[0].choices == (True, False)
    assert "is the network's Input" in refused(lecture, "input_1.present", "true,false")
    assert "leaving flatten_1 out breaks the network (dense_1: Dense needs a flat vector" in \
        refused(lecture, "flatten_1.present", "true,false")
    assert "'maybe' is not true or false" in refused(lecture, "maxpooling2d_1.present", "true,maybe")
    residual = load_project(PROJECTS / "residual_net.cnnproj")
    assert "block1_add joins 2 inputs" in refused(residual, "block1_add.present", "true,false")


def test_leaving_a_block_out_wires_its_input_to_its_output(lecture):
    parsed = space(lecture, maxpooling2d_1__present="true,false", conv2d_2__filters="16,32")
    trial = trial_project(lecture, parsed, {"maxpooling2d_1.present": False, "conv2d_2.filters": 16})
    network = trial.network
    assert network.node_by_name("maxpooling2d_1") is None
    relu, conv2 = network.node_by_name("re_lu_1"), network.node_by_name("conv2d_2")
    assert network.inputs_of(conv2.id) == [relu.id] and conv2.params["filters"] == 16
    assert analyze(network).ok
    # the project it came from is untouched
    assert lecture.network.node_by_name("maxpooling2d_1") is not None
    assert lecture.network.node_by_name("conv2d_2").params["filters"] != 16


def test_a_bypassed_branch_keeps_its_place_among_a_merges_inputs():
    inception = load_project(PROJECTS / "inception_branches.cnnproj")
    parsed = parse_space({"branch_3x3.present": "true,false"}, inception.network)
    network = trial_project(inception, parsed, {"branch_3x3.present": False}).network
    names = [network.node(node_id).name for node_id in network.inputs_of(network.node_by_name("mixed").id)]
    assert names == ["branch_1x1", "branch_3x3_reduce", "branch_pool_proj"]


def test_leaving_out_both_convolutions_of_a_residual_block_would_wire_the_shortcut_twice():
    residual = load_project(PROJECTS / "residual_net.cnnproj")
    parsed = parse_space({"block1_conv1.present": "true,false", "block1_conv2.present": "true,false"},
                         residual.network)
    one = trial_project(residual, parsed, {"block1_conv1.present": True, "block1_conv2.present": False})
    assert analyze(one.network).ok
    with pytest.raises(TrialNetworkError, match="would wire stem to block1_add twice"):
        trial_project(residual, parsed, {"block1_conv1.present": False, "block1_conv2.present": False})


def test_operations_replayed_on_the_network_give_the_trial_network(lecture):
    parsed = space(lecture, maxpooling2d_2__present="true,false", dropout_1__rate="0.1,0.3", lr="1e-3..1e-1:log",
                   optimizer="adam,sgd")
    values = {"maxpooling2d_2.present": False, "dropout_1.rate": 0.3, "learning_rate": 0.01, "optimizer": "sgd"}
    network = lecture.network.copy()
    operations = plan_operations(network, parsed, values)
    assert [op.kind for op in operations] == ["set", "remove", "connect"]
    apply_operations(network, operations)
    assert network.same_as(trial_project(lecture, parsed, values).network)
    assert training_values(parsed, values) == {"learning_rate": 0.01, "optimizer": "sgd"}


# ============================================================================ experiments

def test_an_experiment_reads_the_project_object_and_the_command_line_wins(lecture):
    stored = {"name": "lr", "space": {"lr": "1e-4..1e-2:log"}, "objective": "val_loss", "trials": 5,
              "sampler": "random"}
    experiment = read_experiment(stored, lecture.network)
    assert (experiment.name, experiment.trials, experiment.sampler) == ("lr", 5, "random")
    assert experiment.objective == Objective("val_loss", "minimize")  # a loss is minimised by default
    assert read_experiment(stored, lecture.network, trials=9, objective="test_accuracy").objective.maximize
    replaced = read_experiment(stored, lecture.network, space={"batch_size": "32,64"})
    assert replaced.space.names == ["batch_size"]
    assert read_experiment(experiment.to_json(), lecture.network).to_json() == experiment.to_json()
    with pytest.raises(SpaceError, match="experiments: unknown field"):
        read_experiment({**stored, "trails": 3}, lecture.network)
    with pytest.raises(SpaceError, match="give --trials N"):
        read_experiment({"space": {"lr": "0.1,0.2"}}, lecture.network)
    with pytest.raises(SpaceError, match="a grid needs a list of values"):
        read_experiment(stored, lecture.network, sampler="grid")
