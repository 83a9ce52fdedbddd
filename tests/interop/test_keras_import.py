"""Import from Keras: ``.keras`` files saved by Keras itself open as networks whose numbers and
outputs are Keras's; what cannot be read as data is refused with one line and nothing written."""

from __future__ import annotations

import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnstudio.cli import main
from cnnstudio.core.analysis import analyze
from cnnstudio.core.build import build_model
from cnnstudio.interop.keras_export import export_keras
from cnnstudio.interop.keras_import import import_keras
from cnnstudio.interop.model_import import ModelImportError, UnsupportedModelError, import_model
from cnnstudio.training.run_folder import latest_run, load_run_weights, runs_dir
from keras_helpers import TOLERANCE, channels_last, keras, sample_batch, script_model, studio_model
from keras_networks import image_tour, sequence_chain

layers, models = keras.layers, keras.models

#: the lecture's table, in Keras's (height, width, channels) order
LECTURE_SHAPES = [(26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (3, 3, 64), (576,), (64,), (10,)]
LECTURE_PARAMS = [320, 0, 18496, 0, 36928, 0, 36928, 650]


def lecture_model():
    """The lecture's MNIST network, written exactly as the lecture writes it."""
    model = models.Sequential()
    with warnings.catch_warnings():  # Keras 3 prefers keras.Input to input_shape=, which the lecture uses
        warnings.simplefilter("ignore", UserWarning)
        model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(10, activation='softmax'))
    return model


def assert_same_outputs(imported, keras_model, input_shape, seed=1):
    """The imported network, built with its imported weights, computes Keras's outputs."""
    model = build_model(imported.network).eval()
    model.load_state_dict(imported.state_dict)
    batch = sample_batch(input_shape, seed=seed)
    with torch.no_grad():
        ours = model(batch).numpy()
    np.testing.assert_allclose(ours, keras_model.predict(channels_last(batch), verbose=0), rtol=0, atol=TOLERANCE)


def _keras_shape(shape):
    return tuple(shape[1:]) + tuple(shape[:1]) if len(shape) > 1 else tuple(shape)


def test_the_lecture_mnist_net_imports_with_93322_parameters_and_the_lecture_shapes(tmp_path):
    keras.utils.set_random_seed(0)
    model = lecture_model()
    model.save(tmp_path / "x.keras")
    imported = import_model(tmp_path / "x.keras")
    analysis = analyze(imported.network)
    assert analysis.total_params == 93_322 == model.count_params()
    rows = [analysis.nodes[node_id] for node_id in analysis.order if analysis.nodes[node_id].type != "Input"]
    assert [_keras_shape(row.output_shape) for row in rows] == LECTURE_SHAPES
    assert [row.params.total for row in rows] == LECTURE_PARAMS
    assert [row.type for row in rows] == ["Conv2D", "MaxPool2D", "Conv2D", "MaxPool2D", "Conv2D", "Flatten",
                                          "Dense", "Dense"]
    assert analysis.input_shape == (1, 28, 28)
    assert_same_outputs(imported, model, (1, 28, 28))


def test_a_functional_model_with_a_residual_add_and_a_concatenate_imports_with_keras_outputs(tmp_path):
    keras.utils.set_random_seed(1)
    image = keras.Input((16, 12, 3), name="image")
    stem = layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(image)
    body = layers.Conv2D(8, 3, padding="same", activation="relu", name="body_1")(stem)
    body = layers.Conv2D(8, 3, padding="same", name="body_2")(body)
    residual = layers.Activation("relu", name="residual_out")(layers.Add(name="residual")([stem, body]))
    wide = layers.Conv2D(4, 1, name="wide")(residual)
    narrow = layers.MaxPooling2D(3, strides=1, padding="same", name="narrow")(residual)
    mixed = layers.Concatenate(name="mixed")([wide, narrow])
    pooled = layers.GlobalAveragePooling2D(name="pooled")(mixed)
    output = layers.Dense(5, activation="softmax", name="scores")(pooled)
    model = keras.Model(image, output, name="branches")
    model.save(tmp_path / "branches.keras")
    imported = import_model(tmp_path / "branches.keras")
    assert analyze(imported.network).total_params == model.count_params()
    by_name = {node.name: node for node in imported.network.nodes}
    assert by_name["residual"].type == "Add" and by_name["mixed"].type == "Concatenate"
    inputs_of_mixed = [imported.network.node(i).name for i in imported.network.inputs_of(by_name["mixed"].id)]
    assert inputs_of_mixed == ["wide", "narrow"]
    assert_same_outputs(imported, model, (3, 16, 12))


def test_every_layer_the_catalog_knows_imports_with_keras_outputs(tmp_path):
    keras.utils.set_random_seed(2)
    image = keras.Input((12, 10, 3))
    x = layers.Conv2D(6, 3, strides=2, padding="same", dilation_rate=1, activation="elu")(image)
    x = layers.SeparableConv2D(6, 3, padding="same", depth_multiplier=2, activation="gelu")(x)
    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
    x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, use_bias=False)(x)
    x = layers.LeakyReLU(negative_slope=0.1)(x)
    x = layers.UpSampling2D(2, interpolation="bilinear")(x)
    x = layers.ZeroPadding2D(((1, 0), (0, 2)))(x)
    x = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    x = layers.Conv2D(12, 3, groups=3, dilation_rate=2, activation="leaky_relu")(x)
    x = layers.ReLU()(layers.ELU(alpha=0.5)(x))
    x = layers.ReLU(max_value=6.0)(layers.Conv2D(12, 1, activation="relu6")(x))
    x = layers.AdaptiveAveragePooling2D((7, 5))(x)
    x = layers.Activation("tanh")(layers.Activation("linear")(x))
    flat = layers.BatchNormalization()(layers.Flatten()(layers.MaxPooling2D(2)(x)))
    vector = layers.Concatenate()([flat, layers.GlobalMaxPooling2D()(x)])
    hidden = layers.Dense(48, activation="sigmoid")(layers.Dropout(0.3)(vector))
    grid = layers.Reshape((4, 4, 3))(layers.Softmax()(hidden))
    grid = layers.Conv2D(2, 3, padding="same")(grid)
    output = layers.Dense(3)(layers.Reshape((32,))(grid))
    model = keras.Model(image, output)
    for layer in model.layers:  # moving statistics that are not 0 and 1, so they must travel too
        if isinstance(layer, layers.BatchNormalization):
            layer.moving_mean.assign(np.random.default_rng(3).normal(size=layer.moving_mean.shape) * 0.3)
            layer.moving_variance.assign(np.random.default_rng(4).uniform(0.5, 1.5, layer.moving_variance.shape))
    model.save(tmp_path / "tour.keras")
    imported = import_model(tmp_path / "tour.keras")
    assert analyze(imported.network).total_params == model.count_params()
    kinds = {node.type for node in imported.network.nodes}
    assert kinds >= {"SeparableConv2D", "DepthwiseConv2D", "BatchNorm", "UpSampling2D", "ZeroPadding2D", "AvgPool2D",
                     "LeakyReLU", "ELU", "ReLU", "ReLU6", "AdaptiveAvgPool2D", "Tanh", "Reshape", "Softmax",
                     "Concatenate", "Dropout"}
    assert len(imported.network) == len(model.layers) - 1  # Activation("linear") is no block at all
    assert_same_outputs(imported, model, (3, 12, 10))


def test_one_dimensional_sequences_import(tmp_path):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((20, 4)), layers.Conv1D(6, 5, strides=2, padding="same"),
                              layers.BatchNormalization(), layers.Conv1D(3, 3, dilation_rate=2, activation="relu"),
                              layers.Flatten(), layers.Dense(2)])
    model.save(tmp_path / "signal.keras")
    imported = import_model(tmp_path / "signal.keras")
    assert analyze(imported.network).input_shape == (4, 20)
    assert_same_outputs(imported, model, (4, 20))


@pytest.mark.parametrize("make", [image_tour, sequence_chain], ids=["image_tour", "sequence_chain"])
def test_a_network_exported_to_keras_and_saved_by_keras_comes_back_with_its_outputs(make, tmp_path):
    network = make()
    model = studio_model(network)
    keras_model = script_model(export_keras(network, model.state_dict(), tmp_path / "net.py"))
    keras_model.save(tmp_path / "net.keras")
    imported = import_model(tmp_path / "net.keras")
    assert analyze(imported.network).total_params == analyze(network).total_params
    batch = sample_batch(model.input_shape)
    back = build_model(imported.network).eval()
    back.load_state_dict(imported.state_dict)
    with torch.no_grad():
        np.testing.assert_allclose(back(batch).numpy(), model(batch).numpy(), rtol=0, atol=TOLERANCE)


def test_the_cli_imports_a_keras_file_into_a_project_with_its_weights(tmp_path, capsys):
    keras.utils.set_random_seed(4)
    model = lecture_model()
    model.save(tmp_path / "lecture.keras")
    project = tmp_path / "lecture.cnnproj"
    assert main(["import", str(tmp_path / "lecture.keras"), "-o", str(project)]) == 0
    assert "93,322 parameters" in capsys.readouterr().out
    run = latest_run(runs_dir(project))
    weights = load_run_weights(run)
    first = model.layers[0]  # Keras numbers layer names per session: conv2d, conv2d_1, ...
    assert torch.equal(weights[f"{first.name}.weight"],
                       torch.from_numpy(first.get_weights()[0].transpose(3, 2, 0, 1)))


# ---------------------------------------------------------------------- refused, and nothing written

def _refused(source: Path, tmp_path: Path, capsys, *expected: str) -> None:
    project = tmp_path / "out.cnnproj"
    assert main(["import", str(source), "-o", str(project)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for text in expected:
        assert text in err
    assert not project.exists() and not runs_dir(project).exists()


def test_a_lambda_layer_is_refused_by_name_and_never_run(tmp_path, capsys):
    ran = []
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3),
                              layers.Lambda(lambda x: ran.append(1) or x * 2, name="doubling")])
    model.save(tmp_path / "lambda.keras")
    ran.clear()
    _refused(tmp_path / "lambda.keras", tmp_path, capsys, "'doubling' (Lambda)", "never runs code")
    assert ran == []
    with pytest.raises(UnsupportedModelError) as caught:
        import_keras(tmp_path / "lambda.keras")
    assert caught.value.node == "doubling" and caught.value.op == "Lambda"


def test_a_layer_outside_the_catalog_is_refused_naming_it(tmp_path, capsys):
    model = keras.Sequential([keras.Input((8, 8, 2)), layers.Conv2D(4, 3),
                              layers.Conv2DTranspose(2, 3, name="upconv")])
    model.save(tmp_path / "transpose.keras")
    _refused(tmp_path / "transpose.keras", tmp_path, capsys, "'upconv' (Conv2DTranspose)",
             "catalog has no Conv2DTranspose layer")


@pytest.mark.parametrize("damage", ["truncated", "not_a_zip", "no_config"])
def test_a_damaged_file_is_refused_with_one_line(damage, tmp_path, capsys):
    good = tmp_path / "good.keras"
    keras.Sequential([keras.Input((4,)), layers.Dense(2)]).save(good)
    bad = tmp_path / "bad.keras"
    if damage == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        expected = "not a Keras 3 model file"
    elif damage == "not_a_zip":
        bad.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
        expected = "not a zip archive"
    else:
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
            target.writestr("model.weights.h5", source.read("model.weights.h5"))
        expected = "it has no config.json"
    _refused(bad, tmp_path, capsys, "bad.keras", expected)


def test_options_for_other_formats_are_refused(tmp_path):
    keras.Sequential([keras.Input((4,)), layers.Dense(2)]).save(tmp_path / "small.keras")
    with pytest.raises(ModelImportError, match="input_shape cannot be used with .keras files"):
        import_model(tmp_path / "small.keras", input_shape=(4,))


def test_reading_a_keras_file_needs_neither_keras_nor_tensorflow(tmp_path):
    keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(2)]).save(
        tmp_path / "small.keras")
    code = ("import sys; from cnnstudio.interop.model_import import import_model; "
            f"imported = import_model({str(tmp_path / 'small.keras')!r}); "
            "loaded = sorted(m for m in ('keras', 'tensorflow') if m in sys.modules); "
            "assert not loaded, loaded; print(len(imported.network))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"


def _refusal(tmp_path, name, model) -> str:
    model.save(tmp_path / f"{name}.keras")
    with pytest.raises(UnsupportedModelError) as caught:
        import_keras(tmp_path / f"{name}.keras")
    return str(caught.value)


def test_what_the_catalog_cannot_follow_is_refused_with_the_reason(tmp_path):
    dense_on_image = keras.Sequential([keras.Input((4, 4, 2)), layers.Dense(3, name="per_pixel")])
    assert "'per_pixel' (Dense)" in _refusal(tmp_path, "dense", dense_on_image)
    assert "put a Flatten before it" in _refusal(tmp_path, "dense", dense_on_image)
    regrouped = keras.Sequential([keras.Input((48,)), layers.Reshape((4, 4, 3)), layers.Conv2D(2, 3, name="after")])
    assert "'after' (Conv2D)" in _refusal(tmp_path, "regrouped", regrouped)
    smooth = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softplus", name="smooth")])
    assert "'smooth' (Dense)" in _refusal(tmp_path, "smooth", smooth)
    assert "activation 'softplus'" in _refusal(tmp_path, "smooth", smooth)
    capped = keras.Sequential([keras.Input((4,)), layers.ReLU(max_value=4.0, name="relu4")])
    assert "max_value other than 6" in _refusal(tmp_path, "capped", capped)


def test_every_catalog_layer_has_a_keras_class():
    from cnnstudio.core.layers import CATALOG
    from cnnstudio.interop.keras_vocabulary import KERAS_CLASS

    assert set(KERAS_CLASS) == set(CATALOG), "a new layer type needs its Keras class (keras_vocabulary) " \
                                             "and its export and import (keras_plan, keras_layer_reader)"
