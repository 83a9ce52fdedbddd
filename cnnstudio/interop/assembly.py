"""Build a CNN Studio network and its weights from a source model, one operation at a time.

Every importer (ONNX, torch.fx) walks its own graph and calls the same methods
here: ``conv2d``, ``dense``, ``pool2d``, ``activation``... each adds catalog
layers, checks the result with the layer's own shape rule and lays the weights
out as ``build_model(network).state_dict()`` wants them.  So the decisions that
matter (which catalog layer, which padding mode, when an activation joins the
layer before it, when a bias is folded) are made once, for every format.

A ``Tensor`` is a value of the source model: the catalog node that computes it
and its per-sample shape as the source sees it.  The two shapes can differ in
one harmless way: a global pooling gives ``(C,)`` in the catalog where ONNX and
PyTorch keep ``(C, 1, 1)``; ``conform`` inserts a Reshape only if a later layer
needs the source's shape.

Anything the catalog refuses becomes an ``UnsupportedModelError`` naming the
source node (its ``Origin``) and what the catalog would need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from cnnstudio.core.layers import CATALOG, ShapeError, spec_for
from cnnstudio.core.layers.base import Shape, format_shape, name_problem
from cnnstudio.core.network import Network, NetworkError

from .model_import import ModelImportError, UnsupportedModelError
from .window_mapping import Pads, catalog_padding

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: layers whose ``activation`` parameter can take a following activation
ACTIVATED_TYPES = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense")
#: the catalog layer of each activation, and which ones a layer's ``activation=`` can hold
ACTIVATION_LAYERS = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "elu": "ELU", "gelu": "GELU",
                     "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax", "relu6": "ReLU6"}
#: the slope/scale an ``activation=`` string implies (others need their own layer)
FUSED_ALPHA = {"leaky_relu": 0.2, "elu": 1.0}


@dataclass(frozen=True)
class Origin:
    """Where a source operation sits, for messages: its name, op and place."""

    node: str
    op: str
    where: str

    def refuse(self, need: str) -> UnsupportedModelError:
        return UnsupportedModelError(self.node, self.op, self.where, need)


@dataclass(frozen=True)
class Tensor:
    """A value of the source model: computed by catalog node ``node_id``, shaped ``shape``
    per sample in the source's own (channels-first) order."""

    node_id: str
    shape: Shape


@dataclass
class NetworkAssembler:
    """Collects catalog layers, wires and weights; ``finish`` checks and returns them."""

    network: Network = field(default_factory=Network)
    notes: list[str] = field(default_factory=list)
    _shapes: dict[str, Shape] = field(default_factory=dict)
    _weights: dict[str, np.ndarray] = field(default_factory=dict)
    _conformed: dict[tuple[str, Shape], str] = field(default_factory=dict)
    _zero_bias: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ building blocks
    def shape_of(self, tensor: Tensor) -> Shape:
        """The catalog's shape of the node computing ``tensor``."""
        return self._shapes[tensor.node_id]

    def layer_name(self, tensor: Tensor) -> str:
        return self.network.node(tensor.node_id).name

    def _name(self, hint: str | None, prefix: str) -> str:
        """A layer name from the source's own name when it makes a valid, free one."""
        if hint:
            cleaned = "".join(ch if ch.isalnum() and ch.isascii() else "_" for ch in hint).strip("_")
            while "__" in cleaned:
                cleaned = cleaned.replace("__", "_")
            if cleaned and not cleaned[0].isalpha():
                cleaned = f"{prefix}_{cleaned}"
            if cleaned and name_problem(cleaned) is None and self.network.node_by_name(cleaned) is None:
                return cleaned
        return self.network.unique_name(prefix)

    def add_layer(self, type_name: str, params: dict[str, Any], inputs: Sequence[Tensor], origin: Origin,
                  *, hint: str | None = None, weights: dict[str, np.ndarray] | None = None) -> str:
        """Add one catalog layer fed by ``inputs`` (in order); its shape comes from the
        layer's spec.  Returns the new node's id."""
        if type_name not in CATALOG:
            raise origin.refuse(f"the catalog has no {type_name} layer yet; CNN Studio would need one to "
                                "import this node")
        spec = spec_for(type_name)
        sources = [tensor.node_id for tensor in inputs]
        if len(set(sources)) != len(sources):
            raise origin.refuse("it uses the same tensor twice, and a layer cannot be wired to another twice; "
                                "the catalog would need a layer that takes one input several times")
        try:
            node = self.network.add_node(type_name, params, name=self._name(hint, spec.name_prefix))
        except NetworkError as error:
            raise origin.refuse(f"the catalog's {type_name} cannot take these settings ({error})") from None
        for source in sources:
            self.network.connect(source, node.id)
        self._shapes[node.id] = self._checked_shape(node.id, origin)
        for suffix, value in (weights or {}).items():
            self._weights[f"{node.name}.{suffix}"] = np.asarray(value)
        return node.id

    def _checked_shape(self, node_id: str, origin: Origin) -> Shape:
        node = self.network.node(node_id)
        inputs = [self._shapes[source] for source in self.network.inputs_of(node_id)]
        try:
            shape = tuple(spec_for(node.type).output_shape(node.params, inputs))
        except ShapeError as error:
            raise origin.refuse(f"as a catalog {node.type}, {error.message}") from None
        if any(size < 1 for size in shape):
            raise origin.refuse(f"as a catalog {node.type} its output {format_shape(shape)} would be empty")
        return shape

    def _layer(self, type_name: str, params: dict[str, Any], source: Tensor, origin: Origin, shape: Shape | None = None,
               **options: Any) -> Tensor:
        node_id = self.add_layer(type_name, params, [source], origin, **options)
        return Tensor(node_id, self._shapes[node_id] if shape is None else shape)

    def conform(self, tensor: Tensor) -> Tensor:
        """``tensor`` with the catalog shape equal to the source's (adds a Flatten or a
        Reshape once when they differ)."""
        if self.shape_of(tensor) == tensor.shape:
            return tensor
        key = (tensor.node_id, tensor.shape)
        if key not in self._conformed:
            origin = Origin(self.layer_name(tensor), "Reshape", f"after {self.layer_name(tensor)}")
            if len(tensor.shape) == 1:
                self._conformed[key] = self.add_layer("Flatten", {}, [tensor], origin)
            else:
                self._conformed[key] = self.add_layer("Reshape", {"target_shape": list(tensor.shape)}, [tensor],
                                                      origin)
        return Tensor(self._conformed[key], tensor.shape)

    def _image(self, tensor: Tensor, origin: Origin) -> Tensor:
        tensor = self.conform(tensor)
        if len(tensor.shape) != 3:
            raise origin.refuse(f"it works on images (C, H, W) but receives {format_shape(tensor.shape)}; "
                                "the catalog's 2-D layers need image inputs")
        return tensor

    # ------------------------------------------------------------------ layers
    def input(self, shape: Shape, hint: str | None = None) -> Tensor:
        origin = Origin(hint or "input", "Input", "as the model's input")
        if not 1 <= len(shape) <= 3:
            raise origin.refuse(f"its per-sample shape {format_shape(shape)} has {len(shape)} axes; "
                                "CNN Studio inputs have 1 to 3 (C, H, W)")
        node_id = self.add_layer("Input", {"shape": list(shape)}, [], origin, hint=hint)
        return Tensor(node_id, tuple(shape))

    def conv2d(self, source: Tensor, weight: np.ndarray, bias: np.ndarray | None, *, strides: Sequence[int],
               dilations: Sequence[int], pads: Pads, groups: int, origin: Origin, hint: str | None = None) -> Tensor:
        """A 2-D convolution with ``weight`` shaped (out, in/groups, kh, kw), as Conv2D or DepthwiseConv2D;
        padding that only one side gets becomes a ZeroPadding2D before it."""
        source = self._image(source, origin)
        channels = source.shape[0]
        if weight.ndim != 4 or weight.shape[1] * groups != channels:
            raise origin.refuse(f"its weight {tuple(weight.shape)} with groups={groups} does not fit "
                                f"{channels} input channels")
        filters, kernel = int(weight.shape[0]), [int(weight.shape[2]), int(weight.shape[3])]
        padding = catalog_padding(source.shape[1:], kernel, strides, dilations, pads)
        if padding is None:
            both, one_side = pads.split()
            source = self.zero_pad(source, one_side, origin)
            padding = catalog_padding(source.shape[1:], kernel, strides, dilations, both)
        window = {"kernel_size": kernel, "strides": list(strides), "dilation_rate": list(dilations), **padding}
        use_bias = bias is not None and bool(np.any(bias))
        weights = {"weight": weight, **({"bias": bias} if use_bias else {})}
        if groups == channels and groups > 1:
            type_name, params = "DepthwiseConv2D", {**window, "depth_multiplier": filters // channels}
        else:
            type_name, params = "Conv2D", {**window, "filters": filters, "groups": groups}
        result = self._layer(type_name, {**params, "use_bias": use_bias}, source, origin, hint=hint, weights=weights)
        self._note_zero_bias(result, bias)
        return result

    def _note_zero_bias(self, tensor: Tensor, bias: np.ndarray | None) -> None:
        """A bias of zeros is no bias (exporters give one to every Conv); noted once in ``finish``."""
        if bias is not None and not np.any(bias):
            self._zero_bias.append(self.layer_name(tensor))

    def dense(self, source: Tensor, weight: np.ndarray, bias: np.ndarray | None, *, origin: Origin,
              hint: str | None = None) -> Tensor:
        """A fully connected layer with ``weight`` shaped (out, in), as torch's Linear."""
        source = self.conform(source)
        if len(source.shape) != 1 or weight.ndim != 2 or weight.shape[1] != source.shape[0]:
            raise origin.refuse(f"a matrix product of {format_shape(source.shape)} with a "
                                f"{tuple(weight.shape)} weight is not a Dense layer the catalog has (Dense takes "
                                "a vector and a weight of (units, inputs))")
        use_bias = bias is not None and bool(np.any(bias))
        weights = {"weight": weight, **({"bias": bias} if use_bias else {})}
        result = self._layer("Dense", {"units": int(weight.shape[0]), "use_bias": use_bias}, source, origin,
                             hint=hint, weights=weights)
        self._note_zero_bias(result, bias)
        return result

    def batch_norm(self, source: Tensor, scale: np.ndarray, bias: np.ndarray, mean: np.ndarray, var: np.ndarray, *,
                   epsilon: float, momentum: float, origin: Origin, hint: str | None = None) -> Tensor:
        """Batch normalisation with running statistics; ``momentum`` in Keras's sense (kept share)."""
        source = self.conform(source)
        weights = {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var,
                   "num_batches_tracked": np.array(0, dtype=np.int64)}
        params = {"epsilon": float(epsilon), "momentum": float(momentum), "affine": True}
        return self._layer("BatchNorm", params, source, origin, hint=hint, weights=weights)

    def pool2d(self, source: Tensor, kind: str, *, kernel: Sequence[int], strides: Sequence[int], pads: Pads,
               origin: Origin, count_pads: bool = False, hint: str | None = None) -> Tensor:
        """Max or average pooling; ``pads`` must already include what a ceil mode adds.
        ``count_pads`` (average only): padded zeros count in the average, as a ZeroPadding2D does."""
        source = self._image(source, origin)
        kernel, strides = [int(k) for k in kernel], [int(s) for s in strides]
        if kind == "avg" and count_pads and not pads.is_zero:
            if not pads.is_symmetric:
                raise origin.refuse("it averages over uneven padding that counts as zeros; the catalog's "
                                    "AvgPool2D would need a count_include_pad setting")
            source, pads = self.zero_pad(source, pads, origin), Pads()
        padding = catalog_padding(source.shape[1:], kernel, strides, [1, 1], pads)
        if padding is None:
            raise origin.refuse(f"its padding (top {pads.top}, left {pads.left}, bottom {pads.bottom}, right "
                                f"{pads.right}) is neither even nor 'same'; the catalog's pooling layers would "
                                "need uneven padding")
        params = {"kernel_size": kernel, "strides": None if strides == kernel else strides, **padding}
        return self._layer("MaxPool2D" if kind == "max" else "AvgPool2D", params, source, origin, hint=hint)

    def global_pool(self, source: Tensor, kind: str, *, keep_dims: bool, origin: Origin,
                    hint: str | None = None) -> Tensor:
        source = self._image(source, origin)
        type_name = "GlobalMaxPooling2D" if kind == "max" else "GlobalAveragePooling2D"
        channels = source.shape[0]
        return self._layer(type_name, {}, source, origin, shape=(channels, 1, 1) if keep_dims else (channels,),
                           hint=hint)

    def adaptive_pool(self, source: Tensor, kind: str, size: Sequence[int], *, origin: Origin,
                      hint: str | None = None) -> Tensor:
        """Pooling to a fixed output size: global pooling for 1x1, the catalog's adaptive
        average pooling when it has one, else a plain pool when the windows come out even."""
        source = self._image(source, origin)
        size = [int(s) for s in size]
        if size == [1, 1]:
            return self.global_pool(source, kind, keep_dims=True, origin=origin, hint=hint)
        if kind == "avg" and "AdaptiveAvgPool2D" in CATALOG:
            return self._layer("AdaptiveAvgPool2D", {"output_size": size}, source, origin, hint=hint)
        if any(n % w for n, w in zip(source.shape[1:], size)):
            layer = "AdaptiveAvgPool2D" if kind == "avg" else "an adaptive max pooling"
            raise origin.refuse(f"it pools {source.shape[1]}x{source.shape[2]} to {size[0]}x{size[1]} with uneven "
                                f"windows; the catalog would need {layer} layer")
        kernel = [n // w for n, w in zip(source.shape[1:], size)]
        return self.pool2d(source, kind, kernel=kernel, strides=kernel, pads=Pads(), origin=origin, hint=hint)

    def activation(self, source: Tensor, kind: str, *, origin: Origin, alpha: float | None = None,
                   sole_use: bool = False, hint: str | None = None) -> Tensor:
        """An activation; it joins the Conv/Dense before it (``activation=``) when that layer
        has none, nothing else reads its output and the setting can say it exactly."""
        if kind == "softmax":
            source = self.conform(source)
        node = self.network.node(source.node_id)
        fusable = (sole_use and node.type in ACTIVATED_TYPES and node.params["activation"] == "linear"
                   and self.shape_of(source) == source.shape and not self.network.outputs_of(node.id)
                   and kind in CATALOG["Dense"].param("activation").choices
                   and (alpha is None or FUSED_ALPHA.get(kind) == alpha))
        if fusable:
            self.network.set_params(node.id, {"activation": kind})
            return source
        layer = ACTIVATION_LAYERS[kind]
        params = {"alpha": float(alpha)} if alpha is not None and kind in FUSED_ALPHA else {}
        return self._layer(layer, params, source, origin, shape=source.shape, hint=hint)

    def affine(self, source: Tensor, *, scale: np.ndarray | None = None, shift: np.ndarray | None = None,
               origin: Origin, sole_use: bool) -> Tensor:
        """``x * scale + shift`` with constants, folded into the Conv or Dense that computes ``x``
        (its weights and bias), which must have no activation and no other reader."""
        node = self.network.node(source.node_id)
        if not (sole_use and node.type in ("Conv2D", "DepthwiseConv2D", "Dense")
                and node.params["activation"] == "linear" and self.shape_of(source) == source.shape
                and not self.network.outputs_of(node.id)):
            raise origin.refuse("it combines a tensor with constants, which the catalog can only fold into the "
                                "Conv2D or Dense right before it; CNN Studio would need a layer that scales "
                                "and shifts by constants")
        channels = source.shape[0]
        scale_per_channel = _per_channel(scale, source.shape, origin) if scale is not None else None
        shift_per_channel = _per_channel(shift, source.shape, origin) if shift is not None else None
        weight_key, bias_key = f"{node.name}.weight", f"{node.name}.bias"
        bias = self._weights.get(bias_key, np.zeros(channels, dtype=np.float32))
        if scale_per_channel is not None:
            weight = self._weights[weight_key]
            self._weights[weight_key] = weight * scale_per_channel.reshape((-1,) + (1,) * (weight.ndim - 1))
            bias = bias * scale_per_channel
        if shift_per_channel is not None:
            bias = bias + shift_per_channel
        self._weights[bias_key] = bias.astype(np.float32)
        if not node.params["use_bias"]:
            self.network.set_params(node.id, {"use_bias": True})
        return source

    def add(self, sources: Sequence[Tensor], origin: Origin) -> Tensor:
        sources = [self.conform(source) for source in sources]
        if len({source.shape for source in sources}) != 1:
            shapes = " and ".join(format_shape(source.shape) for source in sources)
            raise origin.refuse(f"it adds tensors of different shapes ({shapes}); the catalog's Add needs equal "
                                "shapes (broadcasting would need another layer)")
        node_id = self.add_layer("Add", {}, sources, origin)
        return Tensor(node_id, sources[0].shape)

    def concat(self, sources: Sequence[Tensor], axis: int, origin: Origin) -> Tensor:
        """Concatenation along per-sample axis ``axis`` (0 = channels, the only one the catalog joins on)."""
        sources = [self.conform(source) for source in sources]
        if axis != 0:
            raise origin.refuse(f"it joins tensors along axis {axis + 1} (counting the batch); the catalog's "
                                "Concatenate joins along the channel axis only")
        node_id = self.add_layer("Concatenate", {}, sources, origin)
        return Tensor(node_id, self._shapes[node_id])

    def reshape(self, source: Tensor, target: Shape, origin: Origin) -> Tensor:
        """A view of the same values in another shape: nothing, a Flatten, or a Reshape."""
        target = tuple(int(d) for d in target)
        if int(np.prod(target)) != int(np.prod(source.shape)):
            raise origin.refuse(f"it reshapes {format_shape(source.shape)} into {format_shape(target)}, which "
                                "mixes samples of the batch; the catalog reshapes within one sample only")
        if self.shape_of(source) == target:
            return Tensor(source.node_id, target)
        if len(target) == 1:
            return self._layer("Flatten", {}, source, origin)
        if not 1 <= len(target) <= 3:
            raise origin.refuse(f"it reshapes into {format_shape(target)}; the catalog's Reshape makes 1 to 3 axes")
        return self._layer("Reshape", {"target_shape": list(target)}, source, origin)

    def zero_pad(self, source: Tensor, pads: Pads, origin: Origin, hint: str | None = None) -> Tensor:
        if pads.is_zero:
            return source
        source = self._image(source, origin)
        params = {"top": pads.top, "bottom": pads.bottom, "left": pads.left, "right": pads.right}
        return self._layer("ZeroPadding2D", params, source, origin, hint=hint)

    def dropout(self, source: Tensor, rate: float, origin: Origin, hint: str | None = None) -> Tensor:
        if rate <= 0:
            return source
        return self._layer("Dropout", {"rate": float(rate)}, source, origin, shape=source.shape, hint=hint)

    def upsample(self, source: Tensor, size: Sequence[int], mode: str, origin: Origin,
                 hint: str | None = None) -> Tensor:
        source = self._image(source, origin)
        return self._layer("UpSampling2D", {"size": [int(s) for s in size], "interpolation": mode}, source, origin,
                           hint=hint)

    # ------------------------------------------------------------------ the end
    def finish(self, output: Tensor, what: str) -> tuple[Network, dict[str, "torch.Tensor"]]:
        """Check the network (one output, no analysis errors), lay it out tidily and
        return it with its weights, proved to load into ``build_model(network)``."""
        import torch

        from cnnstudio.core.analysis import analyze
        from cnnstudio.core.build import BuildError, build_model
        from cnnstudio.core.layout import tidy_positions

        output = self.conform(output)
        analysis = analyze(self.network)
        if analysis.errors:
            raise ModelImportError(f"{what}: the imported network has problems: {analysis.errors[0].text}")
        if analysis.output_id != output.node_id or any(
                not self.network.outputs_of(node.id) and node.id != output.node_id for node in self.network.nodes):
            raise ModelImportError(f"{what}: the model has more than one output; CNN Studio networks have one")
        self.network.move(tidy_positions(self.network))
        if self._zero_bias:
            names = ", ".join(self._zero_bias[:6]) + (", ..." if len(self._zero_bias) > 6 else "")
            self.notes.append(f"biases of all zeros were left out, so these layers have no bias: {names}")
        state = {key: torch.from_numpy(np.array(value, copy=True)) for key, value in self._weights.items()}
        state = {key: value.float() if value.is_floating_point() else value for key, value in state.items()}
        try:
            model = build_model(self.network, analysis)
            expected = model.state_dict()
        except BuildError as error:
            raise ModelImportError(f"{what}: the imported network cannot be built ({error})") from None
        wrong = [key for key, value in expected.items() if key not in state or state[key].shape != value.shape]
        extra = sorted(set(state) - set(expected))
        if wrong or extra:
            raise ModelImportError(f"{what}: the imported weights do not fit the network "
                                   f"({', '.join((wrong + extra)[:4])})")
        return self.network, {key: state[key] for key in expected}


def _per_channel(constant: np.ndarray, shape: Shape, origin: Origin) -> np.ndarray:
    """A constant that broadcasts over one sample of ``shape`` with one value per channel
    (or one value in all), as a vector of channel values."""
    constant = np.asarray(constant, dtype=np.float32)
    rank = len(shape) + 1  # the source's rank, batch included
    if constant.ndim > rank:
        raise origin.refuse(f"its constant of shape {constant.shape} does not fit {format_shape(shape)}")
    full = constant.reshape((1,) * (rank - constant.ndim) + constant.shape)
    if full.shape[0] != 1 or any(size != 1 for size in full.shape[2:]) or full.shape[1] not in (1, shape[0]):
        raise origin.refuse(f"its constant of shape {constant.shape} varies along more than the channel axis of "
                            f"{format_shape(shape)}; only per-channel constants fold into the layer before")
    return np.broadcast_to(full.reshape(-1), (shape[0],)).astype(np.float32)
