"""One Keras layer's config, read as the catalog layer that computes the same thing.

``LayerReader.read`` looks only at the layer's ``config`` (plain JSON) and at what the studio
knows of its inputs (``TensorView``: shape channels first, the order of a flattened vector,
whether Keras holds it channels first too) and returns a ``CatalogLayer``: the catalog type,
its parameters and how its weights move, or no layer at all for an identity.  Anything the
catalog cannot say is an ``UnsupportedModelError`` naming the layer and what is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cnnstudio.core.layers.activation import ACTIVATION_STRING_SLOPE
from cnnstudio.core.layers.base import ACTIVATIONS

from .keras_graph import KerasNode
from .keras_layout import FeatureOrder, Shape, channels_first, flattened, is_plain, same_order
from .keras_vocabulary import ACTIVATION_FUNCTIONS, RELU6_CAP
from .keras_weights import BATCHNORM, CONV, DENSE, DEPTHWISE, SEPARABLE, WeightRule
from .model_import import UnsupportedModelError

#: Keras activation layer class -> the catalog type (Activation("name") is looked up by name)
ACTIVATION_LAYERS = {"ReLU": "ReLU", "LeakyReLU": "LeakyReLU", "ELU": "ELU", "Softmax": "Softmax"}
#: activation functions that are layers of their own in the catalog
ACTIVATION_TYPES = {"relu": "ReLU", "relu6": "ReLU6", "softmax": "Softmax", "elu": "ELU",
                    "leaky_relu": "LeakyReLU", **{function: type_name for type_name, function in ACTIVATION_FUNCTIONS.items()}}
POOLS = {"MaxPooling2D": "MaxPool2D", "MaxPool2D": "MaxPool2D", "AveragePooling2D": "AvgPool2D",
         "AvgPool2D": "AvgPool2D"}
GLOBAL_POOLS = {"GlobalAveragePooling2D": "GlobalAveragePooling2D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
                "GlobalMaxPooling2D": "GlobalMaxPooling2D", "GlobalMaxPool2D": "GlobalMaxPooling2D"}


@dataclass
class TensorView:
    """A Keras layer's output as the studio sees it: the node that makes it, its
    channels-first shape and, for a vector, its order against Keras's.

    ``channels_first``: Keras holds this image channels first too, exactly as the studio
    does; only a ``Permute`` back to channels last, a ``Reshape`` or a ``Flatten`` may
    follow (this is how CNN Studio's own Keras export writes a ``Reshape`` into an image)."""

    node_id: str
    shape: Shape
    order: FeatureOrder | None = None
    channels_first: bool = False


@dataclass
class CatalogLayer:
    """What one Keras layer becomes: a catalog layer (or nothing, for an identity)."""

    type: str | None
    params: dict[str, Any]
    weights: WeightRule | None = None
    channels_first: bool = False  # the output's layout in Keras (see TensorView)


class LayerReader:
    """Reads layers one at a time; ``notes`` collects what was approximated, in plain words;
    ``dense_output_order`` names the Dense layers whose units a Reshape regroups (see
    ``keras_import``)."""

    def __init__(self, notes: list[str], dense_output_order: dict[str, FeatureOrder]) -> None:
        self.notes = notes
        self.dense_output_order = dense_output_order
        self.where = ""

    def read(self, node: KerasNode, inputs: list[TensorView], where: str) -> CatalogLayer:
        self.where = where
        return self._translate(node, inputs)

    def _fail(self, node: KerasNode, need: str) -> UnsupportedModelError:
        return UnsupportedModelError(node.name, node.class_name, self.where, need)

    # ----- Keras layer -> catalog layer
    def _translate(self, node: KerasNode, inputs: list[TensorView]) -> CatalogLayer:
        c, kind = node.config, node.class_name
        if c.get("data_format") not in (None, "channels_last"):
            raise self._fail(node, f"data_format={c['data_format']!r}: only channels_last Keras models "
                                   "(Keras's default) can be read")
        self._note_training_only(node)
        if any(tensor.channels_first for tensor in inputs) and kind not in ("Permute", "Reshape", "Flatten"):
            raise self._fail(node, "its input is an image that Keras holds channels first (after a Permute, or a "
                                   "Reshape that does not directly follow a Dense layer), which CNN Studio cannot "
                                   "follow with this layer; permute it back to channels last first")
        if kind == "InputLayer":
            return self._input(node)
        if kind == "Permute":
            return self._permute(node, inputs)
        if kind in ("Conv2D", "Conv1D", "DepthwiseConv2D", "SeparableConv2D"):
            return self._convolution(node, inputs)
        if kind in POOLS:
            params = {"kernel_size": _ints(c["pool_size"]), "padding": self._padding(node),
                      "strides": None if c.get("strides") in (None, c["pool_size"]) else _ints(c["strides"])}
            return CatalogLayer(POOLS[kind], params)
        if kind in GLOBAL_POOLS:
            if c.get("keepdims"):
                raise self._fail(node, "keepdims=True: CNN Studio's global pooling returns a vector")
            return CatalogLayer(GLOBAL_POOLS[kind], {})
        if kind == "AdaptiveAveragePooling2D":
            size = _ints(c["output_size"])
            return CatalogLayer("AdaptiveAvgPool2D", {"output_size": size * 2 if len(size) == 1 else size})
        if kind == "Dense":
            if len(inputs[0].shape) != 1:
                raise self._fail(node, "a Dense layer on a tensor of rank > 1; CNN Studio's Dense reads flat "
                                       "vectors: put a Flatten before it")
            rule = WeightRule(DENSE, "", bool(c.get("use_bias", True)), order=inputs[0].order,
                              output_order=self.dense_output_order.get(node.name))
            return CatalogLayer("Dense", {"units": c["units"], "use_bias": rule.bias,
                                          "activation": self._activation(node)}, rule)
        if kind == "Dropout":
            return CatalogLayer("Dropout", {"rate": c["rate"]})
        if kind == "BatchNormalization":
            return self._batchnorm(node, inputs)
        if kind == "Flatten":
            return CatalogLayer("Flatten", {})
        if kind == "Reshape":
            return self._reshape(node, inputs)
        if kind == "ZeroPadding2D":
            (top, bottom), (left, right) = _sides(c["padding"])
            return CatalogLayer("ZeroPadding2D", {"top": top, "bottom": bottom, "left": left, "right": right})
        if kind == "UpSampling2D":
            if c.get("interpolation", "nearest") not in ("nearest", "bilinear"):
                raise self._fail(node, f"interpolation={c['interpolation']!r}: CNN Studio upsamples with "
                                       "'nearest' or 'bilinear'")
            return CatalogLayer("UpSampling2D", {"size": _ints(c["size"]),
                                                 "interpolation": c.get("interpolation", "nearest")})
        if kind == "Activation":
            function = self._activation(node)
            if function == "leaky_relu":  # the function's slope, not the LeakyReLU layer's
                return CatalogLayer("LeakyReLU", {"alpha": ACTIVATION_STRING_SLOPE})
            return CatalogLayer(ACTIVATION_TYPES[function] if function != "linear" else None, {})
        if kind in ACTIVATION_LAYERS:
            return self._activation_layer(node, inputs)
        if kind in ("Add", "Concatenate"):
            axis = c.get("axis", -1)
            if kind == "Concatenate" and axis not in (-1, len(inputs[0].shape)):
                raise self._fail(node, f"axis={axis}: CNN Studio concatenates along the channels (axis=-1)")
            return CatalogLayer(kind, {})
        raise self._fail(node, f"CNN Studio's catalog has no {kind} layer")

    def _input(self, node: KerasNode) -> CatalogLayer:
        shape = node.config.get("batch_shape") or node.config.get("batch_input_shape")
        if not isinstance(shape, list) or not 2 <= len(shape) <= 4:
            raise self._fail(node, "CNN Studio reads vectors, sequences (length, channels) and images "
                                   "(height, width, channels)")
        if any(not isinstance(size, int) or size < 1 for size in shape[1:]):
            raise self._fail(node, f"the input shape {tuple(shape[1:])} has sizes left open; CNN Studio needs "
                                   "every size but the batch fixed")
        return CatalogLayer("Input", {"shape": list(channels_first(shape[1:]))})

    def _convolution(self, node: KerasNode, inputs: list[TensorView]) -> CatalogLayer:
        c, kind = node.config, node.class_name
        one_d = kind == "Conv1D"
        size = (lambda v: _ints(v)[0]) if one_d else _ints
        params: dict[str, Any] = {"kernel_size": size(c["kernel_size"]), "strides": size(c.get("strides", 1)),
                                  "padding": self._padding(node), "dilation_rate": size(c.get("dilation_rate", 1)),
                                  "use_bias": bool(c.get("use_bias", True)), "activation": self._activation(node)}
        if kind in ("Conv2D", "Conv1D", "SeparableConv2D"):
            params["filters"] = c["filters"]
        if kind in ("DepthwiseConv2D", "SeparableConv2D"):
            params["depth_multiplier"] = c.get("depth_multiplier", 1)
        if kind == "Conv2D":
            params["groups"] = c.get("groups", 1)
        rule_kind = {"DepthwiseConv2D": DEPTHWISE, "SeparableConv2D": SEPARABLE}.get(kind, CONV)
        return CatalogLayer(kind, params, WeightRule(rule_kind, "", params["use_bias"],
                                                     depth_multiplier=params.get("depth_multiplier", 1)))

    def _permute(self, node: KerasNode, inputs: list[TensorView]) -> CatalogLayer:
        """Only the two moves between channels last and channels first, which the studio's
        layout makes identities; anything else would need a Permute layer in the catalog."""
        dims, rank = list(node.config.get("dims", [])), len(inputs[0].shape)
        if not inputs[0].channels_first and rank > 1 and dims == [rank, *range(1, rank)]:
            return CatalogLayer(None, {}, channels_first=True)
        if inputs[0].channels_first and dims == [*range(2, rank + 1), 1]:
            return CatalogLayer(None, {})
        raise self._fail(node, "CNN Studio's catalog has no Permute layer; only moves between channels last "
                               "and channels first around a Reshape can be imported")

    def _padding(self, node: KerasNode) -> str:
        padding = node.config.get("padding", "valid")
        if padding not in ("valid", "same"):
            raise self._fail(node, f"padding={padding!r}: CNN Studio pads with 'valid' or 'same'")
        return padding

    def _activation(self, node: KerasNode) -> str:
        function = node.config.get("activation", "linear")
        if function is None:
            return "linear"
        if not isinstance(function, str) or function not in ACTIVATIONS:
            shown = function if isinstance(function, str) else "a custom function"
            raise self._fail(node, f"activation {shown!r}: CNN Studio has {', '.join(ACTIVATIONS)}")
        return function

    def _activation_layer(self, node: KerasNode, inputs: list[TensorView]) -> CatalogLayer:
        c, kind = node.config, node.class_name
        if kind == "ReLU":
            slope = c.get("negative_slope", 0.0) or 0.0
            capped = c.get("max_value")
            if capped == RELU6_CAP and not slope and not c.get("threshold", 0.0):
                return CatalogLayer("ReLU6", {})
            if capped is not None or c.get("threshold", 0.0):
                raise self._fail(node, "ReLU with a max_value other than 6 or a threshold: CNN Studio has "
                                       "ReLU and ReLU6 only")
            return CatalogLayer("LeakyReLU", {"alpha": slope}) if slope else CatalogLayer("ReLU", {})
        if kind == "LeakyReLU":
            return CatalogLayer("LeakyReLU", {"alpha": c.get("negative_slope", c.get("alpha", 0.3))})
        if kind == "ELU":
            return CatalogLayer("ELU", {"alpha": c.get("alpha", 1.0)})
        axis = c.get("axis", -1)
        if axis not in (-1, len(inputs[0].shape), [-1]):
            raise self._fail(node, f"axis={axis}: CNN Studio's Softmax works over the channels (axis=-1)")
        return CatalogLayer("Softmax", {})

    def _batchnorm(self, node: KerasNode, inputs: list[TensorView]) -> CatalogLayer:
        c = node.config
        axis = c.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, len(inputs[0].shape)):
            raise self._fail(node, f"axis={axis}: CNN Studio normalises the channels (axis=-1)")
        center, scale = bool(c.get("center", True)), bool(c.get("scale", True))
        if center != scale:
            self.notes.append(f"{node.name}: Keras learns only {'beta' if center else 'gamma'}; CNN Studio "
                              f"learns both, starting from Keras's values ({'gamma = 1' if center else 'beta = 0'})")
        rule = WeightRule(BATCHNORM, "", center=center, scale=scale, order=inputs[0].order)
        return CatalogLayer("BatchNorm", {"momentum": c.get("momentum", 0.99), "epsilon": c.get("epsilon", 1e-3),
                                          "affine": center or scale}, rule)

    def _reshape(self, node: KerasNode, inputs: list[TensorView]) -> CatalogLayer:
        source = inputs[0]
        target = list(node.config["target_shape"])
        if -1 in target:  # the one -1 makes the product of the others negative
            target[target.index(-1)] = math.prod(source.shape) // -math.prod(target)
        if source.channels_first:  # Keras holds the values in the studio's order already
            return CatalogLayer("Reshape", {"target_shape": target}, channels_first=len(target) > 1)
        if len(target) == 1:
            return CatalogLayer("Reshape", {"target_shape": target})
        vector_order = source.order if len(source.shape) == 1 else flattened(source.shape)
        if same_order(vector_order, flattened(channels_first(target))):
            return CatalogLayer("Reshape", {"target_shape": list(channels_first(target))})
        if len(source.shape) == 1 and is_plain(vector_order):  # the image is channels first in Keras too
            return CatalogLayer("Reshape", {"target_shape": target}, channels_first=True)
        raise self._fail(node, "it regroups values that CNN Studio holds channels first into another "
                               "channels-last shape; only reshapes that follow a Dense layer (or keep one "
                               "channel) can be imported")

    def _note_training_only(self, node: KerasNode) -> None:
        dropped = [key for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                                   "kernel_constraint", "bias_constraint") if node.config.get(key)]
        if dropped:
            self.notes.append(f"{node.name}: {', '.join(dropped)} not imported (CNN Studio trains without them)")


def _ints(value: Any) -> list[int]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return [int(v) for v in values]


def _sides(padding: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras's ZeroPadding2D padding (an int, two ints, or two pairs) as ((top, bottom), (left, right))."""
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    first, second = padding
    first = tuple(first) if isinstance(first, (list, tuple)) else (first, first)
    second = tuple(second) if isinstance(second, (list, tuple)) else (second, second)
    return (int(first[0]), int(first[1])), (int(second[0]), int(second[1]))
