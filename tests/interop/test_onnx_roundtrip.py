"""Every example project, exported by CNN Studio's own ONNX exporter with random weights,
imports back as the same graph with the same weights and outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from import_helpers import graph_of, run_imported, without_dropout

from cnnstudio.core.build import build_model
from cnnstudio.core.project import load_project
from cnnstudio.interop.model_import import import_model
from cnnstudio.paths import EXAMPLE_PROJECTS
from cnnstudio.training.export import export_model

EXAMPLES = sorted(path.stem for path in EXAMPLE_PROJECTS.glob("*.cnnproj"))


def random_weights(network, seed: int) -> dict:
    """Random values for every tensor, BatchNorm statistics included (variances positive)."""
    generator = torch.Generator().manual_seed(seed)
    state = build_model(network).state_dict()
    return {key: (torch.rand(value.shape, generator=generator) + 0.5 if key.endswith("running_var")
                  else torch.randn(value.shape, generator=generator) * 0.5) if value.is_floating_point() else value
            for key, value in state.items()}


@pytest.fixture(scope="module", params=EXAMPLES)
def round_trip(request, tmp_path_factory):
    network = load_project(EXAMPLE_PROJECTS / f"{request.param}.cnnproj").network
    weights = random_weights(network, seed=len(request.param))
    path = export_model(network, weights, "onnx", tmp_path_factory.mktemp("export") / f"{request.param}.onnx")
    return network, weights, import_model(path), request.param


def test_examples_come_back_as_the_same_graph(round_trip):
    network, _, imported, _ = round_trip
    assert graph_of(imported.network) == graph_of(without_dropout(network))


def test_examples_come_back_with_the_same_weights_under_the_same_names(round_trip):
    _, weights, imported, name = round_trip
    floating = {key: value for key, value in weights.items() if value.is_floating_point()}
    assert set(floating) <= set(imported.state_dict)
    for key, value in floating.items():
        assert torch.equal(imported.state_dict[key], value), key
    if name == "lecture_mnist":
        assert sum(value.numel() for value in imported.state_dict.values()) == 93322
        assert "93,322 parameters" in imported.report()


def test_examples_give_the_same_outputs_within_1e_5(round_trip):
    network, weights, imported, _ = round_trip
    original = build_model(network)
    original.load_state_dict(weights)
    original.eval()
    x = torch.randn(3, *original.input_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = original(x)
    np.testing.assert_allclose(run_imported(imported, x).numpy(), expected.numpy(), atol=1e-5)

