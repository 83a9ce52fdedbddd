"""How a source model's window settings (pads, ceil mode) read in the catalog's terms.

ONNX and PyTorch give a window layer explicit zeros before and after each
spatial axis; the catalog speaks of ``valid``, ``same`` (Keras: ``ceil(n /
stride)`` outputs, the odd pixel after) and ``explicit`` (the same count on both
sides).  These pure functions translate one into the other, using the catalog's
own window arithmetic so that ``same`` means exactly what the builder will do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from cnnstudio.core.layers.window import axis_windows


@dataclass(frozen=True)
class Pads:
    """Zeros added before (top, left) and after (bottom, right) the two spatial axes."""

    top: int = 0
    left: int = 0
    bottom: int = 0
    right: int = 0

    @classmethod
    def onnx(cls, pads: Sequence[int]) -> "Pads":
        """From ONNX's ``[top, left, bottom, right]``."""
        top, left, bottom, right = (int(p) for p in pads)
        return cls(top, left, bottom, right)

    @classmethod
    def symmetric(cls, height: int, width: int) -> "Pads":
        return cls(height, width, height, width)

    @property
    def before(self) -> tuple[int, int]:
        return self.top, self.left

    @property
    def after(self) -> tuple[int, int]:
        return self.bottom, self.right

    @property
    def is_zero(self) -> bool:
        return not any((self.top, self.left, self.bottom, self.right))

    @property
    def is_symmetric(self) -> bool:
        return self.top == self.bottom and self.left == self.right

    def split(self) -> tuple["Pads", "Pads"]:
        """``(symmetric part, the rest)``: the rest is what only one side gets."""
        height, width = min(self.top, self.bottom), min(self.left, self.right)
        return (Pads.symmetric(height, width),
                Pads(self.top - height, self.left - width, self.bottom - height, self.right - width))


def catalog_padding(spatial: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
                    dilation: Sequence[int], pads: Pads) -> dict | None:
    """The catalog's ``padding``/``pad`` parameters for ``pads``, or None when only
    a ZeroPadding2D (or nothing) can express them."""
    if pads.is_zero:
        return {"padding": "valid"}
    same = axis_windows({"kernel_size": list(kernel), "strides": list(strides), "dilation_rate": list(dilation),
                         "padding": "same"}, spatial)
    if all(window.pads() == (before, after)
           for window, before, after in zip(same, pads.before, pads.after)):
        return {"padding": "same"}
    if pads.is_symmetric:
        return {"padding": "explicit", "pad": [pads.top, pads.left]}
    return None


def auto_pads(mode: str, spatial: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
              dilation: Sequence[int]) -> Pads:
    """ONNX ``auto_pad`` (``SAME_UPPER``, ``SAME_LOWER``, ``VALID``) as explicit pads."""
    if mode == "VALID":
        return Pads()
    befores, afters = [], []
    for size, k, s, d in zip(spatial, kernel, strides, dilation):
        total = max((math.ceil(size / s) - 1) * s + d * (k - 1) + 1 - size, 0)
        small, large = total // 2, total - total // 2
        befores.append(small if mode == "SAME_UPPER" else large)
        afters.append(large if mode == "SAME_UPPER" else small)
    return Pads(befores[0], befores[1], afters[0], afters[1])


def ceil_mode_pads(spatial: Sequence[int], kernel: Sequence[int], strides: Sequence[int], pads: Pads) -> Pads | None:
    """A pool with ``ceil_mode`` is a floor-mode pool whose last window reaches past the
    bottom/right edge: the same pool with more padding after.  None when a last window
    would start in the padding (where PyTorch and ONNX runtimes disagree)."""
    extra = []
    for size, k, s, before, after in zip(spatial, kernel, strides, pads.before, pads.after):
        span = size + before + after
        outputs = -(-(span - k) // s) + 1
        if (outputs - 1) * s >= size + before:
            return None
        extra.append(max((outputs - 1) * s + k - span, 0))
    return Pads(pads.top, pads.left, pads.bottom + extra[0], pads.right + extra[1])
