"""Live previews show what the built model computes for the sample, layer by layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnstudio.core.build import build_model, layer_outputs
from cnnstudio.core.project import load_project
from cnnstudio.data.builtin import load_mnist
from cnnstudio.lab.preview import (ActivationStats, PreviewCancelled, bar_values, channel_mosaic, fit_sample,
                                   preview_network)
from cnnstudio.lab.preview_sample import dataset_sample
from cnnstudio.training.export_weights import WeightsError
from cnnstudio.training.weights import save_weights

PROJECTS = Path(__file__).resolve().parents[2] / "projects"


def network(name: str):
    return load_project(PROJECTS / f"{name}.cnnproj").network


def digit(index: int = 0) -> np.ndarray:
    return load_mnist("test").x[index]


def reference_outputs(model, sample: np.ndarray) -> dict[str, np.ndarray]:
    """The built model's own record of every layer's output, in eval mode, for one sample."""
    model.eval()
    with torch.no_grad():
        return {name: value[0].numpy() for name, value in
                layer_outputs(model, torch.from_numpy(sample[None].copy())).items()}


def seeded_model(net, seed: int):
    torch.manual_seed(seed)
    return build_model(net)


def trained_looking(net, seed: int = 7):
    """A model whose weights and BatchNorm statistics differ from any fresh one."""
    model = seeded_model(net, seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.rand(tensor.shape, generator=generator) * 0.2)
    return model.eval()


# ---------------------------------------------------------------------- equal to the built model

def test_random_weight_preview_equals_the_built_models_outputs_for_the_same_seed():
    net = network("lecture_mnist")
    preview = preview_network(net, digit(3), seed=5)

    expected = reference_outputs(seeded_model(net, 5), digit(3))
    assert list(preview.layers) == list(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(preview.layers[name].values, values, rtol=1e-5, atol=1e-6, err_msg=name)
    assert preview.ok and preview.weights == "random (seed 5)"


def test_the_first_convolution_and_the_output_match_a_hand_computation():
    net = network("lecture_mnist")
    model = seeded_model(net, 0)
    preview = preview_network(net, digit(0), seed=0)

    x = torch.from_numpy(digit(0)[None].copy())
    conv = F.relu(F.conv2d(x, model.conv2d_1.weight, model.conv2d_1.bias))[0].detach().numpy()
    np.testing.assert_allclose(preview.layers["conv2d_1"].values, conv, rtol=1e-5, atol=1e-6)
    probabilities = preview.layers["dense_2"].values
    assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(probabilities, model.eval()(x)[0].numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_loaded_weight_preview_equals_the_trained_models_outputs_in_eval_mode(tmp_path, suffix):
    net = network("batchnorm_dropout_net")  # BatchNorm statistics and Dropout: eval mode matters
    trained = trained_looking(net)
    path = save_weights(trained, tmp_path / f"weights{suffix}")

    preview = preview_network(net, digit(1), weights=path)

    expected = reference_outputs(trained, digit(1))
    for name, values in expected.items():
        np.testing.assert_allclose(preview.layers[name].values, values, rtol=1e-5, atol=1e-6, err_msg=name)
    assert str(path) in preview.weights and preview.notes == ()


def test_branches_and_merges_are_previewed_too_with_the_sample_fitted_to_the_input():
    net = network("residual_net")  # 3x32x32 colour input, fed a 1x28x28 digit
    preview = preview_network(net, digit(2), seed=1)

    fitted, note = fit_sample(digit(2), (3, 32, 32))
    np.testing.assert_array_equal(preview.sample, fitted)
    assert any("resized" in n for n in preview.notes) and "1x28x28" in note
    expected = reference_outputs(seeded_model(net, 1), fitted[0])
    for name in ("block1_add", "block2_add", "block2_out", "dense_1"):
        np.testing.assert_allclose(preview.layers[name].values, expected[name], rtol=1e-5, atol=1e-6)


def test_weights_from_before_an_edit_are_used_where_they_still_fit(tmp_path):
    net = network("lecture_mnist")
    trained = trained_looking(net)
    path = save_weights(trained, tmp_path / "weights.pt")
    edited = net.copy()
    edited.set_params(edited.node_by_name("dense_1").id, {"units": 32})

    with pytest.raises(WeightsError, match="dense_1"):
        preview_network(edited, digit(0), weights=path)
    preview = preview_network(edited, digit(0), weights=path, partial=True)

    expected = reference_outputs(trained, digit(0))
    np.testing.assert_allclose(preview.layers["conv2d_3"].values, expected["conv2d_3"], rtol=1e-5, atol=1e-6)
    assert preview.layers["dense_1"].values.shape == (32,)
    assert preview.notes == ("random weights for dense_1, dense_2 (they do not fit the weights given)",)


# ---------------------------------------------------------------------- statistics, failures, cancelling

def test_statistics_are_those_of_the_layer_output():
    preview = preview_network(network("lecture_mnist"), digit(4))
    for layer in preview.layers.values():
        values = layer.values.astype(np.float64)
        stats = layer.stats
        assert stats.mean == pytest.approx(values.mean()) and stats.std == pytest.approx(values.std())
        assert stats.zero_share == pytest.approx(np.mean(values == 0))
        assert (stats.minimum, stats.maximum) == (values.min(), values.max())
    assert preview.layers["conv2d_1"].stats.zero_share > 0  # ReLU zeros the negative half


def test_stats_text_names_each_figure():
    assert ActivationStats.of(np.array([0.0, 0.0, 1.0, 3.0])).text() == "mean 1 ± 1.22 · zeros 50% · [0, 3]"


def test_a_network_that_cannot_be_built_gives_a_reason_not_an_error():
    net = network("lecture_mnist")
    net.set_params(net.node_by_name("conv2d_3").id, {"kernel_size": [9, 9]})

    preview = preview_network(net, digit(0))

    assert not preview.ok and preview.layers == {}
    assert preview.reason.startswith("no preview: conv2d_3")


def test_a_sample_that_cannot_be_fitted_gives_a_reason():
    _, reason = fit_sample(np.zeros((1, 28, 28), np.float32), (10,))
    assert reason == "no preview: a 1x28x28 sample does not fit the input 10"


def test_a_preview_asked_to_stop_ends_early():
    asked = []

    def should_stop() -> bool:
        asked.append(True)
        return len(asked) >= 3

    with pytest.raises(PreviewCancelled):
        preview_network(network("lecture_mnist"), digit(0), should_stop=should_stop)
    assert len(asked) == 3


def test_random_weights_leave_torchs_random_state_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    preview_network(network("lecture_mnist"), digit(0), seed=9)
    assert torch.equal(torch.get_rng_state(), before)


# ---------------------------------------------------------------------- the sample and the pictures

def test_the_default_sample_is_a_real_mnist_test_digit():
    sample = dataset_sample(None, index=10_003)
    np.testing.assert_array_equal(sample.image, digit(3))
    assert sample.label == int(load_mnist("test").y[3]) and sample.caption.startswith("mnist test #3: ")


def test_channel_mosaic_tiles_maps_with_gaps():
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    mosaic = channel_mosaic(maps, max_channels=4)
    assert mosaic.shape == (2 * 2 + 1, 2 * 3 + 1)
    np.testing.assert_array_equal(mosaic[3:, 4:], maps[3])
    assert np.isnan(mosaic[2]).all() and np.isnan(mosaic[:, 3]).all()


def test_bar_values_keep_spikes_when_there_are_many_units():
    values = np.zeros(100)
    values[37] = -5.0
    bars = bar_values(values, max_bars=10)
    assert bars.shape == (10,) and bars.min() == -5.0
    np.testing.assert_array_equal(bar_values(np.arange(4.0)), np.arange(4.0))
