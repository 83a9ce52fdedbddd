"""A network as the Keras 3 model that computes the same numbers: the plan behind Keras export
and the Keras-style summary.

``plan_keras(network)`` walks the same plan as the PyTorch builder (``core.build.plan_network``:
same layers, same order, dead ends left out) and says what each layer becomes in Keras: its
class, its arguments, its output shape in Keras's channels-last order, its parameters and how
its weights move (``keras_weights.WeightRule``).  Pure Python: no torch, no keras.

Nearly every layer is one Keras layer of the same name.  The exceptions are what Keras cannot
say in one layer: a convolution with explicit padding gets a ``ZeroPadding`` layer before it
(``<name>_pad``), and a ``Reshape`` into an image or sequence, whose values CNN Studio lays out
channels first, gets ``Permute`` layers around it (``<name>_channels_first``,
``<name>_channels_last``).  Pooling with explicit padding that is not what ``'same'`` would
do has no Keras equivalent (Keras pads max pooling with -inf and leaves padding out of
averages only for ``'same'``) and is refused.

A chain becomes ``keras.Sequential``, anything with branches the functional API.
``keras_order`` lists the layers as Keras's ``model.layers`` does, which is the order of its
``summary()`` and of the weight groups in a ``.weights.h5`` file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from cnnstudio.core.analysis import Analysis, analyze
from cnnstudio.core.build import NodeStep, plan_network
from cnnstudio.core.layers.window import axis_windows
from cnnstudio.core.network import Network

from .keras_layout import FeatureOrder, Shape, channels_last, flattened, is_plain, plain, same_order
from .keras_vocabulary import (ACTIVATION_FUNCTIONS, BATCHNORM_EPSILON, BATCHNORM_MOMENTUM, ELU_ALPHA,
                               KERAS_CLASS, LEAKY_RELU_SLOPE, RELU6_CAP)
from .keras_weights import BATCHNORM, CONV, DENSE, DEPTHWISE, SEPARABLE, WeightRule

#: (keyword, value); keyword None for a positional argument
Argument = tuple[str | None, Any]


class KerasExportError(ValueError):
    """A network (or one layer of it) that Keras cannot express; one line naming the layer and the fix."""


@dataclass(frozen=True)
class KerasLayer:
    """One layer of the Keras model."""

    name: str
    class_name: str
    arguments: tuple[Argument, ...]
    inputs: tuple[str, ...]          # names of the Keras layers feeding it, in order
    output_shape: Shape              # channels last, without the batch axis
    source: str                      # the studio layer it computes (part of)
    trainable: int = 0
    non_trainable: int = 0
    weights: WeightRule | None = None

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def is_input(self) -> bool:
        return self.class_name == "InputLayer"


@dataclass(frozen=True)
class KerasPlan:
    """The Keras model of a network: its layers in the order they are created (inputs first)."""

    name: str
    layers: tuple[KerasLayer, ...]
    sequential: bool
    #: where Keras's backends disagree with one another, in plain words
    notes: tuple[str, ...] = ()

    @property
    def input(self) -> KerasLayer:
        return self.layers[0]

    @property
    def output(self) -> KerasLayer:
        return self.layers[-1]

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable for layer in self.layers)

    def model_layers(self) -> list[KerasLayer]:
        """Keras's ``model.layers``: a Sequential model leaves its InputLayer out."""
        ordered = keras_order(self)
        return [layer for layer in ordered if not (self.sequential and layer.is_input)]


#: longer model names would wrap the first line of Keras's summary
MODEL_NAME_MAX = 60


def keras_model_name(title: str | None, sequential: bool) -> str:
    """A Keras model name from the project's name (``Residual connections`` ->
    ``residual_connections``), or Keras's own default."""
    words = re.findall(r"[a-z0-9]+", (title or "").lower())
    return "_".join(words)[:MODEL_NAME_MAX].rstrip("_") or ("sequential" if sequential else "functional")


def plan_keras(network: Network, analysis: Analysis | None = None, *, title: str | None = None) -> KerasPlan:
    """The Keras model of ``network``; raises ``BuildError`` (network problems) or
    ``KerasExportError`` (a layer Keras cannot express), both ``ValueError``s."""
    analysis = analysis or analyze(network)
    plan = plan_network(network, analysis)
    translator = _Translator({step.name for step in plan.steps})
    for step in plan.steps:
        node = analysis.nodes[step.node_id]
        translator.add(step, network.node(step.node_id).params, [tuple(s) for s in node.input_shapes])
    layers = tuple(translator.layers)
    sequential = all(len(layer.inputs) <= 1 for layer in layers)
    return KerasPlan(keras_model_name(title, sequential), layers, sequential, tuple(translator.notes))


def keras_order(plan: KerasPlan) -> list[KerasLayer]:
    """The layers in the order of a functional model's ``model.layers``.

    Keras (``keras/src/ops/function.py``, ``map_graph``) numbers the layers in a depth-first
    walk from the output (inputs in call order), gives each its longest distance to the
    output, and sorts by that distance, farthest first, then by the walk's numbering.  A
    chain comes out in creation order.
    """
    by_name = {layer.name: layer for layer in plan.layers}
    visit_index: dict[str, int] = {}
    post_order: list[str] = []
    finished: set[str] = set()
    stack: list[tuple[str, int]] = [(plan.output.name, 0)]
    while stack:  # iterative depth-first walk: deep networks must not hit the recursion limit
        name, next_input = stack.pop()
        if next_input == 0:
            if name in finished:
                continue
            visit_index.setdefault(name, len(visit_index))
        inputs = by_name[name].inputs
        if next_input < len(inputs):
            stack.append((name, next_input + 1))
            stack.append((inputs[next_input], 0))
        elif name not in finished:
            finished.add(name)
            post_order.append(name)
    depth: dict[str, int] = {}
    for name in reversed(post_order):
        own = depth.setdefault(name, 0)
        for source in by_name[name].inputs:
            depth[source] = max(own + 1, depth.get(source, 0))
    ordered = sorted(post_order, key=lambda name: (-depth[name], visit_index[name]))
    return [by_name[name] for name in ordered]


# ---------------------------------------------------------------------- translation

def _pair(values: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


class _Translator:
    """Adds the Keras layers of one studio layer at a time, keeping what each studio layer's
    output is in Keras: the Keras layer that makes it and, for vectors, its ``FeatureOrder``."""

    def __init__(self, studio_names: set[str]) -> None:
        self.layers: list[KerasLayer] = []
        self.taken = set(studio_names)
        self.made_by: dict[str, str] = {}
        self.order: dict[str, FeatureOrder | None] = {}
        self.notes: list[str] = []

    # ----- helpers
    def _fresh(self, base: str) -> str:
        name, number = base, 2
        while name in self.taken:
            name, number = f"{base}_{number}", number + 1
        self.taken.add(name)
        return name

    def _emit(self, name: str, class_name: str, arguments: list[Argument], inputs: Sequence[str],
              keras_shape: Sequence[int], source: str, step: NodeStep | None = None,
              weights: WeightRule | None = None) -> str:
        counts = step.params if step is not None else None
        self.layers.append(KerasLayer(name, class_name, tuple(arguments), tuple(inputs), tuple(keras_shape),
                                      source, counts.trainable if counts else 0,
                                      counts.non_trainable if counts else 0, weights))
        return name

    def _helper(self, suffix: str, class_name: str, arguments: list[Argument], source_input: str,
                keras_shape: Sequence[int], step: NodeStep) -> str:
        """A Keras layer of its own for part of ``step``'s work, named ``<step>_<suffix>``."""
        name = self._fresh(f"{step.name}_{suffix}")
        return self._emit(name, class_name, arguments, [source_input], keras_shape, step.name)

    def add(self, step: NodeStep, p: dict[str, Any], input_shapes: list[Shape]) -> None:
        inputs = [self.made_by[name] for name in step.inputs]
        orders = [self.order[name] for name in step.inputs]
        handler = getattr(self, f"_from_{step.type.lower()}", None) or self._from_simple
        last, order = handler(step, p, input_shapes, inputs, orders)
        self.made_by[step.name] = last
        self.order[step.name] = order if len(step.output_shape) == 1 else None

    def _main(self, step: NodeStep, arguments: list[Argument], inputs: Sequence[str],
              weights: WeightRule | None = None) -> str:
        """The Keras layer that carries the studio layer's name and parameters."""
        return self._emit(step.name, KERAS_CLASS[step.type], arguments, inputs, channels_last(step.output_shape),
                          step.name, step, weights)

    # ----- shared argument pieces
    @staticmethod
    def _activation(p: dict[str, Any]) -> list[Argument]:
        return [("activation", p["activation"])] if p["activation"] != "linear" else []

    def _window_arguments(self, step: NodeStep, p: dict[str, Any], input_shape: Shape, *, pooling: bool,
                          inputs: list[str]) -> tuple[list[Argument], list[str]]:
        """strides / padding / dilation arguments; explicit padding becomes 'same' where that
        pads the same, else a ZeroPadding layer (convolutions) or an error (pooling)."""
        spatial = input_shape[1:]
        one_d = len(spatial) == 1
        windows = axis_windows(dict(p), spatial)
        padding = p["padding"]
        if padding == "explicit":
            if [w.pads() for w in axis_windows({**p, "padding": "same"}, spatial)] == [w.pads() for w in windows]:
                padding = "same"
            elif pooling:
                pads = "x".join(str(w.explicit_pad) for w in windows)
                raise KerasExportError(
                    f"{step.name}: pooling with explicit padding {pads} has no Keras equivalent (Keras pads "
                    "pooling only with padding='same'); use padding='same' or 'valid'")
            else:
                pads = [w.explicit_pad for w in windows]
                padded = (input_shape[0], *(n + 2 * q for n, q in zip(spatial, pads)))
                layer = "ZeroPadding1D" if one_d else "ZeroPadding2D"
                amount: Any = pads[0] if one_d or pads[0] == pads[1] else tuple(pads)
                inputs = [self._helper("pad", layer, [(None, amount)], inputs[0], channels_last(padded), step)]
                padding = "valid"
        arguments: list[Argument] = []
        strides = [w.stride for w in windows]
        if pooling:
            if p["strides"] is not None and strides != [w.kernel for w in windows]:
                arguments.append(("strides", strides[0] if one_d else tuple(strides)))
        elif any(s != 1 for s in strides):
            arguments.append(("strides", strides[0] if one_d else tuple(strides)))
        if padding == "same":
            arguments.append(("padding", "same"))
            if step.type == "AvgPool2D" and any(w.pads()[0] != w.pads()[1] for w in windows):
                self.notes.append(
                    f"{step.name}: Keras's PyTorch backend fills the extra bottom/right padding of 'same' "
                    "average pooling with copies of the edge pixels, so on that backend the last row or "
                    "column differs; TensorFlow and JAX leave the padding out of the average, as CNN Studio does")
        dilation = [w.dilation for w in windows]
        if not pooling and any(d != 1 for d in dilation):
            arguments.append(("dilation_rate", dilation[0] if one_d else tuple(dilation)))
        return arguments, inputs

    # ----- layer types (method name: "_from_" + the studio type in lower case)
    def _from_input(self, step, p, shapes, inputs, orders):
        name = self._main(step, [("shape", channels_last(step.output_shape))], [])
        return name, plain(step.output_shape[0]) if len(step.output_shape) == 1 else None

    def _from_convolution(self, step, p, shapes, inputs, orders):
        window, inputs = self._window_arguments(step, p, shapes[0], pooling=False, inputs=inputs)
        kernel = p["kernel_size"] if step.type == "Conv1D" else _pair(p["kernel_size"])
        arguments: list[Argument] = [*([(None, p["filters"])] if "filters" in p else []), (None, kernel)]
        multiplier = p.get("depth_multiplier", 1)
        if multiplier != 1:
            arguments.append(("depth_multiplier", multiplier))
        arguments += window
        if p.get("groups", 1) != 1:
            arguments.append(("groups", p["groups"]))
        arguments += self._activation(p)
        if not p["use_bias"]:
            arguments.append(("use_bias", False))
        kind = {"DepthwiseConv2D": DEPTHWISE, "SeparableConv2D": SEPARABLE}.get(step.type, CONV)
        rule = WeightRule(kind, step.name, p["use_bias"], depth_multiplier=multiplier)
        return self._main(step, arguments, inputs, rule), None

    _from_conv2d = _from_conv1d = _from_depthwiseconv2d = _from_separableconv2d = _from_convolution

    def _from_pool(self, step, p, shapes, inputs, orders):
        window, inputs = self._window_arguments(step, p, shapes[0], pooling=True, inputs=inputs)
        return self._main(step, [(None, _pair(p["kernel_size"])), *window], inputs), None

    _from_maxpool2d = _from_avgpool2d = _from_pool

    def _from_adaptiveavgpool2d(self, step, p, shapes, inputs, orders):
        return self._main(step, [(None, _pair(p["output_size"]))], inputs), None

    def _from_dense(self, step, p, shapes, inputs, orders):
        arguments = [(None, p["units"]), *self._activation(p)]
        if not p["use_bias"]:
            arguments.append(("use_bias", False))
        rule = WeightRule(DENSE, step.name, p["use_bias"], order=orders[0])
        return self._main(step, arguments, inputs, rule), plain(p["units"])

    def _from_dropout(self, step, p, shapes, inputs, orders):
        return self._main(step, [(None, p["rate"])], inputs), orders[0]

    def _from_batchnorm(self, step, p, shapes, inputs, orders):
        arguments: list[Argument] = []
        if p["momentum"] != BATCHNORM_MOMENTUM:
            arguments.append(("momentum", p["momentum"]))
        if p["epsilon"] != BATCHNORM_EPSILON:
            arguments.append(("epsilon", p["epsilon"]))
        if not p["affine"]:
            arguments += [("center", False), ("scale", False)]
        rule = WeightRule(BATCHNORM, step.name, center=p["affine"], scale=p["affine"], order=orders[0])
        return self._main(step, arguments, inputs, rule), orders[0]

    def _from_flatten(self, step, p, shapes, inputs, orders):
        order = orders[0] if len(shapes[0]) == 1 else flattened(shapes[0])
        return self._main(step, [], inputs), order

    def _from_reshape(self, step, p, shapes, inputs, orders):
        source, target = shapes[0], tuple(step.output_shape)
        if len(target) == 1:  # to a vector: Keras flattens channels last, like Flatten
            order = orders[0] if len(source) == 1 else flattened(source)
            return self._main(step, [(None, target)], inputs), order
        if len(source) == 1 and same_order(orders[0], flattened(target)):
            return self._main(step, [(None, channels_last(target))], inputs), None
        if len(source) > 1:
            rank = len(source)
            inputs = [self._helper("channels_first", "Permute", [(None, (rank, *range(1, rank)))], inputs[0],
                                   source, step)]
        elif not is_plain(orders[0]):
            raise KerasExportError(
                f"{step.name}: this Reshape regroups a vector flattened from an image into another shape, "
                "which Keras's channels-last layout cannot follow; reshape back to the shape it was flattened "
                "from, or put a Dense layer before the Reshape")
        # values in CNN Studio's order, as a channels-first tensor, then moved to channels last
        self._emit(step.name, "Reshape", [(None, target)], inputs, target, step.name, step)
        rank = len(target)
        last = self._helper("channels_last", "Permute", [(None, (*range(2, rank + 1), 1))], step.name,
                            channels_last(target), step)
        return last, None

    def _from_zeropadding2d(self, step, p, shapes, inputs, orders):
        top, bottom, left, right = (p[side] for side in ("top", "bottom", "left", "right"))
        amount: Any = top if top == bottom == left == right else ((top, bottom), (left, right))
        return self._main(step, [(None, amount)], inputs), None

    def _from_upsampling2d(self, step, p, shapes, inputs, orders):
        arguments: list[Argument] = [(None, _pair(p["size"]))]
        if p["interpolation"] != "nearest":
            arguments.append(("interpolation", p["interpolation"]))
        return self._main(step, arguments, inputs), None

    def _from_leakyrelu(self, step, p, shapes, inputs, orders):
        arguments = [("negative_slope", p["alpha"])] if p["alpha"] != LEAKY_RELU_SLOPE else []
        return self._main(step, arguments, inputs), orders[0]

    def _from_relu6(self, step, p, shapes, inputs, orders):
        return self._main(step, [("max_value", RELU6_CAP)], inputs), orders[0]

    def _from_elu(self, step, p, shapes, inputs, orders):
        arguments = [("alpha", p["alpha"])] if p["alpha"] != ELU_ALPHA else []
        return self._main(step, arguments, inputs), orders[0]

    def _from_add(self, step, p, shapes, inputs, orders):
        if orders[0] is not None and not all(same_order(orders[0], other) for other in orders[1:]):
            raise KerasExportError(
                f"{step.name}: the vectors added here were flattened from differently shaped tensors, so "
                "Keras would add different values; flatten tensors of the same shape, or add before Flatten")
        return self._main(step, [], inputs), orders[0]

    def _from_concatenate(self, step, p, shapes, inputs, orders):
        order = tuple(part for parts in orders for part in parts) if orders[0] is not None else None
        return self._main(step, [], inputs), order

    def _from_simple(self, step, p, shapes, inputs, orders):
        """Layers with no arguments Keras needs: activations, global pooling, ReLU, Softmax."""
        arguments: list[Argument] = []
        if step.type in ACTIVATION_FUNCTIONS:
            arguments = [(None, ACTIVATION_FUNCTIONS[step.type])]
        if step.type not in KERAS_CLASS:
            raise KerasExportError(f"{step.name}: CNN Studio cannot write {step.type} layers for Keras yet")
        order = orders[0] if orders and len(step.output_shape) == 1 and len(shapes[0]) == 1 else None
        if step.type.startswith("Global"):
            order = plain(step.output_shape[0])
        return self._main(step, arguments, inputs), order
