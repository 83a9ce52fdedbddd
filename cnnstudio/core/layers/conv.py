"""Convolution layers: Conv2D, Conv1D, DepthwiseConv2D, SeparableConv2D."""

from __future__ import annotations

from typing import Sequence

from .activation import activation_calls, activation_param
from .base import (Explanation, LayerSpec, ModuleCall, ParamCount, ParamError, ParamSpec, Params,
                   ReceptiveStep, Shape, ShapeError, TorchRecipe, kw)
from .window import axis_lines, axis_windows, check_fits, dilation_stride_conflict, torch_padding, window_params

KERNEL_MAX_2D = 256
KERNEL_MAX_1D = 4096
CHANNELS_MAX = 65536


def _pair_text(values: Sequence[int]) -> str:
    return "x".join(str(v) for v in values)


class _WindowConv(LayerSpec):
    """What all convolutions share: windows, padding, activation, bias."""

    family = "Convolution"
    spatial_axes = 2

    def _windows(self, p: Params, inputs: Sequence[Shape]):
        self.check_rank(inputs)
        windows = axis_windows(dict(p), inputs[0][1:])
        check_fits(windows)
        return windows

    def check_params(self, values: dict) -> None:
        if dilation_stride_conflict(values):
            raise ParamError("dilation_rate", "a stride above 1 cannot be combined with a dilation above 1 "
                                              "(as in Keras); set one of them to 1")

    def receptive_step(self, p: Params, inputs: Sequence[Shape]) -> ReceptiveStep:
        windows = axis_windows(dict(p), inputs[0][1:])
        return ReceptiveStep(tuple(w.kernel for w in windows), tuple(w.stride for w in windows),
                             tuple(w.dilation for w in windows), pad_before=tuple(w.pads()[0] for w in windows))

    def _shape_lines(self, p: Params, inputs: Sequence[Shape], explanation: Explanation) -> None:
        windows = axis_windows(dict(p), inputs[0][1:])
        for line in axis_lines(windows, [w.formula() for w in windows]):
            explanation.add(line)

    def _padding_recipe(self, p: Params, inputs: Sequence[Shape]):
        return torch_padding(axis_windows(dict(p), inputs[0][1:]))


class Conv2D(_WindowConv):
    type_name = "Conv2D"
    name_prefix = "conv2d"
    accepts = "image"
    summary = "Slides learned filters over the image; each filter makes one feature map."
    params = (
        ParamSpec("filters", "int", 32, "Number of filters = output channels (feature maps).",
                  minimum=1, maximum=CHANNELS_MAX),
        *window_params(kernel_default=3, kernel_max=KERNEL_MAX_2D),
        ParamSpec("groups", "int", 1, "Split input and output channels into this many independent groups.",
                  minimum=1, maximum=CHANNELS_MAX),
        ParamSpec("use_bias", "bool", True, "Add one learned bias per filter."),
        activation_param(),
    )

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        windows = self._windows(p, inputs)
        channels = inputs[0][0]
        groups = p["groups"]
        if channels % groups or p["filters"] % groups:
            raise ShapeError(f"groups={groups} must divide both the {channels} input channels and "
                             f"the {p['filters']} filters",
                             "Choose groups as a common divisor, or 1 for an ordinary convolution.")
        return (p["filters"], *(w.output for w in windows))

    def _weights_per_filter(self, p: Params, inputs: Sequence[Shape]) -> int:
        kh, kw_ = p["kernel_size"]
        return kh * kw_ * (inputs[0][0] // p["groups"])

    def param_count(self, p: Params, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount((self._weights_per_filter(p, inputs) + int(p["use_bias"])) * p["filters"])

    def macs(self, p: Params, inputs: Sequence[Shape], output: Shape) -> int:
        return output[0] * output[1] * output[2] * self._weights_per_filter(p, inputs)

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        e = Explanation([self.summary])
        self._shape_lines(p, inputs, e)
        kh, kw_ = p["kernel_size"]
        cin = inputs[0][0] // p["groups"]
        bias = " + 1" if p["use_bias"] else ""
        e.add(f"params = ({kh}*{kw_}*{cin}{bias}) * {p['filters']} = {self.param_count(p, inputs, output).total}")
        e.add(f"Each of the {p['filters']} filters sees {kh}x{kw_} pixels across {cin} input channel(s) "
              "and shares its weights over every position.")
        return e

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        padding, before = self._padding_recipe(p, inputs)
        module = ModuleCall("Conv2d", (inputs[0][0], p["filters"]), kw(
            kernel_size=tuple(p["kernel_size"]), stride=tuple(p["strides"]), padding=padding,
            dilation=tuple(p["dilation_rate"]), groups=p["groups"], bias=p["use_bias"]))
        return TorchRecipe(module, before, activation_calls(p["activation"]))

    def key_settings(self, p: Params) -> str:
        parts = [str(p["filters"]), _pair_text(p["kernel_size"])]
        if max(p["strides"]) > 1:
            parts.append(f"stride {_pair_text(p['strides'])}")
        if p["padding"] != "valid":
            parts.append(p["padding"])
        if p["activation"] != "linear":
            parts.append(p["activation"])
        return " · ".join(parts)


class Conv1D(_WindowConv):
    type_name = "Conv1D"
    name_prefix = "conv1d"
    accepts = "sequence"
    spatial_axes = 1
    summary = "Slides learned filters along a sequence; each filter makes one output channel."
    params = (
        ParamSpec("filters", "int", 32, "Number of filters = output channels.", minimum=1, maximum=CHANNELS_MAX),
        *window_params(kernel_default=3, kernel_max=KERNEL_MAX_1D, axes=1),
        ParamSpec("use_bias", "bool", True, "Add one learned bias per filter."),
        activation_param(),
    )

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        windows = self._windows(p, inputs)
        return (p["filters"], windows[0].output)

    def param_count(self, p: Params, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount((p["kernel_size"] * inputs[0][0] + int(p["use_bias"])) * p["filters"])

    def macs(self, p: Params, inputs: Sequence[Shape], output: Shape) -> int:
        return output[0] * output[1] * p["kernel_size"] * inputs[0][0]

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        e = Explanation([self.summary])
        self._shape_lines(p, inputs, e)
        bias = " + 1" if p["use_bias"] else ""
        e.add(f"params = ({p['kernel_size']}*{inputs[0][0]}{bias}) * {p['filters']} = "
              f"{self.param_count(p, inputs, output).total}")
        return e

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        padding, before = self._padding_recipe(p, inputs)
        module = ModuleCall("Conv1d", (inputs[0][0], p["filters"]), kw(
            kernel_size=p["kernel_size"], stride=p["strides"], padding=padding[0],
            dilation=p["dilation_rate"], bias=p["use_bias"]))
        return TorchRecipe(module, before, activation_calls(p["activation"]))

    def key_settings(self, p: Params) -> str:
        parts = [str(p["filters"]), f"k{p['kernel_size']}"]
        if p["activation"] != "linear":
            parts.append(p["activation"])
        return " · ".join(parts)


class DepthwiseConv2D(_WindowConv):
    type_name = "DepthwiseConv2D"
    name_prefix = "depthwise_conv2d"
    accepts = "image"
    summary = "One filter per input channel (no mixing across channels): cheap spatial filtering."
    params = (
        *window_params(kernel_default=3, kernel_max=KERNEL_MAX_2D),
        ParamSpec("depth_multiplier", "int", 1, "Output channels per input channel.", minimum=1, maximum=1024),
        ParamSpec("use_bias", "bool", True, "Add one learned bias per output channel."),
        activation_param(),
    )

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        windows = self._windows(p, inputs)
        return (inputs[0][0] * p["depth_multiplier"], *(w.output for w in windows))

    def param_count(self, p: Params, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        kh, kw_ = p["kernel_size"]
        return ParamCount((kh * kw_ + int(p["use_bias"])) * output[0])

    def macs(self, p: Params, inputs: Sequence[Shape], output: Shape) -> int:
        kh, kw_ = p["kernel_size"]
        return output[0] * output[1] * output[2] * kh * kw_

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        e = Explanation([self.summary])
        self._shape_lines(p, inputs, e)
        kh, kw_ = p["kernel_size"]
        bias = " + 1" if p["use_bias"] else ""
        e.add(f"params = ({kh}*{kw_}{bias}) * {inputs[0][0]}*{p['depth_multiplier']} = "
              f"{self.param_count(p, inputs, output).total}")
        return e

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        padding, before = self._padding_recipe(p, inputs)
        channels = inputs[0][0]
        module = ModuleCall("Conv2d", (channels, output[0]), kw(
            kernel_size=tuple(p["kernel_size"]), stride=tuple(p["strides"]), padding=padding,
            dilation=tuple(p["dilation_rate"]), groups=channels, bias=p["use_bias"]))
        return TorchRecipe(module, before, activation_calls(p["activation"]))

    def key_settings(self, p: Params) -> str:
        return f"{_pair_text(p['kernel_size'])} · x{p['depth_multiplier']}"


class SeparableConv2D(_WindowConv):
    type_name = "SeparableConv2D"
    name_prefix = "separable_conv2d"
    accepts = "image"
    summary = "A depthwise convolution followed by a 1x1 convolution that mixes channels."
    params = (
        ParamSpec("filters", "int", 32, "Output channels of the 1x1 (pointwise) step.",
                  minimum=1, maximum=CHANNELS_MAX),
        *window_params(kernel_default=3, kernel_max=KERNEL_MAX_2D),
        ParamSpec("depth_multiplier", "int", 1, "Depthwise output channels per input channel.",
                  minimum=1, maximum=1024),
        ParamSpec("use_bias", "bool", True, "Add one learned bias per filter (after the pointwise step)."),
        activation_param(),
    )

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        windows = self._windows(p, inputs)
        return (p["filters"], *(w.output for w in windows))

    def _counts(self, p: Params, inputs: Sequence[Shape]) -> tuple[int, int, int]:
        kh, kw_ = p["kernel_size"]
        middle = inputs[0][0] * p["depth_multiplier"]
        return kh * kw_ * middle, middle * p["filters"], p["filters"] if p["use_bias"] else 0

    def param_count(self, p: Params, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount(sum(self._counts(p, inputs)))

    def macs(self, p: Params, inputs: Sequence[Shape], output: Shape) -> int:
        depthwise, pointwise, _ = self._counts(p, inputs)
        return output[1] * output[2] * (depthwise + pointwise)

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        e = Explanation([self.summary])
        self._shape_lines(p, inputs, e)
        kh, kw_ = p["kernel_size"]
        middle = inputs[0][0] * p["depth_multiplier"]
        bias = f" + {p['filters']}" if p["use_bias"] else ""
        e.add(f"params = {kh}*{kw_}*{middle} + {middle}*{p['filters']}{bias} = "
              f"{self.param_count(p, inputs, output).total}")
        return e

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        padding, before = self._padding_recipe(p, inputs)
        channels = inputs[0][0]
        middle = channels * p["depth_multiplier"]
        depthwise = ModuleCall("Conv2d", (channels, middle), kw(
            kernel_size=tuple(p["kernel_size"]), stride=tuple(p["strides"]), padding=padding,
            dilation=tuple(p["dilation_rate"]), groups=channels, bias=False))
        pointwise = ModuleCall("Conv2d", (middle, p["filters"]), kw(kernel_size=1, bias=p["use_bias"]))
        return TorchRecipe(ModuleCall("Sequential", children=(depthwise, pointwise)), before,
                           activation_calls(p["activation"]))

    def key_settings(self, p: Params) -> str:
        return f"{p['filters']} · {_pair_text(p['kernel_size'])}"


SPECS = (Conv2D(), Conv1D(), DepthwiseConv2D(), SeparableConv2D())
