"""Pooling layers: MaxPool2D, AvgPool2D, their global versions, and AdaptiveAvgPool2D."""

from __future__ import annotations

from typing import Sequence

from .base import (Explanation, FunctionCall, LayerSpec, ModuleCall, ParamSpec, Params, ReceptiveStep, Shape,
                   ShapeError, TorchRecipe, kw)
from .window import axis_lines, axis_windows, check_fits, torch_padding, window_params

POOL_MAX = 256


class _Pool2D(LayerSpec):
    family = "Pooling"
    accepts = "image"
    params = window_params(kernel_default=2, kernel_max=POOL_MAX, stride_optional=True, with_dilation=False)
    operation = ""
    torch_class = ""
    pad_fill = 0.0

    def _windows(self, p: Params, inputs: Sequence[Shape]):
        return axis_windows(dict(p), inputs[0][1:])

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        self.check_rank(inputs)
        windows = self._windows(p, inputs)
        check_fits(windows, "pool window")
        if any(w.explicit_pad > w.kernel // 2 for w in windows):
            # PyTorch refuses it: a window could then hold nothing but padding
            pads = "x".join(str(w.explicit_pad) for w in windows)
            halves = "x".join(str(w.kernel // 2) for w in windows)
            kernel = "x".join(str(w.kernel) for w in windows)
            raise ShapeError(f"its padding {pads} is more than half of its {kernel} pool window",
                             f"Use a pad of at most {halves}, or padding='same'.")
        return (inputs[0][0], *(w.output for w in windows))

    def macs(self, p: Params, inputs: Sequence[Shape], output: Shape) -> int:
        return 0  # comparisons and sums, no multiply-accumulates

    def receptive_step(self, p: Params, inputs: Sequence[Shape]) -> ReceptiveStep:
        windows = self._windows(p, inputs)
        return ReceptiveStep(tuple(w.kernel for w in windows), tuple(w.stride for w in windows),
                             pad_before=tuple(w.pads()[0] for w in windows))

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        e = Explanation([self.summary])
        windows = self._windows(p, inputs)
        formulas = [w.formula() if w.padding == "same" else
                    f"out = floor(({w.size} + 2*{w.explicit_pad} - {w.kernel}) / {w.stride}) + 1 = {w.output}"
                    for w in windows]
        for line in axis_lines(windows, formulas):
            e.add(line)
        kh, kw_ = p["kernel_size"]
        strides = p["strides"] or p["kernel_size"]
        kept = 1 / (strides[0] * strides[1]) if (kh, kw_) == tuple(strides) else None
        if kept is not None and kept < 1:
            e.add(f"Keeps 1 value of every {kh}x{kw_} window: {100 * (1 - kept):.0f}% of the activations "
                  "are discarded.")
        e.add(f"Channels unchanged ({inputs[0][0]}); no parameters.")
        return e

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        windows = self._windows(p, inputs)
        padding, before = torch_padding(windows, self.pad_fill)
        module = ModuleCall(self.torch_class, (), kw(
            kernel_size=tuple(w.kernel for w in windows), stride=tuple(w.stride for w in windows),
            padding=padding, **self._extra_kwargs()))
        return TorchRecipe(module, before)

    def _extra_kwargs(self) -> dict:
        return {}

    def key_settings(self, p: Params) -> str:
        text = "x".join(str(k) for k in p["kernel_size"])
        if p["strides"] is not None and p["strides"] != p["kernel_size"]:
            text += " · stride " + "x".join(str(s) for s in p["strides"])
        if p["padding"] != "valid":
            text += f" · {p['padding']}"
        return text


class MaxPool2D(_Pool2D):
    type_name = "MaxPool2D"
    name_prefix = "maxpooling2d"
    summary = "Keeps the largest value of each window, per channel: shrinks the map, keeps the strongest response."
    torch_class = "MaxPool2d"
    pad_fill = float("-inf")  # padded pixels must never win the max, as in Keras


class AvgPool2D(_Pool2D):
    type_name = "AvgPool2D"
    name_prefix = "avgpooling2d"
    summary = "Averages each window, per channel."
    torch_class = "AvgPool2d"

    def _extra_kwargs(self) -> dict:
        # Keras leaves padded zeros out of the average; so does count_include_pad=False.
        return {"count_include_pad": False}

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        windows = self._windows(p, inputs)
        pads = [w.pads() for w in windows]
        if all(before == after for before, after in pads):
            return super().torch_recipe(p, inputs, output)
        # 'same' with an odd total padding: zeros from F.pad would count in the average, so the
        # padding stays inside the pool (count_include_pad=False skips it), symmetric as torch
        # wants.  With stride > 1, pad the smaller side and let ceil_mode add the last window,
        # which overhangs the bottom/right edge; with stride 1, pad the larger side and crop
        # the one extra window at the top/left (F.pad with a negative pad crops).
        padding, crop = [], []
        for w, (before, after) in zip(windows, pads):
            extra = after - before if w.stride == 1 else 0
            padding.append(before + extra)
            crop.append(extra)
        module = ModuleCall(self.torch_class, (), kw(
            kernel_size=tuple(w.kernel for w in windows), stride=tuple(w.stride for w in windows),
            padding=tuple(padding), ceil_mode=True, count_include_pad=False))
        if not any(crop):
            return TorchRecipe(module)
        flat: list[int] = []
        for extra in reversed(crop):  # F.pad lists the last axis first
            flat += [-extra, 0]
        return TorchRecipe(module, after=(FunctionCall("pad", kw(pad=tuple(flat))),))


class _GlobalPool2D(LayerSpec):
    family = "Pooling"
    accepts = "image"
    global_view = True
    torch_class = ""

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        self.check_rank(inputs)
        return (inputs[0][0],)

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        c, h, w = inputs[0]
        return Explanation([self.summary, f"{c} maps of {h}x{w} become {c} numbers; no parameters."])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(ModuleCall("Sequential", children=(
            ModuleCall(self.torch_class, (1,)), ModuleCall("Flatten"))))


class GlobalAveragePooling2D(_GlobalPool2D):
    type_name = "GlobalAveragePooling2D"
    name_prefix = "global_average_pooling2d"
    summary = "Averages each whole feature map into one number: a light replacement for Flatten."
    torch_class = "AdaptiveAvgPool2d"


class GlobalMaxPooling2D(_GlobalPool2D):
    type_name = "GlobalMaxPooling2D"
    name_prefix = "global_max_pooling2d"
    summary = "Keeps the largest value of each whole feature map."
    torch_class = "AdaptiveMaxPool2d"


def adaptive_window(index: int, size: int, out: int) -> tuple[int, int]:
    """Rows ``[start, end)`` that output ``index`` of ``out`` averages over ``size`` input rows:
    torch's rule, ``start = floor(index * size / out)``, ``end = ceil((index + 1) * size / out)``."""
    return (index * size) // out, -((-(index + 1) * size) // out)


def largest_adaptive_window(size: int, out: int) -> int:
    if size % out == 0:
        return size // out
    return max(end - start for start, end in (adaptive_window(i, size, out) for i in range(out)))


class AdaptiveAvgPool2D(LayerSpec):
    """PyTorch's ``nn.AdaptiveAvgPool2d``: the window follows the input so the output size is fixed.

    The receptive-field step is exact when the input is a whole multiple of the output (every
    window the same) or the output a whole multiple of the input (each pixel repeated); otherwise
    windows differ by a pixel, and the step takes the largest window and step, an upper bound."""

    type_name = "AdaptiveAvgPool2D"
    family = "Pooling"
    name_prefix = "adaptive_avg_pool2d"
    accepts = "image"
    summary = ("Averages windows sized to give a fixed output height and width, whatever the input size "
               "(AlexNet and VGG use it before their classifier).")
    params = (ParamSpec("output_size", "pair", [1, 1], "Height and width of the output.",
                        minimum=1, maximum=POOL_MAX, label="Output size"),)

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        self.check_rank(inputs)
        return (inputs[0][0], *p["output_size"])

    def receptive_step(self, p: Params, inputs: Sequence[Shape]) -> ReceptiveStep:
        sizes, outs = inputs[0][1:], p["output_size"]
        if all(o % n == 0 for n, o in zip(sizes, outs)) and any(o > n for n, o in zip(sizes, outs)):
            return ReceptiveStep((1, 1), (1, 1), upsample=tuple(o // n for n, o in zip(sizes, outs)))
        kernel = tuple(largest_adaptive_window(n, o) for n, o in zip(sizes, outs))
        stride = tuple(-(-n // o) for n, o in zip(sizes, outs))
        return ReceptiveStep(kernel, stride)

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        e = Explanation([self.summary])
        lines = [self._axis_line(n, o) for n, o in zip(inputs[0][1:], p["output_size"])]
        if lines[0] == lines[1]:
            e.add(f"Output height and width: {lines[0]}")
        else:
            e.add(f"Output height: {lines[0]}")
            e.add(f"Output width: {lines[1]}")
        e.add(f"Channels unchanged ({inputs[0][0]}); no parameters.")
        return e

    @staticmethod
    def _axis_line(size: int, out: int) -> str:
        if size % out == 0:
            k = size // out
            return f"{out}; {size} / {out} = {k}, so each window averages {k} pixels (kernel {k}, stride {k})"
        if out % size == 0:
            return f"{out}; {out} / {size} = {out // size}, so each input pixel is repeated {out // size} times"
        widths = {end - start for start, end in (adaptive_window(i, size, out) for i in range(out))}
        wide = f"{min(widths)} pixels" if len(widths) == 1 else f"{min(widths)} to {max(widths)} pixels"
        return (f"{out}; {size} / {out} is not whole, so window i covers pixels floor(i*{size}/{out}) "
                f"to ceil((i+1)*{size}/{out}) - 1: {wide} wide")

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(ModuleCall("AdaptiveAvgPool2d", (tuple(p["output_size"]),)))

    def key_settings(self, p: Params) -> str:
        return "to " + "x".join(str(s) for s in p["output_size"])


SPECS = (MaxPool2D(), AvgPool2D(), GlobalAveragePooling2D(), GlobalMaxPooling2D(), AdaptiveAvgPool2D())
