"""Export to Keras, checked by Keras itself: the generated script builds a model whose parameter
count and layer shapes are the studio's analysis, and with the exported weights Keras predicts
what the studio's model computes."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnstudio.cli import main
from cnnstudio.core.analysis import analyze
from cnnstudio.core.network import Network, sequential
from cnnstudio.core.project import Project, load_project, save_project
from cnnstudio.interop.keras_export import export_keras, keras_weights_path
from cnnstudio.interop.keras_layout import channels_last as keras_order_of
from cnnstudio.interop.keras_plan import KerasExportError, plan_keras
from cnnstudio.training.export_errors import ExportNote
from golden_files import check_golden
from keras_helpers import TOLERANCE, channels_last, keras_shape, sample_batch, script_model, studio_model
from keras_networks import example_and_tour_networks

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("network", "title"), example_and_tour_networks())
def test_keras_counts_the_parameters_and_shapes_the_layers_as_the_studio(network, title, tmp_path):
    script = export_keras(network, None, tmp_path / "model.py", title=title)
    model = script_model(script)
    analysis = analyze(network)
    assert model.count_params() == analysis.total_params
    assert keras_shape(model.inputs[0]) == keras_order_of(analysis.input_shape)
    plan = plan_keras(network, analysis, title=title)
    for layer in plan.layers:  # every Keras layer, helpers included, has the shape the plan says
        if not layer.is_input:
            assert keras_shape(model.get_layer(layer.name).output) == layer.output_shape, layer.name
    helpers = {layer.name for layer in plan.layers if layer.source != layer.name}
    for node in network.nodes:  # and every studio layer's own Keras layer has the studio's shape
        result = analysis.nodes[node.id]
        if node.type in ("Input", "Reshape") or node.name in helpers:
            continue
        assert keras_shape(model.get_layer(node.name).output) == keras_order_of(result.output_shape), node.name
        assert model.get_layer(node.name).count_params() == result.params.total, node.name


@pytest.mark.parametrize(("network", "title"), example_and_tour_networks())
def test_with_weights_keras_predicts_what_the_studio_computes(network, title, tmp_path):
    model = studio_model(network)
    script = export_keras(network, model.state_dict(), tmp_path / "model.py", title=title)
    assert keras_weights_path(script).is_file()
    batch = sample_batch(model.input_shape)
    with torch.no_grad():
        expected = model(batch).numpy()
    predicted = script_model(script).predict(channels_last(batch), verbose=0)
    np.testing.assert_allclose(predicted, expected, rtol=0, atol=TOLERANCE)


def test_the_lecture_net_is_written_as_the_lecture_writes_it():
    project = load_project(ROOT / "projects" / "lecture_mnist.cnnproj")
    from cnnstudio.interop.keras_export import generate_keras_code

    code = generate_keras_code(plan_keras(project.network, title=project.name), title=project.name)
    check_golden("lecture_mnist_keras.py", code)
    assert 'layers.Conv2D(32, (3, 3), activation="relu", name="conv2d_1")' in code
    assert 'layers.MaxPooling2D((2, 2), name="maxpooling2d_1")' in code
    assert 'layers.Dense(10, activation="softmax", name="dense_2")' in code


def test_branches_use_the_functional_api_and_chains_sequential():
    residual = load_project(ROOT / "projects" / "residual_net.cnnproj").network
    assert not plan_keras(residual).sequential
    assert plan_keras(load_project(ROOT / "projects" / "lecture_mnist.cnnproj").network).sequential


def test_the_cli_writes_the_script_and_its_weights_and_keras_loads_them(tmp_path, capsys):
    project = load_project(ROOT / "projects" / "batchnorm_dropout_net.cnnproj")
    model = studio_model(project.network, seed=3)
    weights = tmp_path / "trained.pt"
    torch.save(model.state_dict(), weights)
    target = tmp_path / "net.py"
    args = ["export", str(ROOT / "projects" / "batchnorm_dropout_net.cnnproj"), "--format", "keras",
            "-o", str(target), "--weights", str(weights)]
    assert main(args) == 0
    assert f"wrote {target}" in capsys.readouterr().out
    assert (tmp_path / "net.weights.h5").is_file() and 'model.load_weights(WEIGHTS)' in target.read_text()
    batch = sample_batch(model.input_shape)
    with torch.no_grad():
        expected = model(batch).numpy()
    np.testing.assert_allclose(script_model(target).predict(channels_last(batch), verbose=0), expected,
                               rtol=0, atol=TOLERANCE)
    before = (tmp_path / "net.weights.h5").read_bytes()
    target.unlink()  # the script is gone but its weights file is still there: nothing is replaced silently
    assert main(args) == 2
    assert "net.weights.h5 already exists" in capsys.readouterr().err
    assert (tmp_path / "net.weights.h5").read_bytes() == before and not target.exists()


def test_explicit_padding_that_same_would_give_becomes_same_and_other_padding_a_zero_padding_layer():
    network = sequential([("Input", {"shape": [2, 9, 9]}),
                          ("Conv2D", {"filters": 3, "kernel_size": 3, "padding": "explicit", "pad": 1}, "as_same"),
                          ("Conv2D", {"filters": 3, "kernel_size": 3, "padding": "explicit", "pad": 2}, "wide")])
    layers = {layer.name: layer for layer in plan_keras(network).layers}
    assert ("padding", "same") in layers["as_same"].arguments
    assert layers["wide_pad"].class_name == "ZeroPadding2D" and layers["wide"].inputs == ("wide_pad",)


def test_pooling_with_explicit_padding_keras_cannot_do_is_refused_naming_the_layer():
    network = sequential([("Input", {"shape": [1, 8, 8]}),
                          ("MaxPool2D", {"kernel_size": 3, "strides": 2, "padding": "explicit", "pad": 1}, "pool")])
    with pytest.raises(KerasExportError, match="pool: pooling with explicit padding 1x1 has no Keras equivalent"):
        plan_keras(network)


def test_average_pooling_with_odd_same_padding_notes_keras_backends_disagree(tmp_path):
    network = sequential([("Input", {"shape": [2, 7, 7]}),
                          ("AvgPool2D", {"kernel_size": 2, "strides": 2, "padding": "same"}, "pool")])
    model = studio_model(network)
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always")
        script = export_keras(network, model.state_dict(), tmp_path / "pool.py")
    assert any(issubclass(n.category, ExportNote) and "pool:" in str(n.message) for n in notes)
    batch = sample_batch(model.input_shape)
    with torch.no_grad():
        expected = model(batch).numpy().transpose(0, 2, 3, 1)
    predicted = script_model(script).predict(channels_last(batch), verbose=0)
    # away from the padded bottom row and right column, every backend averages the same pixels
    np.testing.assert_allclose(predicted[:, :-1, :-1], expected[:, :-1, :-1], rtol=0, atol=TOLERANCE)


def test_a_network_with_problems_is_refused_by_the_cli(tmp_path, capsys):
    network = sequential([("Input", {"shape": [1, 2, 2]}), ("Conv2D", {"filters": 2}, "conv3")])
    path = tmp_path / "broken.cnnproj"
    save_project(Project(network), path)
    assert main(["export", str(path), "--format", "keras", "-o", str(tmp_path / "x.py")]) == 2
    err = capsys.readouterr().err
    assert "conv3: its 3x3 kernel does not fit the 2x2 input" in err and "Traceback" not in err
    assert not (tmp_path / "x.py").exists()


def test_layer_names_that_are_python_names_do_not_shadow_them_in_the_script(tmp_path):
    network = Network()
    source = network.add_node("Input", {"shape": [4]}, name="model")
    branches = [network.add_node("Dense", {"units": 2}, name=name) for name in ("sum", "layers")]
    joined = network.add_node("Add", name="keras")
    for branch in branches:
        network.connect(source.id, branch.id)
        network.connect(branch.id, joined.id)
    script = export_keras(network, None, tmp_path / "names.py")
    assert "sum_ = layers.Dense(2, name=\"sum\")(model_)" in script.read_text()
    model = script_model(script)
    assert [layer.name for layer in model.layers] == ["model", "sum", "layers", "keras"]
    assert model.predict(np.ones((1, 4), dtype="float32"), verbose=0).shape == (1, 2)


def test_the_studio_export_path_writes_keras_with_a_runs_weights(tmp_path):
    """The training view's Export menu goes through ``export_model(..., "keras", ...)``."""
    from cnnstudio.training.export import FORMAT_SUFFIXES, export_model

    project = load_project(ROOT / "projects" / "inception_branches.cnnproj")
    model = studio_model(project.network, seed=5)
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    written = export_model(project.network, str(weights), "keras", tmp_path / f"net{FORMAT_SUFFIXES['keras']}",
                           title=project.name)
    assert written == tmp_path / "net.py" and (tmp_path / "net.weights.h5").is_file()
    batch = sample_batch(model.input_shape)
    with torch.no_grad():
        expected = model(batch).numpy()
    np.testing.assert_allclose(script_model(written).predict(channels_last(batch), verbose=0), expected,
                               rtol=0, atol=TOLERANCE)
