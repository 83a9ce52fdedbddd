"""The builder against the analysis: every shape and parameter count the analysis predicts is
what torch computes, for the lecture's net, for every layer option, and for random graphs."""

from __future__ import annotations

import copy
import math
import pickle

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from cnnstudio.core import Network, NetworkError, analyze, sequential
from cnnstudio.core.build import (MODEL_ATTRIBUTES, BuildError, BuiltNetwork, build_model, layer_outputs,
                                  plan_network)
from cnnstudio.core.layers import name_problem
from lecture import lecture_net


# ---------------------------------------------------------------------- helpers

def graph(input_shape, layers, edges):
    """A network from ``layers`` (name -> (type, params)) and ``edges`` (source, target) by name."""
    network = Network()
    network.add_node("Input", {"shape": list(input_shape)}, name="input_1")
    for name, (type_name, params) in layers.items():
        network.add_node(type_name, params, name=name)
    for source, target in edges:
        network.connect(network.node_by_name(source).id, network.node_by_name(target).id)
    return network


def residual_net() -> Network:
    """A residual block (Add) followed by an Inception-like branch (Concatenate)."""
    return graph((3, 16, 16), {
        "stem": ("Conv2D", {"filters": 8, "padding": "same", "activation": "relu"}),
        "res_a": ("Conv2D", {"filters": 8, "padding": "same", "activation": "relu"}),
        "res_b": ("Conv2D", {"filters": 8, "padding": "same"}),
        "res_add": ("Add", {}),
        "res_relu": ("ReLU", {}),
        "pool": ("MaxPool2D", {"kernel_size": 2}),
        "branch_1x1": ("Conv2D", {"filters": 4, "kernel_size": 1, "activation": "relu"}),
        "branch_pool": ("AvgPool2D", {"kernel_size": 3, "strides": 1, "padding": "same"}),
        "branch_bn": ("BatchNorm", {}),
        "joined": ("Concatenate", {}),
        "gap": ("GlobalAveragePooling2D", {}),
        "classes": ("Dense", {"units": 10, "activation": "softmax"}),
    }, [("input_1", "stem"), ("stem", "res_a"), ("res_a", "res_b"), ("res_b", "res_add"), ("stem", "res_add"),
        ("res_add", "res_relu"), ("res_relu", "pool"), ("pool", "branch_1x1"), ("pool", "branch_pool"),
        ("branch_pool", "branch_bn"), ("branch_1x1", "joined"), ("branch_bn", "joined"), ("joined", "gap"),
        ("gap", "classes")])


def trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def running_statistics(model: nn.Module) -> int:
    return sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))


def assert_built_like_analysis(network: Network, batch: int = 2) -> dict[str, torch.Tensor]:
    """Build ``network``, run a batch, and compare every layer with the analysis."""
    analysis = analyze(network)
    assert analysis.ok, [d.text for d in analysis.errors]
    model = build_model(network, analysis)
    outputs = layer_outputs(model, torch.randn(batch, *analysis.input_shape))
    assert list(outputs) == model.layer_names
    for name, value in outputs.items():
        predicted = analysis.by_name(name).output_shape
        assert tuple(value.shape) == (batch, *predicted), f"{name}: torch {tuple(value.shape[1:])}, " \
                                                          f"analysis {predicted}"
    used = [analysis.by_name(name) for name in model.layer_names]
    assert trainable(model) == sum(n.params.trainable for n in used)
    assert running_statistics(model) == sum(n.params.non_trainable for n in used)
    assert model.output_shape == analysis.output_shape
    return outputs


# ---------------------------------------------------------------------- the lecture's net

def test_lecture_mnist_net_builds_with_93322_params():
    model = build_model(lecture_net())
    assert trainable(model) == 93_322
    assert sum(p.numel() for p in model.parameters()) == 93_322
    assert isinstance(model, BuiltNetwork)
    assert model.layer_names == ["input_1", "conv2d_1", "maxpooling2d_1", "conv2d_2", "maxpooling2d_2",
                                 "conv2d_3", "flatten_1", "dense_1", "dense_2"]
    assert model.input_shape == (1, 28, 28) and model.output_shape == (10,)
    assert model.final_softmax


def test_lecture_net_layer_shapes_seen_by_forward_hooks_equal_the_analysis():
    network = lecture_net()
    analysis = analyze(network)
    model = build_model(network)
    seen = {}
    for name in model.layer_names:
        tap = model.taps.get_submodule(name)
        tap.register_forward_hook(lambda module, args, output, name=name: seen.__setitem__(name, output.shape))
    model(torch.randn(3, 1, 28, 28))
    assert list(seen) == model.layer_names
    for name, shape in seen.items():
        assert tuple(shape) == (3, *analysis.by_name(name).output_shape)
    assert_built_like_analysis(network)


def test_lecture_net_outputs_are_probabilities():
    model = build_model(lecture_net()).eval()
    probabilities = model(torch.randn(5, 1, 28, 28))
    assert torch.all(probabilities >= 0)
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(5), atol=1e-6)


def test_logits_differ_from_forward_by_exactly_the_softmax():
    model = build_model(lecture_net()).eval()
    x = torch.randn(4, 1, 28, 28)
    logits = model.logits(x)
    assert not torch.allclose(logits.sum(dim=1), torch.ones(4))
    assert torch.equal(F.softmax(logits, dim=1), model(x))


def test_a_softmax_layer_last_is_a_final_softmax_too():
    model = build_model(sequential([("Input", {"shape": [6]}), ("Dense", {"units": 3}), ("Softmax", {})])).eval()
    x = torch.randn(2, 6)
    assert model.final_softmax
    assert torch.equal(model.logits(x), model.dense_1(x))
    assert torch.equal(model(x), F.softmax(model.dense_1(x), dim=1))


def test_without_a_final_softmax_logits_equal_forward():
    network = sequential([("Input", {"shape": [6]}), ("Dense", {"units": 3, "activation": "softmax"}),
                          ("Dense", {"units": 2, "activation": "sigmoid"})])
    model = build_model(network).eval()
    x = torch.randn(2, 6)
    assert not model.final_softmax
    assert torch.equal(model.logits(x), model(x))


def test_taps_see_each_layer_after_its_activation():
    model = build_model(lecture_net())
    seen = {}
    model.taps.conv2d_1.register_forward_hook(lambda module, args, output: seen.__setitem__("relu", output))
    model.conv2d_1.register_forward_hook(lambda module, args, output: seen.__setitem__("conv", output))
    model(torch.randn(2, 1, 28, 28))
    assert torch.equal(seen["relu"], F.relu(seen["conv"]))


def test_state_dict_keys_are_the_layer_names_and_taps_hold_no_state():
    model = build_model(lecture_net())
    assert list(model.state_dict()) == [f"{name}.{kind}" for name in ("conv2d_1", "conv2d_2", "conv2d_3",
                                                                       "dense_1", "dense_2")
                                        for kind in ("weight", "bias")]


# ---------------------------------------------------------------------- errors

def test_build_refuses_a_network_with_errors_and_names_them():
    network = sequential([("Input", {"shape": [1, 12, 12]}), *[layer for layer in [
        ("Conv2D", {"filters": 32, "activation": "relu"}), ("MaxPool2D", {}),
        ("Conv2D", {"filters": 64, "activation": "relu"}), ("MaxPool2D", {}),
        ("Conv2D", {"filters": 64, "activation": "relu"})]]])
    with pytest.raises(BuildError) as caught:
        build_model(network)
    assert "conv2d_3: its 3x3 kernel does not fit the 1x1 input" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert [d.node_name for d in caught.value.errors] == ["conv2d_3"]


def test_build_refuses_an_empty_network():
    with pytest.raises(BuildError, match="it is empty"):
        build_model(Network())


def test_dead_ends_are_left_out():
    network = graph((1, 8, 8), {"conv": ("Conv2D", {"filters": 2}), "unused": ("Conv2D", {"filters": 3}),
                                "flat": ("Flatten", {}), "out": ("Dense", {"units": 2})},
                    [("input_1", "conv"), ("conv", "unused"), ("conv", "flat"), ("flat", "out")])
    model = build_model(network)
    assert "unused" not in model.layer_names and not hasattr(model, "unused")
    assert_built_like_analysis(network)


def test_every_torch_module_attribute_is_a_reserved_layer_name():
    public = [name for name in dir(nn.Module) if not name.startswith("_")]
    allowed = [name for name in [*public, *MODEL_ATTRIBUTES] if name_problem(name) is None]
    assert allowed == [], "layer names that would hide a model attribute"


# ---------------------------------------------------------------------- every layer option

def chain(input_shape, *layers):
    return sequential([("Input", {"shape": list(input_shape)}), *layers])


CASES = {
    # 'same' follows Keras: out = ceil(n / stride), the odd pixel padded at the bottom/right
    "same_stride2_odd": chain((2, 7, 7), ("Conv2D", {"filters": 3, "strides": 2, "padding": "same"})),
    "same_stride2_even": chain((2, 8, 8), ("Conv2D", {"filters": 3, "strides": 2, "padding": "same"})),
    "same_stride3_odd": chain((2, 11, 7), ("Conv2D", {"filters": 3, "strides": 3, "padding": "same"})),
    "same_stride3_even": chain((2, 12, 8), ("Conv2D", {"filters": 3, "strides": 3, "padding": "same"})),
    "same_even_kernel": chain((2, 9, 10), ("Conv2D", {"filters": 3, "kernel_size": [4, 2], "padding": "same"})),
    "same_kernel_below_stride": chain((1, 10, 9), ("Conv2D", {"filters": 2, "kernel_size": 1, "strides": 3,
                                                               "padding": "same"})),
    "dilation_valid": chain((1, 12, 12), ("Conv2D", {"filters": 2, "dilation_rate": 2})),
    "dilation_same": chain((1, 12, 11), ("Conv2D", {"filters": 2, "dilation_rate": [2, 3], "padding": "same"})),
    "groups": chain((4, 6, 6), ("Conv2D", {"filters": 8, "groups": 4, "use_bias": False})),
    "explicit_padding": chain((1, 5, 6), ("Conv2D", {"filters": 2, "kernel_size": 5, "padding": "explicit",
                                                     "pad": [2, 1], "strides": [1, 2]})),
    "conv1d": chain((3, 20), ("Conv1D", {"filters": 4, "kernel_size": 5, "activation": "tanh"}),
                    ("Conv1D", {"filters": 4, "strides": 3, "padding": "same"}),
                    ("Conv1D", {"filters": 2, "dilation_rate": 2, "padding": "same"}),
                    ("Conv1D", {"filters": 2, "padding": "explicit", "pad": 2})),
    "depthwise": chain((3, 9, 9), ("DepthwiseConv2D", {"depth_multiplier": 2, "strides": 2, "padding": "same"})),
    "separable": chain((3, 9, 9), ("SeparableConv2D", {"filters": 5, "depth_multiplier": 2, "padding": "same",
                                                       "activation": "elu"})),
    "max_pool_same": chain((2, 7, 8), ("MaxPool2D", {"kernel_size": 3, "strides": 2, "padding": "same"})),
    "avg_pool_same": chain((2, 7, 8), ("AvgPool2D", {"kernel_size": 2, "strides": 3, "padding": "same"})),
    "avg_pool_same_stride_1": chain((2, 6, 5), ("AvgPool2D", {"kernel_size": [2, 3], "strides": 1,
                                                               "padding": "same"})),
    "pool_explicit": chain((2, 7, 8), ("MaxPool2D", {"kernel_size": 3, "strides": 1, "padding": "explicit",
                                                     "pad": 1}),
                           ("AvgPool2D", {"kernel_size": [2, 4], "padding": "explicit", "pad": [1, 2]})),
    "batchnorm_image": chain((3, 5, 5), ("BatchNorm", {})),
    "batchnorm_sequence": chain((3, 5), ("BatchNorm", {"affine": False})),
    "batchnorm_vector": chain((6,), ("BatchNorm", {"momentum": 0.9})),
    "upsampling": chain((2, 3, 4), ("UpSampling2D", {"size": [2, 3]}),
                        ("UpSampling2D", {"size": 2, "interpolation": "bilinear"})),
    "zero_padding": chain((1, 4, 4), ("ZeroPadding2D", {"top": 1, "bottom": 2, "left": 0, "right": 3})),
    "reshape": chain((2, 6, 4), ("Reshape", {"target_shape": [-1, 4]}), ("Reshape", {"target_shape": [3, 4, -1]}),
                     ("Flatten", {}), ("Reshape", {"target_shape": [48]})),
    "global_pooling": chain((4, 5, 3), ("GlobalAveragePooling2D", {}), ("Dense", {"units": 2})),
    "global_max_pooling": chain((4, 5, 3), ("GlobalMaxPooling2D", {})),
    "adaptive_pooling": chain((3, 13, 12), ("AdaptiveAvgPool2D", {"output_size": [6, 4]}),
                              ("AdaptiveAvgPool2D", {"output_size": [7, 8]}), ("Flatten", {}), ("Dense", {"units": 2})),
    "activations": chain((2, 4, 4), ("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {"alpha": 0.1}), ("ELU", {}), ("GELU", {}),
                         ("Sigmoid", {}), ("Tanh", {}), ("Softmax", {}), ("Dropout", {"rate": 0.2})),
    "dense_activations": chain((5,), *[("Dense", {"units": 4, "activation": a, "use_bias": a != "gelu"})
                                       for a in ("linear", "relu", "relu6", "leaky_relu", "elu", "gelu", "sigmoid",
                                                 "tanh", "softmax")]),
    "residual_and_concatenate": residual_net(),
}


@pytest.mark.parametrize("name", list(CASES))
def test_built_shapes_and_params_equal_the_analysis(name):
    assert_built_like_analysis(CASES[name])


def test_batchnorm_counts_like_keras():
    network = chain((3, 5, 5), ("BatchNorm", {}), ("Flatten", {}), ("BatchNorm", {"affine": False}))
    analysis = analyze(network)
    model = build_model(network)
    assert trainable(model) == analysis.trainable_params == 2 * 3
    assert running_statistics(model) == analysis.non_trainable_params == 2 * 3 + 2 * 75
    bn = model.batch_normalization_1
    assert (bn.eps, bn.momentum) == (1e-3, pytest.approx(0.01))


def test_add_sums_its_inputs_and_concatenate_keeps_the_wire_order():
    network = graph((2, 3, 3), {"relu": ("ReLU", {}), "add": ("Add", {}), "cat": ("Concatenate", {})},
                    [("input_1", "relu"), ("relu", "add"), ("input_1", "add"), ("relu", "cat"), ("add", "cat")])
    x = torch.randn(2, 2, 3, 3)
    outputs = layer_outputs(build_model(network), x)
    assert torch.equal(outputs["add"], F.relu(x) + x)
    assert torch.equal(outputs["cat"], torch.cat([F.relu(x), F.relu(x) + x], dim=1))


def test_same_padding_puts_the_odd_pixel_at_the_bottom_right():
    model = build_model(chain((1, 3, 3), ("Conv2D", {"filters": 1, "kernel_size": 2, "padding": "same",
                                                     "use_bias": False})))
    with torch.no_grad():
        model.conv2d_1.weight.fill_(1.0)
        out = model(torch.ones(1, 1, 3, 3))[0, 0]
    assert out.tolist() == [[4, 4, 2], [4, 4, 2], [2, 2, 1]]


def reference_pool(x: torch.Tensor, kernel, strides, pads_before, out_size, reduce) -> torch.Tensor:
    """Pooling over real pixels only, window by window: Keras's 'same' semantics."""
    height, width = x.shape[-2:]
    out = torch.empty(*x.shape[:-2], *out_size)
    for i in range(out_size[0]):
        for j in range(out_size[1]):
            top, left = i * strides[0] - pads_before[0], j * strides[1] - pads_before[1]
            window = x[..., max(top, 0):min(top + kernel[0], height), max(left, 0):min(left + kernel[1], width)]
            out[..., i, j] = reduce(window.reshape(*x.shape[:-2], -1))
    return out


@pytest.mark.parametrize("type_name", ["AvgPool2D", "MaxPool2D"])
@pytest.mark.parametrize("size, kernel, stride", [((5, 5), 2, 2), ((6, 7), 3, 2), ((7, 8), 2, 3),
                                                  ((8, 6), [3, 2], [1, 2]), ((4, 4), 4, 1), ((5, 6), [2, 3], [1, 2]),
                                                  ((6, 5), [4, 2], [2, 1]), ((3, 9), [1, 4], [3, 1])])
def test_same_pooling_uses_only_real_pixels_like_keras(type_name, size, kernel, stride):
    network = chain((2, *size), (type_name, {"kernel_size": kernel, "strides": stride, "padding": "same"}))
    analysis = analyze(network)
    kernel = [kernel] * 2 if isinstance(kernel, int) else kernel
    stride = [stride] * 2 if isinstance(stride, int) else stride
    out_size = analysis.output_shape[1:]
    pads = [max((o - 1) * s + k - n, 0) // 2 for o, s, k, n in zip(out_size, stride, kernel, size)]
    reduce = (lambda v: v.mean(dim=-1)) if type_name == "AvgPool2D" else (lambda v: v.amax(dim=-1))
    x = torch.randn(3, 2, *size)
    expected = reference_pool(x, kernel, stride, pads, out_size, reduce)
    assert torch.allclose(build_model(network)(x), expected, atol=1e-6)


@pytest.mark.parametrize("size", [1, 2, 5, 6, 7, 12, 13, 224])
@pytest.mark.parametrize("out", [1, 3, 6, 7])
def test_adaptive_pooling_averages_the_windows_torch_uses(size, out):
    network = chain((2, size, 5), ("AdaptiveAvgPool2D", {"output_size": [out, 2]}))
    x = torch.randn(3, 2, size, 5)
    built = build_model(network)(x)
    assert tuple(built.shape[1:]) == analyze(network).output_shape == (2, out, 2)
    assert torch.allclose(built, F.adaptive_avg_pool2d(x, (out, 2)), atol=1e-6)


@pytest.mark.parametrize("size, out", [(12, 6), (12, 4), (13, 6), (7, 3), (3, 7), (2, 6), (5, 5), (224, 7)])
def test_adaptive_pooling_receptive_field_covers_every_window(size, out):
    """Exact when the sizes divide; otherwise an upper bound: no output sees more rows than it says."""
    network = chain((1, size, size), ("AdaptiveAvgPool2D", {"output_size": out}))
    analysis = analyze(network)
    node = analysis.by_name("adaptive_avg_pool2d_1")
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    widest = 0
    for index in range(out):
        F.adaptive_avg_pool2d(x, out)[0, 0, index, 0].backward()
        seen_rows = int((x.grad[0, 0, :, 0] != 0).sum())
        widest = max(widest, seen_rows)
        x.grad = None
    assert node.receptive_field.size[0] >= widest
    if size % out == 0 or out % size == 0:
        assert node.receptive_field.size[0] == widest


def test_relu6_clips_at_zero_and_six():
    network = chain((1, 2, 3), ("ReLU6", {}))
    x = torch.tensor([[[[-3.0, 0.5, 6.0], [7.5, 2.0, -0.1]]]])
    assert build_model(network)(x).tolist() == [[[[0.0, 0.5, 6.0], [6.0, 2.0, 0.0]]]]
    conv = chain((1, 4, 4), ("Conv2D", {"filters": 2, "activation": "relu6"}))
    model = build_model(conv)
    x = torch.randn(2, 1, 4, 4) * 10
    assert torch.equal(model(x), torch.clamp(model.conv2d_1(x), 0, 6))


def test_pool_padding_above_half_the_window_is_an_analysis_error_as_in_torch():
    network = chain((1, 6, 6), ("MaxPool2D", {"kernel_size": 3, "strides": 1, "padding": "explicit", "pad": 2}))
    (error,) = analyze(network).errors
    assert error.text.startswith("maxpooling2d_1: its padding 2x2 is more than half of its 3x3 pool window")
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        nn.MaxPool2d(3, stride=1, padding=2)(torch.zeros(1, 1, 6, 6))
    with pytest.raises(BuildError):
        build_model(network)


# ---------------------------------------------------------------------- a model is a plain module

def test_built_model_can_be_exported_copied_and_pickled():
    model = build_model(residual_net()).eval()
    x = torch.randn(2, 3, 16, 16)
    expected = model(x)
    exported = torch.export.export(model, (x,)).module()
    assert torch.allclose(exported(x), expected, atol=1e-6)
    assert torch.equal(copy.deepcopy(model)(x), expected)
    assert torch.equal(pickle.loads(pickle.dumps(model))(x), expected)


def test_plan_lists_recipes_without_torch_objects():
    plan = plan_network(lecture_net())
    assert [step.name for step in plan.steps] == build_model(lecture_net()).layer_names
    assert plan.final_softmax and plan.final_call.name == "softmax"
    assert plan.trainable_params == 93_322 and plan.non_trainable_params == 0


# ---------------------------------------------------------------------- random graphs

ACTIVATIONS = ["linear", "relu", "relu6", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax"]


@st.composite
def window_params(draw, axes: int, pool: bool = False):
    def size(low, high):
        if axes == 1:
            return draw(st.integers(low, high))
        return draw(st.one_of(st.integers(low, high), st.lists(st.integers(low, high), min_size=2, max_size=2)))

    params = {"kernel_size": size(1, 4), "padding": draw(st.sampled_from(["valid", "same", "explicit"]))}
    params["strides"] = draw(st.one_of(st.none(), st.just(size(1, 3)))) if pool else size(1, 3)
    if params["padding"] == "explicit":
        params["pad"] = size(0, 2)
    strides = params["strides"] or 1
    if not pool and max(strides if isinstance(strides, list) else [strides]) == 1 and draw(st.booleans()):
        params["dilation_rate"] = size(1, 3)
    return params


def _image_layer(draw, channels: int):
    kind = draw(st.sampled_from(["Conv2D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPool2D",
                                 "AvgPool2D", "AdaptiveAvgPool2D", "BatchNorm", "Activation", "Dropout",
                                 "ZeroPadding2D", "UpSampling2D"]))
    if kind == "Conv2D":
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
        return kind, {**draw(window_params(2)), "filters": groups * draw(st.integers(1, 3)), "groups": groups,
                      "use_bias": draw(st.booleans()), "activation": draw(st.sampled_from(ACTIVATIONS))}
    if kind == "DepthwiseConv2D":
        return kind, {**draw(window_params(2)), "depth_multiplier": draw(st.integers(1, 2))}
    if kind == "SeparableConv2D":
        return kind, {**draw(window_params(2)), "filters": draw(st.integers(1, 4)),
                      "depth_multiplier": draw(st.integers(1, 2)), "activation": draw(st.sampled_from(ACTIVATIONS))}
    if kind in ("MaxPool2D", "AvgPool2D"):
        return kind, draw(window_params(2, pool=True))
    if kind == "AdaptiveAvgPool2D":
        return kind, {"output_size": [draw(st.integers(1, 6)), draw(st.integers(1, 6))]}
    if kind == "ZeroPadding2D":
        return kind, {side: draw(st.integers(0, 2)) for side in ("top", "bottom", "left", "right")}
    if kind == "UpSampling2D":
        return kind, {"size": [draw(st.integers(1, 2)), draw(st.integers(1, 3))],
                      "interpolation": draw(st.sampled_from(["nearest", "bilinear"]))}
    return _any_rank_layer(draw, kind)


def _any_rank_layer(draw, kind: str):
    if kind == "BatchNorm":
        return kind, {"affine": draw(st.booleans()), "momentum": draw(st.sampled_from([0.99, 0.9]))}
    if kind == "Dropout":
        return kind, {"rate": draw(st.sampled_from([0.0, 0.5]))}
    activation = draw(st.sampled_from(["ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax"]))
    return activation, {}


class _Builder:
    """Grows a network one layer at a time, keeping only layers the analysis accepts."""

    def __init__(self, input_shape):
        self.network = Network()
        self.last = self.network.add_node("Input", {"shape": list(input_shape)}).id

    @property
    def shape(self):
        return analyze(self.network).nodes[self.last].output_shape

    def add(self, type_name, params, *sources):
        """Add a layer fed by ``sources`` (default: the last one); False if the analysis refuses it."""
        try:
            node = self.network.add_node(type_name, params)
        except NetworkError:  # a combination the catalog refuses outright (stride with dilation)
            return None
        for source in sources or (self.last,):
            self.network.connect(source, node.id)
        if not analyze(self.network).nodes[node.id].ok:
            self.network.remove_nodes([node.id])
            return None
        return node.id


@st.composite
def valid_networks(draw):
    """Random valid graphs: chains of image, sequence or vector layers, sometimes with a
    residual Add, a Concatenate branch or a dead end, then a Flatten/global pooling and Dense."""
    rank = draw(st.sampled_from([3, 3, 3, 2, 1]))
    dims = {3: [st.integers(1, 4), st.integers(1, 12), st.integers(1, 12)],
            2: [st.integers(1, 4), st.integers(1, 24)], 1: [st.integers(1, 16)]}[rank]
    builder = _Builder([draw(d) for d in dims])
    for _ in range(draw(st.integers(1, 6))):
        shape = builder.shape
        extra = draw(st.sampled_from(["layer"] * 6 + ["residual", "concatenate", "dead_end"]))
        if extra == "residual" and len(shape) == 3:
            branch = builder.add("Conv2D", {"filters": shape[0], "kernel_size": draw(st.integers(1, 3)),
                                            "padding": "same", "activation": draw(st.sampled_from(ACTIVATIONS))})
            if branch is not None:
                sources = [branch, builder.last] if draw(st.booleans()) else [builder.last, branch]
                joined = builder.add("Add", {}, *sources)
                builder.last = joined or builder.last
            continue
        if extra == "concatenate" and len(shape) == 3:
            stride = draw(st.integers(1, 2))
            pooled = builder.add("MaxPool2D", {"kernel_size": 2, "strides": stride, "padding": "same"})
            conv = builder.add("Conv2D", {"filters": draw(st.integers(1, 3)), "strides": stride, "padding": "same"})
            if pooled is not None and conv is not None:
                builder.last = builder.add("Concatenate", {}, pooled, conv) or builder.last
            continue
        if extra == "dead_end":
            builder.add("Dropout", {})
            continue
        if len(shape) == 3:
            type_name, params = _image_layer(draw, shape[0])
        elif len(shape) == 2:
            if draw(st.booleans()):
                type_name, params = "Conv1D", {**draw(window_params(1)), "filters": draw(st.integers(1, 4)),
                                               "activation": draw(st.sampled_from(ACTIVATIONS))}
            else:
                type_name, params = _any_rank_layer(draw, draw(st.sampled_from(["BatchNorm", "Dropout", "Act"])))
        else:
            if draw(st.booleans()):
                type_name, params = "Dense", {"units": draw(st.integers(1, 8)),
                                              "activation": draw(st.sampled_from(ACTIVATIONS))}
            else:
                type_name, params = _any_rank_layer(draw, draw(st.sampled_from(["BatchNorm", "Dropout", "Act"])))
        builder.last = builder.add(type_name, params) or builder.last
    if len(builder.shape) == 3:
        head = draw(st.sampled_from(["Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D"]))
        builder.last = builder.add(head, {}) or builder.last
    elif len(builder.shape) == 2:
        builder.last = builder.add("Flatten", {}) or builder.last
    builder.add("Dense", {"units": draw(st.integers(1, 10)), "activation": draw(st.sampled_from(ACTIVATIONS))})
    return builder.network


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_networks())
def test_random_valid_graphs_build_exactly_as_analysed(network):
    assume(analyze(network).ok)
    assert_built_like_analysis(network, batch=2)  # in training mode, as built
    model = build_model(network).eval()
    with torch.no_grad():
        assert math.isfinite(float(model(torch.randn(2, *model.input_shape)).sum()))
