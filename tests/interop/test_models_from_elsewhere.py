"""Models made without CNN Studio: hand-written torch modules exported by ``torch.onnx.export``
import with the module's outputs, and the same modules traced by ``torch.fx`` give the same."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from import_helpers import SAMPLES_FILE, export_with_torch, graph_of, run_imported
from sample_modules import INPUT_SHAPE, SAMPLES, randomized
from torch import nn

from cnnstudio.interop.model_import import import_model
from cnnstudio.interop.torch_import import import_module

ATOL = 1e-5


def batch(seed: int = 0, shape=INPUT_SHAPE) -> torch.Tensor:
    return torch.randn(4, *shape, generator=torch.Generator().manual_seed(seed))


def module_output(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return module(x)


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def sample(request, tmp_path_factory):
    torch.manual_seed(0)
    module = randomized(SAMPLES[request.param]())
    path = export_with_torch(module, INPUT_SHAPE, tmp_path_factory.mktemp("onnx") / f"{request.param}.onnx")
    return module, import_model(path), import_module(module, INPUT_SHAPE)


def test_onnx_files_from_torch_onnx_export_match_the_module(sample):
    module, from_onnx, _ = sample
    x = batch()
    np.testing.assert_allclose(run_imported(from_onnx, x).numpy(), module_output(module, x).numpy(), atol=ATOL)


def test_torch_fx_import_matches_the_module_and_the_onnx_import(sample):
    module, from_onnx, from_fx = sample
    x = batch(1)
    fx_output = run_imported(from_fx, x).numpy()
    np.testing.assert_allclose(fx_output, module_output(module, x).numpy(), atol=ATOL)
    np.testing.assert_allclose(fx_output, run_imported(from_onnx, x).numpy(), atol=ATOL)


def test_fx_keeps_batchnorm_and_dropout_as_layers_named_after_the_modules():
    imported = import_module(randomized(SAMPLES["BatchNormDropoutCNN"]()), INPUT_SHAPE)
    layers = {node.name: node for node in imported.network.nodes}
    assert layers["features_1"].type == "BatchNorm" and layers["features_5"].type == "BatchNorm"
    assert layers["features_3"].type == "Dropout" and layers["features_3"].params["rate"] == 0.2
    assert layers["drop"].params["rate"] == 0.5
    # the softmax after the classifier joins it, as a Keras Dense(activation='softmax')
    assert layers["classifier"].params["activation"] == "softmax"
    assert layers["features_1"].params["momentum"] == 0.9  # torch's momentum 0.1, in Keras's terms
    assert layers["features_1"].params["epsilon"] == 1e-5


def test_depthwise_convolutions_become_depthwise_layers():
    imported = import_module(randomized(SAMPLES["DepthwiseSeparableStack"]()), INPUT_SHAPE)
    depthwise = [node for node in imported.network.nodes if node.type == "DepthwiseConv2D"]
    assert [node.name for node in depthwise] == ["blocks_0_0", "blocks_1_0"]
    assert depthwise[1].params["strides"] == [2, 2] and depthwise[1].params["padding"] == "explicit"


@pytest.mark.parametrize("name", ["BatchNormDropoutCNN", "ResidualNet"])
def test_the_legacy_exporters_shape_chains_and_constants_fold_away(name, tmp_path):
    module = randomized(SAMPLES[name]())
    path = export_with_torch(module, INPUT_SHAPE, tmp_path / "legacy.onnx", legacy=True)
    import onnx
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    if name == "BatchNormDropoutCNN":  # x.view(x.size(0), -1): the batch size read from the tensor
        assert {"Shape", "Gather", "Concat", "Reshape"} <= ops
    x = batch(2)
    np.testing.assert_allclose(run_imported(import_model(path), x).numpy(), module_output(module, x).numpy(),
                               atol=ATOL)


class Zoo(nn.Module):
    """One of every other mapped op: padding on one side, grouped and dilated convolutions,
    pooling with padding and ceil mode, resizing, activations with their own slopes, and a
    matrix product plus a bias written out by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.depthwise = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
        self.grouped = nn.Conv2d(8, 8, 3, dilation=2, padding=2, groups=2)
        self.avg = nn.AvgPool2d(3, stride=1, padding=1)
        self.max = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear")
        self.fc = nn.Linear(8 * 4 * 4, 10)
        self.weight = nn.Parameter(torch.randn(10, 6))
        self.bias = nn.Parameter(torch.randn(6))

    def forward(self, x):
        x = F.leaky_relu(self.conv(x), 0.1)
        x = F.elu(self.depthwise(F.pad(x, (0, 1, 0, 1))))
        x = F.gelu(self.grouped(x))
        x = self.max(self.avg(x))
        x = F.avg_pool2d(F.interpolate(self.up(x), scale_factor=2), 4)
        x = torch.sigmoid(x).view(x.size(0), -1)
        x = torch.tanh(self.fc(x))
        return F.softmax(torch.matmul(x, self.weight) + self.bias, dim=1)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    torch.manual_seed(3)
    module = Zoo().eval()
    path = export_with_torch(module, INPUT_SHAPE, tmp_path_factory.mktemp("zoo") / "zoo.onnx")
    return module, import_model(path), import_module(module, INPUT_SHAPE)


def test_every_other_op_imports_exactly_from_onnx_and_fx(zoo):
    module, from_onnx, from_fx = zoo
    x = batch(4)
    expected = module_output(module, x).numpy()
    np.testing.assert_allclose(run_imported(from_onnx, x).numpy(), expected, atol=ATOL)
    np.testing.assert_allclose(run_imported(from_fx, x).numpy(), expected, atol=ATOL)


def test_the_zoo_maps_to_the_catalog_layers_it_names(zoo):
    _, from_onnx, from_fx = zoo
    assert graph_of(from_onnx.network) == graph_of(from_fx.network)  # both paths decide alike
    for imported in (from_onnx, from_fx):
        nodes = imported.network.nodes
        kinds = [node.type for node in nodes]
        assert "DepthwiseConv2D" in kinds and "UpSampling2D" in kinds
        # F.pad(x, (0, 1, 0, 1)) pads one side only; the average pool counts its padded zeros
        pads = [(n.params["top"], n.params["bottom"], n.params["left"], n.params["right"])
                for n in nodes if n.type == "ZeroPadding2D"]
        assert pads == [(0, 1, 0, 1), (1, 1, 1, 1)]
        leaky = next(node for node in nodes if node.type == "LeakyReLU")
        assert leaky.params["alpha"] == pytest.approx(0.1)
        grouped = next(node for node in nodes if node.type == "Conv2D" and node.params["groups"] == 2)
        assert grouped.params["dilation_rate"] == [2, 2]
        assert [node.params["interpolation"] for node in nodes if node.type == "UpSampling2D"][0] == "bilinear"
        # the hand-written x @ W + b became one Dense with a bias, softmax included
        last = next(node for node in nodes if node.type == "Dense" and node.params["units"] == 6)
        assert last.params["use_bias"] and last.params["activation"] == "softmax"


def test_a_py_file_imports_with_constructor_arguments_and_a_weights_file(tmp_path):
    module = randomized(SAMPLES["PlainCNN"](classes=7))
    torch.save(module.state_dict(), tmp_path / "weights.pt")
    imported = import_model(SAMPLES_FILE, class_name="PlainCNN", class_args='{"classes": 7}',
                            input_shape=INPUT_SHAPE, weights=tmp_path / "weights.pt")
    assert imported.format == "pytorch" and imported.name == "PlainCNN"
    x = batch(5)
    np.testing.assert_allclose(run_imported(imported, x).numpy(), module_output(module, x).numpy(), atol=ATOL)


def test_a_safetensors_weights_file_works_too(tmp_path):
    from safetensors.torch import save_file

    module = randomized(SAMPLES["InceptionBlock"](), seed=4)
    save_file(module.state_dict(), tmp_path / "weights.safetensors")
    imported = import_model(SAMPLES_FILE, class_name="InceptionBlock", input_shape=INPUT_SHAPE,
                            weights=tmp_path / "weights.safetensors")
    x = batch(6)
    np.testing.assert_allclose(run_imported(imported, x).numpy(), module_output(module, x).numpy(), atol=ATOL)


def test_imports_are_laid_out_in_rows_with_branches_side_by_side():
    network = import_module(SAMPLES["InceptionBlock"]().eval(), INPUT_SHAPE).network
    position = {node.name: node.position for node in network.nodes}
    for node in network.nodes:
        for source in network.inputs_of(node.id):
            assert network.node(source).position[1] < node.position[1]  # every layer below its inputs
    first_of_each_branch = ["branch1", "branch3_reduce", "branch5_reduce", "branch_pool"]
    assert len({position[name][1] for name in first_of_each_branch}) == 1  # one row...
    assert len({position[name][0] for name in first_of_each_branch}) == 4  # ...side by side
