"""Sliding-window arithmetic shared by convolutions and pooling.

Padding follows Keras: ``valid`` adds nothing; ``same`` gives
``out = ceil(n / stride)`` for any stride and puts the odd extra pixel at the
bottom/right; ``explicit`` adds the same number of zeros on both sides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from .base import FunctionCall, ParamSpec, ShapeError, kw

PADDING_MODES = ("valid", "same", "explicit")


@dataclass(frozen=True)
class AxisWindow:
    """One spatial axis of a window layer: input size, settings and result."""

    size: int
    kernel: int
    stride: int
    dilation: int
    padding: str
    pad: int  # used when padding == "explicit"

    @property
    def span(self) -> int:
        """How many input pixels one window covers (dilation included)."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def output(self) -> int:
        if self.padding == "same":
            return math.ceil(self.size / self.stride)
        return (self.size + 2 * self.explicit_pad - self.span) // self.stride + 1

    @property
    def explicit_pad(self) -> int:
        return self.pad if self.padding == "explicit" else 0

    def pads(self) -> tuple[int, int]:
        """Zeros added (before, after) on this axis."""
        if self.padding == "same":
            total = max((self.output - 1) * self.stride + self.span - self.size, 0)
            return total // 2, total - total // 2
        return self.explicit_pad, self.explicit_pad

    def formula(self) -> str:
        """The output-size formula with this axis's numbers filled in."""
        if self.padding == "same":
            before, after = self.pads()
            extra = f" (pads {before} before, {after} after)" if before or after else ""
            return f"out = ceil({self.size} / {self.stride}) = {self.output}{extra}"
        return (f"out = floor(({self.size} + 2*{self.explicit_pad} - {self.dilation}*({self.kernel}-1) - 1)"
                f" / {self.stride}) + 1 = {self.output}")


def axis_lines(windows: Sequence[AxisWindow], formulas: Sequence[str]) -> list[str]:
    """One "Output height/width: formula" line per axis, or one line when the axes agree."""
    if len(windows) == 1:
        return [f"Output length: {formulas[0]}"]
    if len(set(formulas)) == 1:
        return [f"Output height and width: {formulas[0]}"]
    return [f"Output {axis}: {formula}" for axis, formula in zip(("height", "width"), formulas)]


def window_params(*, kernel_default: int | None, kernel_max: int, stride_optional: bool = False,
                  with_dilation: bool = True, axes: int = 2) -> tuple[ParamSpec, ...]:
    """The kernel/strides/padding(/dilation) parameters of a window layer."""
    def value(v: int) -> int | list[int]:
        return [v] * axes if axes == 2 else v
    kind = "pair" if axes == 2 else "int"
    size_word = "height and width" if axes == 2 else "length"
    specs = [
        ParamSpec("kernel_size", kind, value(kernel_default or 2), f"Window {size_word} in pixels.",
                  minimum=1, maximum=kernel_max, label="Kernel"),
        ParamSpec("strides", kind, None if stride_optional else value(1),
                  "Step between windows" + (" (empty = the pool size, as in Keras)." if stride_optional else "."),
                  minimum=1, maximum=kernel_max, optional=stride_optional),
        ParamSpec("padding", "choice", "valid",
                  "'valid': no padding; 'same': keep ceil(n / stride) pixels; "
                  "'explicit': add 'pad' zeros on each side.", choices=PADDING_MODES),
        ParamSpec("pad", kind, value(0), "Zeros added on each side when padding is 'explicit'.",
                  minimum=0, maximum=kernel_max, active_when=("padding", "explicit")),
    ]
    if with_dilation:
        specs.append(ParamSpec("dilation_rate", kind, value(1),
                               "Spacing between kernel taps (1 = a plain kernel).",
                               minimum=1, maximum=64, label="Dilation"))
    return tuple(specs)


def as_tuple(value: int | Sequence[int] | None, axes: int) -> tuple[int, ...]:
    if value is None:
        raise ValueError("missing window value")
    if isinstance(value, int):
        return (value,) * axes
    return tuple(value)


def axis_windows(p: dict, spatial: Sequence[int]) -> list[AxisWindow]:
    """One ``AxisWindow`` per spatial axis from a layer's parameters."""
    axes = len(spatial)
    kernel = as_tuple(p["kernel_size"], axes)
    strides = as_tuple(p["strides"] if p.get("strides") is not None else p["kernel_size"], axes)
    dilation = as_tuple(p.get("dilation_rate", 1), axes)
    pad = as_tuple(p.get("pad", 0), axes)
    return [AxisWindow(n, k, s, d, p["padding"], q)
            for n, k, s, d, q in zip(spatial, kernel, strides, dilation, pad)]


def check_fits(windows: Sequence[AxisWindow], what: str = "kernel") -> None:
    """Raise ``ShapeError`` when a window does not fit its input."""
    if all(w.output >= 1 for w in windows):
        return
    spans = "x".join(str(w.kernel) for w in windows)
    sizes = "x".join(str(w.size) for w in windows)
    dilated = ""
    if any(w.dilation > 1 for w in windows):
        dilated = f" with dilation spans {'x'.join(str(w.span) for w in windows)}, which"
    message = f"its {spans} {what}{dilated} does not fit the {sizes} input"
    if windows[0].padding == "explicit":
        message += f" with padding {'x'.join(str(w.pad) for w in windows)}"
    raise ShapeError(message, f"Use padding='same', a smaller {what}, or remove a pooling layer before it.")


def dilation_stride_conflict(p: dict) -> bool:
    """Keras refuses stride > 1 together with dilation > 1."""
    strides = p.get("strides") or 1
    dilation = p.get("dilation_rate") or 1
    return max(as_tuple(strides, 2)) > 1 and max(as_tuple(dilation, 2)) > 1


def torch_padding(windows: Sequence[AxisWindow], fill: float = 0.0) -> tuple[tuple[int, ...], tuple[FunctionCall, ...]]:
    """Symmetric padding goes into the module; uneven 'same' padding becomes an
    explicit ``F.pad`` before it (PyTorch's own padding='same' refuses stride > 1)."""
    pads = [w.pads() for w in windows]
    if all(before == after for before, after in pads):
        return tuple(before for before, _ in pads), ()
    flat: list[int] = []
    for before, after in reversed(pads):  # F.pad lists the last axis first
        flat += [before, after]
    pad_kwargs = kw(pad=tuple(flat)) if fill == 0.0 else kw(pad=tuple(flat), value=fill)
    return tuple(0 for _ in windows), (FunctionCall("pad", pad_kwargs),)
