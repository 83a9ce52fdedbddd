"""One handler per ONNX operator on data: read its attributes and constants, call the
assembler.  Each handler sets the node's output tensor(s) on the walker."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .assembly import Origin, Tensor
from .onnx_graph import Known, OnnxWalker
from .window_mapping import Pads, auto_pads, ceil_mode_pads

Handler = Callable[[OnnxWalker, Any, Origin], None]
HANDLERS: dict[str, Handler] = {}
#: below this, a Pad value counts as minus infinity (max pooling ignores such pixels)
NEGATIVE_INFINITY_PAD = -3.0e38


def handles(*ops: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        for op in ops:
            HANDLERS[op] = function
        return function
    return register


def _weight_hint(walker: OnnxWalker, node: Any, position: int) -> str | None:
    """A layer name from the source: the weight's module path (``features.0.weight``) or
    the node's path (``/features/0/Conv``, the legacy exporter's names)."""
    name = node.input[position] if len(node.input) > position else ""
    if name.endswith(".weight"):
        return name[: -len(".weight")]
    if node.name.startswith("/") and node.name.count("/") > 1:
        return "_".join(node.name.strip("/").split("/")[:-1])
    return None


def decimal(value: Any) -> float:
    """A float32 setting as the decimal it was written as: ONNX stores 0.1 as 0.10000000149."""
    return float(str(np.float32(value)))


def _data_inputs(walker: OnnxWalker, node: Any) -> list[str]:
    return [name for name in node.input if name and walker.is_data(name)]


def _unused_extra_outputs(walker: OnnxWalker, node: Any, origin: Origin, what: str) -> None:
    if any(name and walker.uses.get(name) for name in node.output[1:]):
        raise origin.refuse(f"the model reads its {what} output; the catalog's layer gives one output")


def _window(walker: OnnxWalker, node: Any, spatial: tuple[int, ...], kernel: list[int], origin: Origin):
    strides = list(walker.attr(node, "strides", [1, 1]))
    dilations = list(walker.attr(node, "dilations", [1, 1]))
    mode = walker.attr(node, "auto_pad", "NOTSET")
    if len(kernel) != 2:
        raise origin.refuse(f"it is a {len(kernel)}-D window; the catalog maps 2-D windows over images")
    if mode in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        pads = auto_pads(mode, spatial, kernel, strides, dilations)
    else:
        pads = Pads.onnx(walker.attr(node, "pads", [0, 0, 0, 0]))
    return strides, dilations, pads


def _take_pending_pad(walker: OnnxWalker, name: str, fills: tuple[float, ...]) -> tuple[Tensor, Pads] | None:
    """A padded input whose padding the consuming window can take over (sole reader, right fill)."""
    pending = walker.pending_pads.get(name)
    if pending is None or not walker.sole_use(name) or not any(
            pending[2] == fill or (fill < 0 and pending[2] <= fill) for fill in fills):
        return None
    walker.pending_pads.pop(name)
    return pending[0], pending[1]


def _add_pads(first: Pads, second: Pads) -> Pads:
    return Pads(first.top + second.top, first.left + second.left, first.bottom + second.bottom,
                first.right + second.right)


# ---------------------------------------------------------------------- layers with weights
@handles("Conv")
def conv(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    weight = walker.constant(node.input[1], origin, "weight")
    bias = walker.optional_constant(node, 2, origin, "bias")
    if weight.ndim != 4:
        raise origin.refuse(f"it is a {weight.ndim - 2}-D convolution; the catalog maps 2-D convolutions "
                            "(Conv2D, DepthwiseConv2D)")
    taken = _take_pending_pad(walker, node.input[0], (0.0,))
    source, before = taken if taken else (walker.tensor(node.input[0], origin), Pads())
    kernel = list(walker.attr(node, "kernel_shape", list(weight.shape[2:])))
    padded = (source.shape[1] + before.top + before.bottom, source.shape[2] + before.left + before.right) \
        if len(source.shape) == 3 else source.shape[1:]
    strides, dilations, pads = _window(walker, node, padded, kernel, origin)
    walker.set(node.output[0], walker.assembler.conv2d(
        source, weight, bias, strides=strides, dilations=dilations, pads=_add_pads(before, pads),
        groups=int(walker.attr(node, "group", 1)), origin=origin, hint=_weight_hint(walker, node, 1)))


@handles("Gemm")
def gemm(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    if walker.attr(node, "transA", 0) or not walker.is_data(node.input[0]) or walker.is_data(node.input[1]):
        raise origin.refuse("it multiplies in an order other than input x weight; the catalog's Dense "
                            "computes x W^T + b")
    weight = walker.constant(node.input[1], origin, "weight")
    weight = weight if walker.attr(node, "transB", 0) else weight.T
    weight = weight * np.float32(walker.attr(node, "alpha", 1.0))
    bias = walker.optional_constant(node, 2, origin, "bias")
    if bias is not None:
        units = weight.shape[0]
        bias = np.asarray(bias, dtype=np.float32) * np.float32(walker.attr(node, "beta", 1.0))
        if bias.size not in (1, units):
            raise origin.refuse(f"its bias of shape {bias.shape} differs per sample; the catalog's Dense adds one "
                                "bias per unit")
        bias = np.broadcast_to(bias.reshape(-1), (units,)).copy()
    walker.set(node.output[0], walker.assembler.dense(walker.tensor(node.input[0], origin), weight, bias,
                                                      origin=origin, hint=_weight_hint(walker, node, 1)))


@handles("MatMul")
def matmul(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    if not walker.is_data(node.input[0]) or walker.is_data(node.input[1]):
        raise origin.refuse("it multiplies by a computed tensor; the catalog's Dense multiplies by a "
                            "constant weight")
    weight = walker.constant(node.input[1], origin, "weight")
    if weight.ndim != 2:
        raise origin.refuse(f"its weight has shape {weight.shape}; the catalog's Dense needs a matrix")
    walker.set(node.output[0], walker.assembler.dense(walker.tensor(node.input[0], origin), weight.T, None,
                                                      origin=origin, hint=_weight_hint(walker, node, 1)))


@handles("BatchNormalization")
def batch_norm(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    if walker.attr(node, "training_mode", 0):
        raise origin.refuse("it normalises with the batch's own statistics (training mode); export the model "
                            "in eval mode")
    _unused_extra_outputs(walker, node, origin, "running statistics")
    scale, bias, mean, var = (walker.constant(node.input[i], origin, what)
                              for i, what in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "variance")))
    walker.set(node.output[0], walker.assembler.batch_norm(
        walker.tensor(node.input[0], origin), scale, bias, mean, var,
        epsilon=decimal(walker.attr(node, "epsilon", 1e-5)), momentum=decimal(walker.attr(node, "momentum", 0.9)),
        origin=origin, hint=_weight_hint(walker, node, 1)))


# ---------------------------------------------------------------------- pooling
@handles("MaxPool", "AveragePool")
def pool(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    kind = "max" if node.op_type == "MaxPool" else "avg"
    _unused_extra_outputs(walker, node, origin, "indices")
    if any(d != 1 for d in walker.attr(node, "dilations", [1, 1])):
        raise origin.refuse("it pools with dilation; the catalog's pooling would need a dilation setting")
    taken = _take_pending_pad(walker, node.input[0], (NEGATIVE_INFINITY_PAD,)) if kind == "max" else None
    source, before = taken if taken else (walker.tensor(node.input[0], origin), Pads())
    kernel = list(walker.attr(node, "kernel_shape"))
    spatial = (source.shape[1] + before.top + before.bottom, source.shape[2] + before.left + before.right) \
        if len(source.shape) == 3 else source.shape[1:]
    strides, _, pads = _window(walker, node, spatial, kernel, origin)
    pads = _add_pads(before, pads)
    if walker.attr(node, "ceil_mode", 0):
        widened = ceil_mode_pads(source.shape[1:], kernel, strides, pads) if len(source.shape) == 3 else pads
        if widened is None:
            raise origin.refuse("with ceil_mode its last window starts in the padding; the catalog's pooling "
                                "would need a ceil_mode setting")
        if widened != pads and kind == "avg" and walker.attr(node, "count_include_pad", 0) and not pads.is_zero:
            raise origin.refuse("it combines ceil_mode with padding that counts in the average; the catalog's "
                                "AvgPool2D would need both settings")
        pads = widened
    walker.set(node.output[0], walker.assembler.pool2d(
        source, kind, kernel=kernel, strides=strides, pads=pads, origin=origin,
        count_pads=bool(walker.attr(node, "count_include_pad", 0))))


@handles("GlobalAveragePool", "GlobalMaxPool")
def global_pool(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    kind = "max" if node.op_type == "GlobalMaxPool" else "avg"
    walker.set(node.output[0], walker.assembler.global_pool(walker.tensor(node.input[0], origin), kind,
                                                            keep_dims=True, origin=origin))


@handles("ReduceMean", "ReduceMax")
def reduce(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    source = walker.tensor(node.input[0], origin)
    rank = len(source.shape) + 1
    axes = walker.attr(node, "axes", None)
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = walker.constant(node.input[1], origin, "axes").tolist()
    if axes is None or sorted(a % rank for a in axes) != [2, 3] or rank != 4:
        raise origin.refuse(f"it reduces over axes {axes} of a rank-{rank} tensor; the catalog's global pooling "
                            "reduces over height and width of an image")
    kind = "max" if node.op_type == "ReduceMax" else "avg"
    walker.set(node.output[0], walker.assembler.global_pool(
        source, kind, keep_dims=bool(walker.attr(node, "keepdims", 1)), origin=origin))


# ---------------------------------------------------------------------- activations
def _activate(kind: str, alpha_name: str | None = None, default: float | None = None) -> Handler:
    def handler(walker: OnnxWalker, node: Any, origin: Origin) -> None:
        alpha = decimal(walker.attr(node, alpha_name, default)) if alpha_name else None
        walker.set(node.output[0], walker.assembler.activation(
            walker.tensor(node.input[0], origin), kind, alpha=alpha, origin=origin,
            sole_use=walker.sole_use(node.input[0])))
    return handler


for _op, _kind in (("Relu", "relu"), ("Sigmoid", "sigmoid"), ("Tanh", "tanh")):
    HANDLERS[_op] = _activate(_kind)
HANDLERS["LeakyRelu"] = _activate("leaky_relu", "alpha", 0.01)
HANDLERS["Elu"] = _activate("elu", "alpha", 1.0)


@handles("Gelu")
def gelu(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    if walker.attr(node, "approximate", "none") == "tanh":
        walker.assembler.notes.append(f"{origin.node}: GELU's tanh approximation became the exact GELU "
                                      "(outputs differ by up to about 0.0005)")
    _activate("gelu")(walker, node, origin)


@handles("Softmax")
def softmax(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    source = walker.tensor(node.input[0], origin)
    rank = len(source.shape) + 1
    axis = walker.attr(node, "axis", 1 if walker.opset < 13 else -1) % rank
    # before opset 13, Softmax flattened every axis from ``axis`` on into one
    flattened = walker.opset < 13 and rank > 2 and math.prod(source.shape[1:]) > 1
    if axis != 1 or flattened:
        raise origin.refuse(f"it normalises over axis {axis} of a rank-{rank} tensor; the catalog's Softmax "
                            "normalises over the channel axis")
    _activate("softmax")(walker, node, origin)


@handles("Clip")
def clip(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    if walker.opset < 11:
        low, high = walker.attr(node, "min", None), walker.attr(node, "max", None)
    else:
        low, high = (walker.optional_constant(node, i, origin, what) for i, what in ((1, "minimum"), (2, "maximum")))
    low = None if low is None else float(low)
    high = None if high is None or math.isinf(float(high)) else float(high)
    if low == 0.0 and high is None:
        kind = "relu"
    elif low == 0.0 and high == 6.0:
        kind = "relu6"
    else:
        raise origin.refuse(f"it clips to [{low}, {high}]; the catalog has ReLU (0, inf) and ReLU6 (0, 6) only")
    walker.set(node.output[0], walker.assembler.activation(walker.tensor(node.input[0], origin), kind,
                                                           origin=origin, sole_use=walker.sole_use(node.input[0])))


# ---------------------------------------------------------------------- arithmetic
@handles("Add", "Sum", "Sub", "Mul", "Div")
def arithmetic(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    data = _data_inputs(walker, node)
    if len(data) == len([n for n in node.input if n]):
        if node.op_type not in ("Add", "Sum"):
            raise origin.refuse(f"it combines two computed tensors with {node.op_type}; the catalog merges "
                                "branches with Add and Concatenate only")
        tensors = [walker.tensor(name, origin) for name in node.input if name]
        walker.set(node.output[0], walker.assembler.add(tensors, origin))
        return
    if len(node.input) != 2:
        raise origin.refuse("it adds constants to several tensors at once; the catalog cannot")
    first_is_data = walker.is_data(node.input[0])
    name = node.input[0] if first_is_data else node.input[1]
    constant = walker.constant(node.input[1] if first_is_data else node.input[0], origin, "constant")
    source = walker.tensor(name, origin)
    op = node.op_type
    if not first_is_data and op in ("Sub", "Div"):
        raise origin.refuse(f"it computes constant {'-' if op == 'Sub' else '/'} tensor; the catalog would need "
                            "a layer for it")
    neutral = 1.0 if op in ("Mul", "Div") else 0.0
    if np.all(constant == neutral):
        walker.set(node.output[0], source)
        return
    options = {"Add": {"shift": constant}, "Sum": {"shift": constant}, "Sub": {"shift": -constant},
               "Mul": {"scale": constant}, "Div": {"scale": 1.0 / constant}}[op]
    walker.set(node.output[0], walker.assembler.affine(source, origin=origin, sole_use=walker.sole_use(name),
                                                       **options))


@handles("Concat")
def concat(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    if len(_data_inputs(walker, node)) != len([n for n in node.input if n]):
        raise origin.refuse("it joins a computed tensor with a constant; the catalog's Concatenate joins layers")
    tensors = [walker.tensor(name, origin) for name in node.input if name]
    rank = len(tensors[0].shape) + 1
    axis = walker.attr(node, "axis") % rank
    if axis == 0:
        raise origin.refuse("it joins along the batch axis; the catalog keeps each sample apart")
    walker.set(node.output[0], walker.assembler.concat(tensors, axis - 1, origin))


# ---------------------------------------------------------------------- shapes
@handles("Flatten")
def flatten(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    source = walker.tensor(node.input[0], origin)
    if walker.attr(node, "axis", 1) % (len(source.shape) + 1) != 1:
        raise origin.refuse("it flattens from an axis other than 1; the catalog's Flatten keeps the batch apart")
    walker.set(node.output[0], walker.assembler.reshape(source, (math.prod(source.shape),), origin))


@handles("Reshape")
def reshape(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    source = walker.tensor(node.input[0], origin)
    target = walker.known.get(node.input[1])
    if target is None:
        raise origin.refuse("its target shape is computed from data; the catalog's Reshape needs a fixed shape")
    allow_zero = walker.attr(node, "allowzero", 0)
    resolved = []
    for batch, value in zip(walker.probes, _per_probe(target, len(walker.probes))):
        full = (batch, *source.shape)
        dims = [full[i] if d == 0 and not allow_zero and i < len(full) else int(d) for i, d in enumerate(value)]
        if dims.count(-1) == 1:
            known = math.prod(d for d in dims if d != -1)
            dims[dims.index(-1)] = math.prod(full) // known if known else 0
        resolved.append(np.array(dims, dtype=np.int64))
    shape = walker.per_sample(Known(tuple(resolved)), origin, "target shape")
    walker.set(node.output[0], walker.assembler.reshape(source, shape, origin))


def _per_probe(known: Known, count: int) -> list[np.ndarray]:
    return [known.values[min(i, len(known.values) - 1)] for i in range(count)]


@handles("Squeeze", "Unsqueeze")
def squeeze(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    source = walker.tensor(node.input[0], origin)
    axes = walker.attr(node, "axes", None)
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = walker.constant(node.input[1], origin, "axes").tolist()
    full = [None, *source.shape]  # None: the batch axis
    if node.op_type == "Squeeze":
        rank = len(full)
        drop = {a % rank for a in axes} if axes is not None else {i for i, d in enumerate(full) if d == 1}
        if 0 in drop:
            raise origin.refuse("it removes the batch axis; the catalog keeps the batch apart")
        shape = [d for i, d in enumerate(full) if i not in drop]
    else:
        rank = len(full) + len(axes)
        shape = list(full)
        for axis in sorted(a % rank for a in axes):
            shape.insert(axis, 1)
        if shape[0] is not None:
            raise origin.refuse("it adds an axis before the batch axis; the catalog keeps the batch first")
    walker.set(node.output[0], walker.assembler.reshape(source, tuple(shape[1:]), origin))


@handles("Identity", "Cast", "Transpose")
def identity(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    if node.op_type == "Cast" and walker.attr(node, "to") not in (1, 10, 11, 16):
        raise origin.refuse("it turns data into non-float values; the catalog's layers work on floats")
    if node.op_type == "Transpose":
        perm = list(walker.attr(node, "perm", []))
        if perm != sorted(perm):
            raise origin.refuse(f"it permutes the axes ({perm}); the catalog would need a Permute layer")
    walker.set(node.output[0], walker.tensor(node.input[0], origin))


@handles("Dropout")
def dropout(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    _unused_extra_outputs(walker, node, origin, "mask")
    if walker.opset >= 12:
        ratio = walker.optional_constant(node, 1, origin, "ratio")
        rate = 0.5 if ratio is None else decimal(ratio)
    else:
        rate = decimal(walker.attr(node, "ratio", 0.5))
    walker.set(node.output[0], walker.assembler.dropout(walker.tensor(node.input[0], origin), rate, origin))


@handles("Pad")
def pad(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    if walker.attr(node, "mode", "constant") != "constant":
        raise origin.refuse(f"it pads in {walker.attr(node, 'mode')!r} mode; the catalog's ZeroPadding2D pads "
                            "with zeros")
    source = walker.tensor(node.input[0], origin)
    rank = len(source.shape) + 1
    if walker.opset < 11:
        pads, fill = list(walker.attr(node, "pads")), float(walker.attr(node, "value", 0.0))
    else:
        pads = walker.constant(node.input[1], origin, "pads").tolist()
        value = walker.optional_constant(node, 2, origin, "padding value")
        fill = 0.0 if value is None else float(value)
        axes = walker.optional_constant(node, 3, origin, "axes")
        if axes is not None:
            full = [0] * (2 * rank)
            for i, axis in enumerate(a % rank for a in axes.tolist()):
                full[axis], full[rank + axis] = pads[i], pads[len(axes) + i]
            pads = full
    befores, afters = pads[:rank], pads[rank:]
    if rank != 4 or any(befores[:2]) or any(afters[:2]) or min(pads) < 0:
        raise origin.refuse(f"it pads {pads} (negative values crop); the catalog's ZeroPadding2D adds rows and "
                            "columns to images only")
    walker.pending_pads[node.output[0]] = (source, Pads(befores[2], befores[3], afters[2], afters[3]), fill)


@handles("Resize", "Upsample")
def resize(walker: OnnxWalker, node: Any, origin: Origin) -> None:
    source = walker.tensor(node.input[0], origin)
    if len(source.shape) != 3:
        raise origin.refuse("it resizes something other than an image; the catalog's UpSampling2D works on images")
    factors = _resize_factors(walker, node, source, origin)
    mode = walker.attr(node, "mode", "nearest")
    if node.op_type == "Upsample":
        transform, nearest = "asymmetric", "floor"
    else:
        transform = walker.attr(node, "coordinate_transformation_mode", "half_pixel")
        nearest = walker.attr(node, "nearest_mode", "round_prefer_floor")
    # integer factors: nearest pixels match torch's for these coordinate rules (no ties arise)
    exact_nearest = (transform == "asymmetric" and nearest == "floor") or (
        transform in ("half_pixel", "pytorch_half_pixel") and nearest.startswith("round"))
    if mode == "nearest" and exact_nearest:
        interpolation = "nearest"
    elif mode in ("linear", "bilinear") and transform in ("half_pixel", "pytorch_half_pixel"):
        interpolation = "bilinear"
    else:
        raise origin.refuse(f"it resizes with mode {mode!r} and coordinates {transform!r} ({nearest}); the "
                            "catalog's UpSampling2D offers nearest (floor) and bilinear (half-pixel) only")
    walker.set(node.output[0], walker.assembler.upsample(source, factors, interpolation, origin))


def _resize_factors(walker: OnnxWalker, node: Any, source: Tensor, origin: Origin) -> list[int]:
    if node.op_type == "Upsample" and walker.opset < 9:
        scales = list(walker.attr(node, "scales"))
    else:
        position = 1 if node.op_type == "Upsample" or walker.opset < 11 else 2
        scales = walker.optional_constant(node, position, origin, "scales")
        scales = None if scales is None or scales.size == 0 else scales.tolist()
    if scales is None:
        sizes = walker.known.get(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        if sizes is None:
            raise origin.refuse("its output size is computed from data; the catalog's UpSampling2D needs a "
                                "fixed factor")
        # the batch entry of the sizes may follow the batch; the rest must not
        target = [int(d) for d in sizes.value[1:]]
        if any(list(value[1:]) != target for value in sizes.values):
            raise origin.refuse("its output size depends on the batch size; the catalog's UpSampling2D needs a "
                                "fixed factor")
        scales = [t / s for t, s in zip(target, source.shape)]
    else:
        scales = scales[1:]
    if len(scales) != 3 or scales[0] != 1 or any(s < 1 or s != int(s) for s in scales[1:]):
        raise origin.refuse(f"it scales by {scales}; the catalog's UpSampling2D enlarges height and width by "
                            "whole factors")
    return [int(s) for s in scales[1:]]
