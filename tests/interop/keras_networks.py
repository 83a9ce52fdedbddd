"""Networks that use every layer type of the catalog in the ways Keras lays out differently:
strided and explicit padding, depthwise and separable convolutions, grouped and dilated
convolutions, BatchNorm on images and on flattened vectors, vectors flattened from images and
concatenated, Reshape between vectors and images, and 1-D sequences."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnstudio.core.network import Network
from cnnstudio.core.project import load_project

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "projects").glob("*.cnnproj"))


def _graph(layers: list[tuple], wires: list[tuple[str, str]]) -> Network:
    """``layers``: (name, type, params); ``wires``: (source, target) by name, in input order."""
    network = Network()
    ids = {}
    for index, (name, type_name, params) in enumerate(layers):
        ids[name] = network.add_node(type_name, params, name=name, position=(0.0, 110.0 * index)).id
    for source, target in wires:
        network.connect(ids[source], ids[target])
    return network


def _chain(layers: list[tuple]) -> Network:
    names = [layer[0] for layer in layers]
    return _graph(layers, list(zip(names, names[1:])))


def image_tour() -> Network:
    """Branches and merges over the image layers (a functional Keras model)."""
    layers = [
        ("image", "Input", {"shape": [3, 13, 11]}),
        ("strided", "Conv2D", {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same",
                               "activation": "leaky_relu"}),
        ("depthwise", "DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same",
                                          "activation": "elu"}),
        ("separable", "SeparableConv2D", {"filters": 12, "kernel_size": 3, "padding": "explicit", "pad": 1,
                                          "depth_multiplier": 2, "activation": "gelu"}),
        ("norm", "BatchNorm", {"momentum": 0.9, "epsilon": 1e-5}),
        ("average", "AvgPool2D", {"kernel_size": 3, "strides": 1, "padding": "same"}),
        ("upsample", "UpSampling2D", {"size": 2, "interpolation": "bilinear"}),
        ("pad", "ZeroPadding2D", {"top": 1, "bottom": 0, "left": 2, "right": 1}),
        ("grouped", "Conv2D", {"filters": 12, "kernel_size": 3, "groups": 3, "dilation_rate": 2,
                               "activation": "tanh", "use_bias": False}),
        ("leaky", "LeakyReLU", {"alpha": 0.1}),
        ("capped", "ReLU6", {}),
        ("pool", "MaxPool2D", {"kernel_size": 3, "strides": 2, "padding": "same"}),
        ("explicit", "Conv2D", {"filters": 6, "kernel_size": 3, "padding": "explicit", "pad": [2, 1],
                                "activation": "relu6"}),
        ("skip", "Conv2D", {"filters": 6, "kernel_size": 1, "padding": "explicit", "pad": [1, 0]}),
        ("sum", "Add", {}),
        ("elu", "ELU", {"alpha": 0.5}),
        ("adaptive", "AdaptiveAvgPool2D", {"output_size": [3, 2]}),  # windows of unequal size
        ("flat", "Flatten", {}),
        ("flat_norm", "BatchNorm", {"affine": False}),
        ("avg_all", "GlobalAveragePooling2D", {}),
        ("max_all", "GlobalMaxPooling2D", {}),
        ("joined", "Concatenate", {}),
        ("drop", "Dropout", {"rate": 0.25}),
        ("hidden", "Dense", {"units": 48, "activation": "sigmoid"}),
        ("grid", "Reshape", {"target_shape": [3, 4, 4]}),
        ("regrid", "Reshape", {"target_shape": [6, -1, 2]}),
        ("mix", "Conv2D", {"filters": 4, "kernel_size": 1}),
        ("gelu", "GELU", {}),
        ("unflat", "Reshape", {"target_shape": [-1]}),
        ("tanh", "Tanh", {}),
        ("sigmoid", "Sigmoid", {}),
        ("relu", "ReLU", {}),
        ("scores", "Dense", {"units": 5}),
        ("probabilities", "Softmax", {}),
    ]
    names = [layer[0] for layer in layers]
    chain_until = names.index("explicit")
    wires = list(zip(names[:chain_until], names[1:chain_until + 1]))
    wires += [("pool", "skip"), ("explicit", "sum"), ("skip", "sum"), ("sum", "elu"), ("elu", "adaptive"),
              ("adaptive", "flat"), ("flat", "flat_norm"), ("adaptive", "avg_all"), ("adaptive", "max_all"),
              ("flat_norm", "joined"), ("avg_all", "joined"), ("max_all", "joined")]
    after = names.index("joined")
    wires += list(zip(names[after:], names[after + 1:]))
    return _graph(layers, wires)


def sequence_chain() -> Network:
    """1-D layers in a chain (a Sequential Keras model)."""
    return _chain([
        ("signal", "Input", {"shape": [4, 21]}),
        ("conv_a", "Conv1D", {"filters": 6, "kernel_size": 5, "strides": 2, "padding": "same",
                              "activation": "relu"}),
        ("norm", "BatchNorm", {}),
        ("conv_b", "Conv1D", {"filters": 8, "kernel_size": 3, "padding": "explicit", "pad": 2,
                              "dilation_rate": 2}),
        ("soft", "Softmax", {}),
        ("flat", "Flatten", {}),
        ("out", "Dense", {"units": 3, "activation": "softmax"}),
    ])


def vector_chain() -> Network:
    """Vectors only, reshaped into an image with one channel and back."""
    return _chain([
        ("features", "Input", {"shape": [64]}),
        ("image", "Reshape", {"target_shape": [1, 8, 8]}),
        ("conv", "Conv2D", {"filters": 2, "kernel_size": 3, "padding": "same", "activation": "relu"}),
        ("flat", "Flatten", {}),
        ("out", "Dense", {"units": 4}),
    ])


def example_and_tour_networks() -> list:
    """``pytest.param(network, title)`` for every example project and every network above."""
    params = []
    for path in EXAMPLES:
        project = load_project(path)
        params.append(pytest.param(project.network, project.name, id=path.stem))
    for make in (image_tour, sequence_chain, vector_chain):
        params.append(pytest.param(make(), make.__name__, id=make.__name__))
    return params
