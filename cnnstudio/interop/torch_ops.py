"""One handler per torch.nn layer, functional call and tensor method the catalog can
express.  Each reads the call's settings and weights and returns the ``Tensor``
the assembler made; the walker checks its shape against torch's own result.

Imported only when a module is imported (it loads torch).
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .assembly import Origin, Tensor
from .torch_import import FxWalker
from .window_mapping import Pads, ceil_mode_pads

Handler = Callable[[FxWalker, Any, Origin], Tensor]
MODULE_HANDLERS: dict[type, Handler] = {}
FUNCTION_HANDLERS: dict[Any, Handler] = {}
METHOD_HANDLERS: dict[str, Handler] = {}


def _register(table: dict, keys: tuple, handler: Handler) -> Handler:
    for key in keys:
        table[key] = handler
    return handler


def modules(*types: type):
    return lambda handler: _register(MODULE_HANDLERS, types, handler)


def functions(*targets: Any):
    return lambda handler: _register(FUNCTION_HANDLERS, targets, handler)


def methods(*names: str):
    return lambda handler: _register(METHOD_HANDLERS, names, handler)


def arg(node: Any, position: int, name: str, default: Any = None) -> Any:
    """A call's argument by position or keyword (``position`` counts the input tensor as 0)."""
    if len(node.args) > position:
        return node.args[position]
    return node.kwargs.get(name, default)


def _pair(value: Any) -> list[int]:
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value] * (2 if len(value) == 1 else 1)
    return [int(value), int(value)]


def _array(value: Any) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", torch.float32).numpy().copy()
    return np.asarray(value, dtype=np.float32)


def _hint(node: Any) -> str | None:
    return node.target if node.op == "call_module" else None


def _input(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return walker.tensor(node.args[0], origin)


# ---------------------------------------------------------------------- layers with weights
def _conv(walker: FxWalker, node: Any, origin: Origin, weight: Any, bias: Any, stride: Any, padding: Any,
          dilation: Any, groups: int) -> Tensor:
    weight = _array(weight)
    kernel, dilation = list(weight.shape[2:]), _pair(dilation)
    if padding == "valid":
        pads = Pads()
    elif padding == "same":  # torch: total d*(k-1), the odd pixel after
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        pads = Pads(totals[0] // 2, totals[1] // 2, totals[0] - totals[0] // 2, totals[1] - totals[1] // 2)
    else:
        pads = Pads.symmetric(*_pair(padding))
    return walker.assembler.conv2d(_input(walker, node, origin), weight, _array(bias), strides=_pair(stride),
                                   dilations=dilation, pads=pads, groups=int(groups), origin=origin,
                                   hint=_hint(node))


@modules(nn.Conv2d)
def conv_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    if layer.padding_mode != "zeros":
        raise origin.refuse(f"it pads in {layer.padding_mode!r} mode; the catalog's convolutions pad with zeros")
    return _conv(walker, node, origin, layer.weight, layer.bias, layer.stride, layer.padding, layer.dilation,
                 layer.groups)


@functions(F.conv2d, torch.conv2d)
def conv_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    value = walker.value
    return _conv(walker, node, origin, value(arg(node, 1, "weight")), value(arg(node, 2, "bias")),
                 value(arg(node, 3, "stride", 1)), value(arg(node, 4, "padding", 0)),
                 value(arg(node, 5, "dilation", 1)), value(arg(node, 6, "groups", 1)))


@modules(nn.Linear)
def linear_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    return walker.assembler.dense(_input(walker, node, origin), _array(layer.weight), _array(layer.bias),
                                  origin=origin, hint=_hint(node))


@functions(F.linear)
def linear_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return walker.assembler.dense(_input(walker, node, origin), _array(walker.value(arg(node, 1, "weight"))),
                                  _array(walker.value(arg(node, 2, "bias"))), origin=origin)


@functions(torch.matmul, operator.matmul, torch.mm)
@methods("matmul", "mm")
def matmul(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    right = node.args[1]
    if walker.is_data(right):
        raise origin.refuse("it multiplies by a computed tensor; the catalog's Dense multiplies by a constant weight")
    weight = _array(walker.value(right))
    if weight.ndim != 2:
        raise origin.refuse(f"its weight has shape {weight.shape}; the catalog's Dense needs a matrix")
    return walker.assembler.dense(_input(walker, node, origin), weight.T.copy(), None, origin=origin)


@modules(nn.BatchNorm1d, nn.BatchNorm2d)
def batch_norm_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    if not layer.track_running_stats or layer.running_mean is None:
        raise origin.refuse("it normalises with each batch's own statistics even in eval mode; the catalog's "
                            "BatchNorm keeps running statistics")
    channels = layer.num_features
    momentum = layer.momentum
    if momentum is None:
        walker.assembler.notes.append(f"{node.target}: a cumulative moving average (momentum=None) became "
                                      "momentum 0.9; this matters only when fine-tuning")
        momentum = 0.1
    scale = _array(layer.weight) if layer.affine else np.ones(channels, dtype=np.float32)
    bias = _array(layer.bias) if layer.affine else np.zeros(channels, dtype=np.float32)
    return walker.assembler.batch_norm(_input(walker, node, origin), scale, bias, _array(layer.running_mean),
                                       _array(layer.running_var), epsilon=float(layer.eps),
                                       momentum=round(1.0 - momentum, 12), origin=origin, hint=_hint(node))


# ---------------------------------------------------------------------- pooling
def _pool(walker: FxWalker, node: Any, origin: Origin, kind: str, kernel: Any, stride: Any, padding: Any,
          ceil_mode: bool, count_pads: bool = False) -> Tensor:
    source = _input(walker, node, origin)
    kernel = _pair(kernel)
    strides = _pair(stride) if stride not in (None, [], ()) else kernel
    pads = Pads.symmetric(*_pair(padding))
    if ceil_mode and len(source.shape) == 3:
        widened = ceil_mode_pads(source.shape[1:], kernel, strides, pads)
        if widened is None or (widened != pads and count_pads and not pads.is_zero):
            raise origin.refuse("its ceil_mode windows cannot be expressed with the catalog's padding; the "
                                "catalog's pooling would need a ceil_mode setting")
        pads = widened
    return walker.assembler.pool2d(source, kind, kernel=kernel, strides=strides, pads=pads, origin=origin,
                                   count_pads=count_pads, hint=_hint(node))


@modules(nn.MaxPool2d)
def max_pool_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    if max(_pair(layer.dilation)) > 1:
        raise origin.refuse("it pools with dilation; the catalog's MaxPool2D would need a dilation setting")
    return _pool(walker, node, origin, "max", layer.kernel_size, layer.stride, layer.padding, layer.ceil_mode)


@functions(F.max_pool2d, torch.max_pool2d)
def max_pool_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    if max(_pair(arg(node, 4, "dilation", 1))) > 1 or arg(node, 6, "return_indices", False):
        raise origin.refuse("it pools with dilation or returns indices; the catalog's MaxPool2D does neither")
    return _pool(walker, node, origin, "max", arg(node, 1, "kernel_size"), arg(node, 2, "stride"),
                 arg(node, 3, "padding", 0), arg(node, 5, "ceil_mode", False))


@modules(nn.AvgPool2d)
def avg_pool_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    if layer.divisor_override:
        raise origin.refuse("it divides by a fixed number; the catalog's AvgPool2D averages")
    return _pool(walker, node, origin, "avg", layer.kernel_size, layer.stride, layer.padding, layer.ceil_mode,
                 layer.count_include_pad)


@functions(F.avg_pool2d)
def avg_pool_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    if arg(node, 6, "divisor_override"):
        raise origin.refuse("it divides by a fixed number; the catalog's AvgPool2D averages")
    return _pool(walker, node, origin, "avg", arg(node, 1, "kernel_size"), arg(node, 2, "stride"),
                 arg(node, 3, "padding", 0), arg(node, 4, "ceil_mode", False), arg(node, 5, "count_include_pad", True))


def _adaptive(walker: FxWalker, node: Any, origin: Origin, kind: str, size: Any) -> Tensor:
    source = _input(walker, node, origin)
    if len(source.shape) != 3:
        raise origin.refuse("it pools something other than an image; the catalog's pooling works on images")
    wanted = [source.shape[1 + i] if s is None else int(s) for i, s in enumerate(
        size if isinstance(size, (list, tuple)) else (size, size))]
    return walker.assembler.adaptive_pool(source, kind, wanted, origin=origin, hint=_hint(node))


@modules(nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
def adaptive_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    kind = "max" if isinstance(layer, nn.AdaptiveMaxPool2d) else "avg"
    if kind == "max" and layer.return_indices:
        raise origin.refuse("it returns indices; the catalog's pooling gives values only")
    return _adaptive(walker, node, origin, kind, layer.output_size)


@functions(F.adaptive_avg_pool2d, F.adaptive_max_pool2d)
def adaptive_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    kind = "max" if node.target is F.adaptive_max_pool2d else "avg"
    return _adaptive(walker, node, origin, kind, arg(node, 1, "output_size"))


@functions(torch.mean, torch.amax)
@methods("mean", "amax")
def reduce(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    source = _input(walker, node, origin)
    dims = arg(node, 1, "dim")
    dims = [dims] if isinstance(dims, int) else list(dims or [])
    rank = len(source.shape) + 1
    if rank != 4 or sorted(d % rank for d in dims) != [2, 3]:
        raise origin.refuse(f"it reduces over {dims} of a rank-{rank} tensor; the catalog's global pooling "
                            "reduces over height and width of an image")
    kind = "max" if getattr(node.target, "__name__", node.target) == "amax" else "avg"
    return walker.assembler.global_pool(source, kind, keep_dims=bool(arg(node, 2, "keepdim", False)), origin=origin)


# ---------------------------------------------------------------------- activations
def _activate(walker: FxWalker, node: Any, origin: Origin, kind: str, alpha: float | None = None) -> Tensor:
    return walker.assembler.activation(_input(walker, node, origin), kind, alpha=alpha, origin=origin,
                                       sole_use=walker.sole_use(node, node.args[0]), hint=_hint(node))


def _simple(kind: str) -> Handler:
    return lambda walker, node, origin: _activate(walker, node, origin, kind)


for _kind, _module, _functions, _methods in (
        ("relu", nn.ReLU, (F.relu, torch.relu, F.relu_, torch.relu_), ("relu", "relu_")),
        ("relu6", nn.ReLU6, (F.relu6,), ()),
        ("sigmoid", nn.Sigmoid, (torch.sigmoid, F.sigmoid), ("sigmoid",)),
        ("tanh", nn.Tanh, (torch.tanh, F.tanh), ("tanh",))):
    _register(MODULE_HANDLERS, (_module,), _simple(_kind))
    _register(FUNCTION_HANDLERS, _functions, _simple(_kind))
    _register(METHOD_HANDLERS, _methods, _simple(_kind))


def _sloped(kind: str, setting: str, default: float) -> tuple[Handler, Handler]:
    """Handlers for an activation with a slope or scale: the module's attribute, the function's keyword."""
    def from_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
        return _activate(walker, node, origin, kind, float(getattr(walker.submodule(node), setting)))

    def from_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
        return _activate(walker, node, origin, kind, float(arg(node, 1, setting, default)))
    return from_module, from_function


for _kind, _module, _function, _setting, _default in (
        ("leaky_relu", nn.LeakyReLU, F.leaky_relu, "negative_slope", 0.01), ("elu", nn.ELU, F.elu, "alpha", 1.0)):
    MODULE_HANDLERS[_module], FUNCTION_HANDLERS[_function] = _sloped(_kind, _setting, _default)


def _gelu(walker: FxWalker, node: Any, origin: Origin, approximate: str) -> Tensor:
    if approximate == "tanh":
        walker.assembler.notes.append(f"{node.name}: GELU's tanh approximation became the exact GELU "
                                      "(outputs differ by up to about 0.0005)")
    return _activate(walker, node, origin, "gelu")


@modules(nn.GELU)
def gelu_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return _gelu(walker, node, origin, walker.submodule(node).approximate)


@functions(F.gelu)
def gelu_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return _gelu(walker, node, origin, arg(node, 1, "approximate", "none"))


def _softmax(walker: FxWalker, node: Any, origin: Origin, dim: Any) -> Tensor:
    rank = len(_input(walker, node, origin).shape) + 1
    if dim is None or int(dim) % rank != 1:
        raise origin.refuse(f"it normalises over dim {dim} of a rank-{rank} tensor; the catalog's Softmax "
                            "normalises over the channel axis (dim 1)")
    return _activate(walker, node, origin, "softmax")


@modules(nn.Softmax)
def softmax_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return _softmax(walker, node, origin, walker.submodule(node).dim)


@functions(F.softmax, torch.softmax)
@methods("softmax")
def softmax_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return _softmax(walker, node, origin, arg(node, 1, "dim"))


def _hardtanh(walker: FxWalker, node: Any, origin: Origin, low: float, high: float) -> Tensor:
    if (low, high) != (0.0, 6.0):
        raise origin.refuse(f"it clips to [{low}, {high}]; the catalog has ReLU (0, inf) and ReLU6 (0, 6) only")
    return _activate(walker, node, origin, "relu6")


@modules(nn.Hardtanh)
def hardtanh_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    return _hardtanh(walker, node, origin, float(layer.min_val), float(layer.max_val))


@functions(F.hardtanh)
def hardtanh_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return _hardtanh(walker, node, origin, float(arg(node, 1, "min_val", -1.0)), float(arg(node, 2, "max_val", 1.0)))


# ---------------------------------------------------------------------- regularisation, shapes, merges
@modules(nn.Dropout, nn.Dropout2d)
def dropout_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    if isinstance(layer, nn.Dropout2d):
        walker.assembler.notes.append(f"{node.target}: Dropout2d (whole channels) became Dropout (single "
                                      "values); the same at inference, different while fine-tuning")
    return walker.assembler.dropout(_input(walker, node, origin), float(layer.p), origin, hint=_hint(node))


@functions(F.dropout)
def dropout_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return walker.assembler.dropout(_input(walker, node, origin), float(arg(node, 1, "p", 0.5)), origin)


@modules(nn.Flatten, nn.Unflatten)
@functions(torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze)
@methods("view", "reshape", "flatten", "squeeze", "unsqueeze", "unflatten")
def reshape(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return walker.assembler.reshape(_input(walker, node, origin), walker.recorded_shape(node, origin), origin)


@modules(nn.Identity)
@methods("contiguous", "clone", "detach", "float", "to")
def identity(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    if walker.recorded[node].dtype != torch.float32:
        raise origin.refuse("it turns data into another type; the catalog's layers work on float32")
    return _input(walker, node, origin)


def _arithmetic(op: str) -> Handler:
    def handler(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
        left, right = node.args[0], node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
        if arg(node, 2, "alpha", 1) != 1:
            raise origin.refuse("it scales the second operand (alpha); the catalog's Add adds plainly")
        if walker.is_data(left) and walker.is_data(right):
            if op != "add":
                raise origin.refuse(f"it combines two computed tensors with {op}; the catalog merges branches "
                                    "with Add and Concatenate only")
            return walker.assembler.add([walker.tensor(left, origin), walker.tensor(right, origin)], origin)
        if not walker.is_data(left) and op in ("sub", "div"):
            raise origin.refuse(f"it computes constant {op} tensor; the catalog would need a layer for it")
        data, constant = (left, right) if walker.is_data(left) else (right, left)
        constant = _array(walker.value(constant))
        source = walker.tensor(data, origin)
        if np.all(constant == (1.0 if op in ("mul", "div") else 0.0)):
            return source
        options = {"add": {"shift": constant}, "sub": {"shift": -constant}, "mul": {"scale": constant},
                   "div": {"scale": 1.0 / constant}}[op]
        return walker.assembler.affine(source, origin=origin, sole_use=walker.sole_use(node, data), **options)
    return handler


for _op, _functions, _methods in (
        ("add", (operator.add, operator.iadd, torch.add), ("add", "add_")),
        ("sub", (operator.sub, operator.isub, torch.sub), ("sub", "sub_")),
        ("mul", (operator.mul, operator.imul, torch.mul), ("mul", "mul_")),
        ("div", (operator.truediv, operator.itruediv, torch.div), ("div", "div_"))):
    _register(FUNCTION_HANDLERS, _functions, _arithmetic(_op))
    _register(METHOD_HANDLERS, _methods, _arithmetic(_op))


@functions(torch.cat, torch.concat, torch.concatenate)
def concat(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    parts = [walker.tensor(part, origin) for part in node.args[0]]
    dim = int(arg(node, 1, "dim", 0))
    rank = len(parts[0].shape) + 1
    if dim % rank == 0:
        raise origin.refuse("it joins along the batch axis; the catalog keeps each sample apart")
    return walker.assembler.concat(parts, dim % rank - 1, origin)


def _resize(walker: FxWalker, node: Any, origin: Origin, mode: str, align_corners: Any) -> Tensor:
    source = _input(walker, node, origin)
    target = walker.recorded_shape(node, origin)
    if len(source.shape) != 3 or any(t % s for t, s in zip(target[1:], source.shape[1:])):
        raise origin.refuse(f"it resizes {source.shape} to {target}; the catalog's UpSampling2D enlarges images "
                            "by whole factors")
    if mode in ("nearest", "nearest-exact"):
        interpolation = "nearest"
    elif mode == "bilinear" and not align_corners:
        interpolation = "bilinear"
    else:
        raise origin.refuse(f"it resizes with mode {mode!r} (align_corners={align_corners}); the catalog's "
                            "UpSampling2D offers nearest and bilinear without align_corners")
    factors = [t // s for t, s in zip(target[1:], source.shape[1:])]
    return walker.assembler.upsample(source, factors, interpolation, origin, hint=_hint(node))


@modules(nn.Upsample)
def upsample_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    return _resize(walker, node, origin, layer.mode, layer.align_corners)


@functions(F.interpolate)
def interpolate(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    return _resize(walker, node, origin, arg(node, 3, "mode", "nearest"), arg(node, 4, "align_corners"))


def _zero_pad(walker: FxWalker, node: Any, origin: Origin, padding: Any, value: Any) -> Tensor:
    pad = [int(p) for p in (padding if isinstance(padding, (list, tuple)) else [padding] * 4)]
    pad += [0] * (4 - len(pad))
    if len(pad) != 4 or min(pad) < 0 or value not in (None, 0, 0.0):
        raise origin.refuse(f"it pads {pad} with {value}; the catalog's ZeroPadding2D adds zero rows and columns "
                            "to images")
    left, right, top, bottom = pad
    return walker.assembler.zero_pad(_input(walker, node, origin), Pads(top, left, bottom, right), origin,
                                     hint=_hint(node))


@modules(nn.ZeroPad2d, nn.ConstantPad2d)
def pad_module(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    layer = walker.submodule(node)
    return _zero_pad(walker, node, origin, layer.padding, getattr(layer, "value", 0.0))


@functions(F.pad)
def pad_function(walker: FxWalker, node: Any, origin: Origin) -> Tensor:
    if arg(node, 2, "mode", "constant") != "constant":
        raise origin.refuse(f"it pads in {arg(node, 2, 'mode')!r} mode; the catalog's ZeroPadding2D pads with zeros")
    return _zero_pad(walker, node, origin, arg(node, 1, "pad"), arg(node, 3, "value", 0.0))
