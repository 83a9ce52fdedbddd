"""Learned first-layer filters matched to the hand-made presets."""

import numpy as np
import pytest
import torch

from cnnstudio.core.build import build_model
from cnnstudio.core.network import sequential
from cnnstudio.lab.filters import PRESETS
from cnnstudio.lab.learned_filters import (first_layer_matches, nearest_presets, normalised_correlation,
                                           resize_kernel)

RNG = np.random.default_rng(2)
THREE_BY_THREE = ["Laplacian", "Sobel-X", "Sobel-Y", "Sharpen", "Box blur 3x3", "Gaussian 3x3"]


def test_each_preset_is_nearest_to_itself_whatever_its_scale():
    filters = np.stack([PRESETS[name].kernel * scale for name, scale in zip(THREE_BY_THREE, (1, 0.1, 3, 7, 2, 0.5))])
    matches = nearest_presets(filters[:, None])
    assert [m.preset for m in matches] == THREE_BY_THREE
    assert all(m.score == pytest.approx(1) and not m.inverted for m in matches)
    assert "closely resembles Laplacian (normalised correlation 1.00)" in matches[0].sentence


def test_noisy_and_negated_filters_still_find_their_preset():
    filters = np.stack([-2 * PRESETS["Sobel-X"].kernel, PRESETS["Sobel-Y"].kernel, PRESETS["Laplacian"].kernel])
    matches = nearest_presets(filters + RNG.normal(0, 0.15, filters.shape))
    assert [(m.preset, m.inverted) for m in matches] == [("Sobel-X", True), ("Sobel-Y", False), ("Laplacian", False)]
    assert all(m.score > 0.9 for m in matches)
    assert "with its sign flipped" in matches[0].sentence
    assert set(matches[0].scores) == set(PRESETS)


def test_colour_filters_are_compared_through_the_sum_of_their_channels():
    sobel = PRESETS["Sobel-Y"].kernel
    (match,) = nearest_presets(np.stack([sobel, 2 * sobel, sobel])[None])  # (1, 3, 3, 3)
    assert match.preset == "Sobel-Y" and match.score == pytest.approx(1)


def test_presets_are_resized_to_the_filter_size():
    curve = PRESETS["Curve detector 7x7"].kernel
    small = resize_kernel(curve, 3)
    assert small.shape == (3, 3)
    assert small.sum() == pytest.approx(curve.sum() * 9 / 49)  # area averaging keeps the mean
    assert resize_kernel(PRESETS["Gaussian 3x3"].kernel, 3).tolist() == PRESETS["Gaussian 3x3"].kernel.tolist()
    (match,) = nearest_presets(curve[None, None])
    assert match.preset == "Curve detector 7x7" and match.score == pytest.approx(1)
    big_sobel = resize_kernel(PRESETS["Sobel-X"].kernel, 5)
    assert nearest_presets(big_sobel[None])[0].preset == "Sobel-X"
    assert normalised_correlation(np.zeros((3, 3)), PRESETS["Sobel-X"].kernel) == 0


def test_a_model_s_first_layer_filters_are_matched():
    network = sequential([("Input", {"shape": [1, 28, 28]}), ("Conv2D", {"filters": 3, "kernel_size": 3}),
                          ("Flatten", {}), ("Dense", {"units": 10})])
    model = build_model(network)
    with torch.no_grad():
        for i, name in enumerate(("Sobel-X", "Sharpen", "Gaussian 3x3")):
            model.conv2d_1.weight[i, 0] = torch.tensor(PRESETS[name].kernel.copy())
    assert [m.preset for m in first_layer_matches(model)] == ["Sobel-X", "Sharpen", "Gaussian 3x3"]


def test_filters_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match="square kernels"):
        nearest_presets(np.zeros((2, 1, 3, 5)))
