"""Keras 3 ``.keras`` files onto the canvas, with their weights.

``import_keras(path)`` reads the file as data (``keras_archive``: zipfile, json, h5py; no
Keras, no TensorFlow, no code from the file), walks its layers (``keras_graph``) and gives
each the catalog layer that computes the same thing, channels last turned into CNN Studio's
channels first: shapes, kernels (``keras_weights``) and the order of flattened vectors
(``keras_layout``), so the imported network's outputs equal Keras's.  A layer the catalog
cannot express is refused with ``UnsupportedModelError`` naming it; nothing is half imported.

Importing this module registers the ``.keras`` suffix with the shared import path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnstudio.core.layers import ShapeError, spec_for
from cnnstudio.core.layers.activation import ACTIVATION_STRING_SLOPE
from cnnstudio.core.layers.base import ACTIVATIONS, name_problem
from cnnstudio.core.layout import tidy_positions
from cnnstudio.core.network import Network, NetworkError

from .keras_archive import KerasArchive, read_keras_archive
from .keras_graph import KerasNode, read_graph
from .keras_layout import FeatureOrder, Shape, channels_first, flattened, is_plain, plain, same_order
from .keras_vocabulary import ACTIVATION_FUNCTIONS
from .keras_weights import BATCHNORM, CONV, DENSE, DEPTHWISE, SEPARABLE, WeightRule
from .model_import import ImportedModel, ModelImportError, UnsupportedModelError, register_importer

#: Keras layers that compute element by element (or, for Softmax, over the whole vector), so
#: a vector keeps whatever order it has through them
ORDER_KEEPING = {"Dropout", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "BatchNormalization"}
#: Keras activation layer class -> the catalog type (Activation("name") is looked up by name)
ACTIVATION_LAYERS = {"ReLU": "ReLU", "LeakyReLU": "LeakyReLU", "ELU": "ELU", "Softmax": "Softmax"}
#: activation functions that are layers of their own in the catalog
ACTIVATION_TYPES = {"relu": "ReLU", "softmax": "Softmax", "elu": "ELU", "leaky_relu": "LeakyReLU",
                    **{function: type_name for type_name, function in ACTIVATION_FUNCTIONS.items()}}
POOLS = {"MaxPooling2D": "MaxPool2D", "MaxPool2D": "MaxPool2D", "AveragePooling2D": "AvgPool2D",
         "AvgPool2D": "AvgPool2D"}
GLOBAL_POOLS = {"GlobalAveragePooling2D": "GlobalAveragePooling2D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
                "GlobalMaxPooling2D": "GlobalMaxPooling2D", "GlobalMaxPool2D": "GlobalMaxPooling2D"}


@dataclass
class _Tensor:
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
class _Layer:
    """What one Keras layer becomes: a catalog layer (or nothing, for an identity)."""

    type: str | None
    params: dict[str, Any]
    weights: WeightRule | None = None
    channels_first: bool = False  # the output's layout in Keras (see _Tensor)


def import_keras(path: str | Path, **options: Any) -> ImportedModel:
    """The network and weights of the Keras 3 model saved at ``path``."""
    if options:
        given = ", ".join(sorted(options))
        raise ModelImportError(f"{path}: {given} cannot be used with .keras files; the file holds its own "
                               "input shape and weights")
    archive = read_keras_archive(path)
    try:
        nodes, model_name = read_graph(archive.config, str(path))
        return _Importer(archive, nodes, model_name).run()
    finally:
        archive.close()


class _Importer:
    def __init__(self, archive: KerasArchive, nodes: list[KerasNode], model_name: str) -> None:
        self.archive = archive
        self.nodes = nodes
        self.model_name = model_name
        self.network = Network()
        self.tensors: dict[str, _Tensor] = {}
        self.weights: list[tuple[WeightRule, KerasNode]] = []
        self.notes: list[str] = []
        self.dense_output_order = self._dense_orders()

    def run(self) -> ImportedModel:
        for index, node in enumerate(self.nodes, start=1):
            self.where = f"at layer {index} of {len(self.nodes)}"
            self._add(node)
        self.network.move(tidy_positions(self.network))
        state = self._state_dict()
        # Keras's own default names say nothing: the project is then named after the file
        name = "" if re.fullmatch(r"(sequential|functional|model)(_\d+)?", self.model_name) else self.model_name
        return ImportedModel(self.network, state, str(self.archive.path), "keras", name=name, notes=self.notes)

    # ----- one layer
    def _add(self, node: KerasNode) -> None:
        inputs = [self.tensors[name] for name in node.inputs]
        try:
            layer = self._translate(node, inputs)
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, ModelImportError):
                raise
            raise ModelImportError(f"{self.archive.path}: layer {node.name!r} ({node.class_name}) has a config "
                                   f"CNN Studio cannot read ({type(error).__name__}: {error})") from None
        if layer.type is None:  # an identity: its output is its input (a Permute changes only the layout)
            source = inputs[0]
            self.tensors[node.name] = _Tensor(source.node_id, source.shape, source.order, layer.channels_first)
            return
        spec = spec_for(layer.type)
        name = self._studio_name(node.name, spec.name_prefix)
        try:
            created = self.network.add_node(layer.type, layer.params, name=name)
            for tensor in inputs:
                self.network.connect(tensor.node_id, created.id)
            shape = spec.output_shape(created.params, [tensor.shape for tensor in inputs])
        except (NetworkError, ShapeError, ValueError) as error:
            raise UnsupportedModelError(node.name, node.class_name, self.where,
                                        f"it does not fit CNN Studio's {layer.type}: {error}") from None
        order = self._order_after(node, layer, inputs, shape)
        self.tensors[node.name] = _Tensor(created.id, tuple(shape), order, layer.channels_first)
        if layer.weights is not None:
            self.weights.append((layer.weights, node))

    def _studio_name(self, name: str, prefix: str) -> str:
        if name_problem(name) is None and self.network.node_by_name(name) is None:
            return name
        fresh = self.network.unique_name(prefix)
        self.notes.append(f"layer {name!r} is named {fresh!r} (layer names must be Python identifiers)")
        return fresh

    def _order_after(self, node: KerasNode, layer: _Layer, inputs: list[_Tensor], shape: Shape) -> FeatureOrder | None:
        if len(shape) != 1:
            return None
        if layer.type == "Dense":
            return self.dense_output_order.get(node.name) or plain(shape[0])
        if layer.type == "Concatenate":
            return tuple(part for tensor in inputs for part in tensor.order)
        if layer.type in ("Flatten", "Reshape") and len(inputs[0].shape) > 1:
            return plain(shape[0]) if inputs[0].channels_first else flattened(inputs[0].shape)
        if inputs and inputs[0].order is not None:
            return inputs[0].order
        return plain(shape[0])

    def _fail(self, node: KerasNode, need: str) -> UnsupportedModelError:
        return UnsupportedModelError(node.name, node.class_name, self.where, need)

    # ----- Keras layer -> catalog layer
    def _translate(self, node: KerasNode, inputs: list[_Tensor]) -> _Layer:
        c, kind = node.config, node.class_name
        if c.get("data_format") not in (None, "channels_last"):
            raise self._fail(node, f"data_format={c['data_format']!r}: only channels_last Keras models "
                                   "(Keras's default) can be read")
        self._note_training_only(node)
        if any(tensor.channels_first for tensor in inputs) and kind not in ("Permute", "Reshape", "Flatten"):
            raise self._fail(node, "it works on a tensor that a Permute left channels first, a layout CNN Studio "
                                   "cannot follow; permute it back to channels last first")
        if kind == "InputLayer":
            return self._input(node)
        if kind == "Permute":
            return self._permute(node, inputs)
        if kind in ("Conv2D", "Conv1D", "DepthwiseConv2D", "SeparableConv2D"):
            return self._convolution(node, inputs)
        if kind in POOLS:
            params = {"kernel_size": _ints(c["pool_size"]), "padding": self._padding(node),
                      "strides": None if c.get("strides") in (None, c["pool_size"]) else _ints(c["strides"])}
            return _Layer(POOLS[kind], params)
        if kind in GLOBAL_POOLS:
            if c.get("keepdims"):
                raise self._fail(node, "keepdims=True: CNN Studio's global pooling returns a vector")
            return _Layer(GLOBAL_POOLS[kind], {})
        if kind == "Dense":
            if len(inputs[0].shape) != 1:
                raise self._fail(node, "a Dense layer on a tensor of rank > 1; CNN Studio's Dense reads flat "
                                       "vectors: put a Flatten before it")
            rule = WeightRule(DENSE, "", bool(c.get("use_bias", True)), order=inputs[0].order,
                              output_order=self.dense_output_order.get(node.name))
            return _Layer("Dense", {"units": c["units"], "use_bias": rule.bias,
                                    "activation": self._activation(node)}, rule)
        if kind == "Dropout":
            return _Layer("Dropout", {"rate": c["rate"]})
        if kind == "BatchNormalization":
            return self._batchnorm(node, inputs)
        if kind == "Flatten":
            return _Layer("Flatten", {})
        if kind == "Reshape":
            return self._reshape(node, inputs)
        if kind == "ZeroPadding2D":
            (top, bottom), (left, right) = _sides(c["padding"])
            return _Layer("ZeroPadding2D", {"top": top, "bottom": bottom, "left": left, "right": right})
        if kind == "UpSampling2D":
            if c.get("interpolation", "nearest") not in ("nearest", "bilinear"):
                raise self._fail(node, f"interpolation={c['interpolation']!r}: CNN Studio upsamples with "
                                       "'nearest' or 'bilinear'")
            return _Layer("UpSampling2D", {"size": _ints(c["size"]), "interpolation": c.get("interpolation",
                                                                                             "nearest")})
        if kind == "Activation":
            function = self._activation(node)
            if function == "leaky_relu":  # the function's slope, not the LeakyReLU layer's
                return _Layer("LeakyReLU", {"alpha": ACTIVATION_STRING_SLOPE})
            return _Layer(ACTIVATION_TYPES[function] if function != "linear" else None, {})
        if kind in ACTIVATION_LAYERS:
            return self._activation_layer(node, inputs)
        if kind in ("Add", "Concatenate"):
            axis = c.get("axis", -1)
            if kind == "Concatenate" and axis not in (-1, len(inputs[0].shape)):
                raise self._fail(node, f"axis={axis}: CNN Studio concatenates along the channels (axis=-1)")
            return _Layer(kind, {})
        raise self._fail(node, f"CNN Studio's catalog has no {kind} layer")

    def _input(self, node: KerasNode) -> _Layer:
        shape = node.config.get("batch_shape") or node.config.get("batch_input_shape")
        if not isinstance(shape, list) or not 2 <= len(shape) <= 4:
            raise self._fail(node, "CNN Studio reads vectors, sequences (length, channels) and images "
                                   "(height, width, channels)")
        if any(not isinstance(size, int) or size < 1 for size in shape[1:]):
            raise self._fail(node, f"the input shape {tuple(shape[1:])} has sizes left open; CNN Studio needs "
                                   "every size but the batch fixed")
        return _Layer("Input", {"shape": list(channels_first(shape[1:]))})

    def _convolution(self, node: KerasNode, inputs: list[_Tensor]) -> _Layer:
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
        return _Layer(kind, params, WeightRule(rule_kind, "", params["use_bias"],
                                               depth_multiplier=params.get("depth_multiplier", 1)))

    def _permute(self, node: KerasNode, inputs: list[_Tensor]) -> _Layer:
        """Only the two moves between channels last and channels first, which the studio's
        layout makes identities; anything else would need a Permute layer in the catalog."""
        dims, rank = list(node.config.get("dims", [])), len(inputs[0].shape)
        if not inputs[0].channels_first and rank > 1 and dims == [rank, *range(1, rank)]:
            return _Layer(None, {}, channels_first=True)
        if inputs[0].channels_first and dims == [*range(2, rank + 1), 1]:
            return _Layer(None, {})
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

    def _activation_layer(self, node: KerasNode, inputs: list[_Tensor]) -> _Layer:
        c, kind = node.config, node.class_name
        if kind == "ReLU":
            if c.get("max_value") is not None or c.get("threshold", 0.0):
                raise self._fail(node, "ReLU with max_value or threshold: CNN Studio's ReLU has neither")
            slope = c.get("negative_slope", 0.0) or 0.0
            return _Layer("LeakyReLU", {"alpha": slope}) if slope else _Layer("ReLU", {})
        if kind == "LeakyReLU":
            return _Layer("LeakyReLU", {"alpha": c.get("negative_slope", c.get("alpha", 0.3))})
        if kind == "ELU":
            return _Layer("ELU", {"alpha": c.get("alpha", 1.0)})
        axis = c.get("axis", -1)
        if axis not in (-1, len(inputs[0].shape), [-1]):
            raise self._fail(node, f"axis={axis}: CNN Studio's Softmax works over the channels (axis=-1)")
        return _Layer("Softmax", {})

    def _batchnorm(self, node: KerasNode, inputs: list[_Tensor]) -> _Layer:
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
        return _Layer("BatchNorm", {"momentum": c.get("momentum", 0.99), "epsilon": c.get("epsilon", 1e-3),
                                    "affine": center or scale}, rule)

    def _reshape(self, node: KerasNode, inputs: list[_Tensor]) -> _Layer:
        source = inputs[0]
        target = list(node.config["target_shape"])
        if -1 in target:
            known = 1
            for size in target:
                known *= size if size != -1 else 1
            total = 1
            for size in source.shape:
                total *= size
            target[target.index(-1)] = total // known
        if source.channels_first:  # Keras holds the values in the studio's order already
            return _Layer("Reshape", {"target_shape": target}, channels_first=len(target) > 1)
        if len(target) == 1:
            return _Layer("Reshape", {"target_shape": target})
        vector_order = source.order if len(source.shape) == 1 else flattened(source.shape)
        if same_order(vector_order, flattened(channels_first(target))):
            return _Layer("Reshape", {"target_shape": list(channels_first(target))})
        if len(source.shape) == 1 and is_plain(vector_order):  # the image is channels first in Keras too
            return _Layer("Reshape", {"target_shape": target}, channels_first=True)
        raise self._fail(node, "it regroups values that CNN Studio holds channels first into another "
                               "channels-last shape; only reshapes that follow a Dense layer (or keep one "
                               "channel) can be imported")

    def _note_training_only(self, node: KerasNode) -> None:
        dropped = [key for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                                   "kernel_constraint", "bias_constraint") if node.config.get(key)]
        if dropped:
            self.notes.append(f"{node.name}: {', '.join(dropped)} not imported (CNN Studio trains without them)")

    # ----- vectors that a Reshape turns back into images
    def _dense_orders(self) -> dict[str, FeatureOrder]:
        """Dense layers whose outputs a Reshape regroups into an image: their units are
        imported in CNN Studio's channels-first order, so the Reshape needs no permutation."""
        by_name = {node.name: node for node in self.nodes}
        readers: dict[str, list[KerasNode]] = {}
        for node in self.nodes:
            for name in node.inputs:
                readers.setdefault(name, []).append(node)
        orders = {}
        for node in self.nodes:
            target = node.config.get("target_shape") if node.class_name == "Reshape" else None
            if not isinstance(target, list) or len(target) < 2 or -1 in target:
                continue
            after = readers.get(node.name, [])
            if len(after) == 1 and after[0].class_name == "Permute":  # an image Keras keeps channels first
                continue
            current = by_name[node.inputs[0]]
            while current.class_name in ORDER_KEEPING and len(readers.get(current.name, [])) == 1:
                current = by_name[current.inputs[0]]
            if current.class_name == "Dense" and len(readers.get(current.name, [])) == 1 \
                    and current.config.get("units") == _product(target):
                orders[current.name] = flattened(channels_first(target))
        return orders

    # ----- weights
    def _state_dict(self) -> dict[str, Any]:
        import numpy as np
        import torch

        from .keras_weights import to_torch

        state: dict[str, Any] = {}
        for rule, node in self.weights:
            studio = self.network.node(self.tensors[node.name].node_id).name
            variables = self.archive.variables(node.weights_path or "")
            rule = WeightRule(rule.kind, studio, rule.bias, rule.center, rule.scale, rule.depth_multiplier,
                              rule.order, rule.output_order)
            if len(variables) != rule.keras_count():
                raise ModelImportError(f"{self.archive.path}: layer {node.name!r} has {len(variables)} weight "
                                       f"arrays in model.weights.h5, expected {rule.keras_count()}")
            for key, value in to_torch(rule, variables).items():
                array = value if value.dtype == np.int64 else value.astype(np.float32)
                state[key] = torch.from_numpy(array.copy(order="C"))
        self._check(state)
        return state

    def _check(self, state: dict[str, Any]) -> None:
        from cnnstudio.core.build import build_model
        from cnnstudio.training.export_weights import WeightsError, check_weights

        try:
            check_weights(build_model(self.network).state_dict(), state, "the Keras weights")
        except (WeightsError, ValueError) as error:
            raise ModelImportError(f"{self.archive.path}: {error}") from None


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


def _product(values: list[int]) -> int:
    result = 1
    for value in values:
        result *= value
    return result


register_importer(".keras", import_keras)

__all__ = ["import_keras"]
