"""Keras 3's names for what CNN Studio draws, in one place for export, import and the summary.

Keras files address a layer's weights not by its name but by its class: the weights of
``model.layers`` are stored under ``layers/<snake_case class>`` with ``_1``, ``_2`` ...
for the second and later layers of a class (``keras/src/saving/saving_lib.py``), so the
class names here decide where weights go in a ``.weights.h5`` file as well as what a
summary prints.
"""

from __future__ import annotations

import re
from typing import Iterable

#: studio layer type -> the Keras 3 class it becomes (activation layers without a class of
#: their own become ``layers.Activation("name")``; see ``ACTIVATION_FUNCTIONS``)
KERAS_CLASS = {
    "Input": "InputLayer",
    "Conv2D": "Conv2D",
    "Conv1D": "Conv1D",
    "DepthwiseConv2D": "DepthwiseConv2D",
    "SeparableConv2D": "SeparableConv2D",
    "MaxPool2D": "MaxPooling2D",
    "AvgPool2D": "AveragePooling2D",
    "GlobalAveragePooling2D": "GlobalAveragePooling2D",
    "GlobalMaxPooling2D": "GlobalMaxPooling2D",
    "AdaptiveAvgPool2D": "AdaptiveAveragePooling2D",
    "Dense": "Dense",
    "Dropout": "Dropout",
    "BatchNorm": "BatchNormalization",
    "Flatten": "Flatten",
    "Reshape": "Reshape",
    "ZeroPadding2D": "ZeroPadding2D",
    "UpSampling2D": "UpSampling2D",
    "ReLU": "ReLU",
    "ReLU6": "ReLU",  # with max_value=6
    "LeakyReLU": "LeakyReLU",
    "ELU": "ELU",
    "Softmax": "Softmax",
    "GELU": "Activation",
    "Sigmoid": "Activation",
    "Tanh": "Activation",
    "Add": "Add",
    "Concatenate": "Concatenate",
}

#: studio activation layers that Keras writes as ``layers.Activation(<function name>)``
ACTIVATION_FUNCTIONS = {"GELU": "gelu", "Sigmoid": "sigmoid", "Tanh": "tanh"}

#: the cap of ReLU6, Keras's ``ReLU(max_value=...)``
RELU6_CAP = 6.0

#: Keras's own defaults of the layer arguments CNN Studio has (left out of generated code)
LEAKY_RELU_SLOPE = 0.3
ELU_ALPHA = 1.0
BATCHNORM_MOMENTUM = 0.99
BATCHNORM_EPSILON = 1e-3


def snake_case(class_name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, as ``keras.src.utils.naming.to_snake_case``."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def weight_paths(class_names: Iterable[str]) -> list[str]:
    """The ``.weights.h5`` group of each layer of ``model.layers``, given their classes in order:
    ``["Conv2D", "Conv2D", "Dense"]`` -> ``["layers/conv2d", "layers/conv2d_1", "layers/dense"]``."""
    used: dict[str, int] = {}
    paths = []
    for class_name in class_names:
        base = snake_case(class_name)
        if base in used:
            used[base] += 1
            paths.append(f"layers/{base}_{used[base]}")
        else:
            used[base] = 0
            paths.append(f"layers/{base}")
    return paths
