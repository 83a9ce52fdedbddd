"""Where a sliding window sits: padding, output size and the windows themselves.

The filter playground, the step-by-step convolution, pooling and im2col all slide a
window over a padded image.  They share this module so they agree with each other and
with the editor: sizes and padding come from ``core.layers.window.AxisWindow`` (Keras
``'same'``: ``out = ceil(n / stride)``, the odd extra pixel at the bottom/right).

Coordinates are ``(row, col)``.  "Padded" coordinates count from the top-left corner of
the padded image; subtract the top/left padding to get input coordinates (negative or
past the edge means a padded pixel).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np

from ..core.layers.window import AxisWindow, axis_lines

#: ``"valid"``, ``"same"``, or zeros added on each side: one int, or ``(rows, cols)``
Padding = Union[str, int, Sequence[int]]


def as_pair(value: int | Sequence[int], what: str, minimum: int) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(3, 5)`` stays; ``ValueError`` naming ``what`` otherwise."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    else:
        try:
            items = [int(v) for v in value]  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise ValueError(f"{what} must be an integer or a pair of integers, got {value!r}") from None
        if len(items) != 2:
            raise ValueError(f"{what} must be an integer or a pair of integers, got {value!r}")
        pair = (items[0], items[1])
    if min(pair) < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value!r}")
    return pair


def _padding_modes(padding: Padding) -> tuple[tuple[str, int], tuple[str, int]]:
    """``(mode, pad)`` per axis for ``AxisWindow``."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid', 'same' or a number of zeros, got {padding!r}")
        return (mode, 0), (mode, 0)
    rows, cols = as_pair(padding, "padding", 0)
    return ("explicit", rows), ("explicit", cols)


@dataclass(frozen=True)
class WindowGeometry:
    """A window sliding over an ``height x width`` image: one ``AxisWindow`` per axis."""

    rows: AxisWindow
    cols: AxisWindow

    @property
    def kernel(self) -> tuple[int, int]:
        return self.rows.kernel, self.cols.kernel

    @property
    def stride(self) -> tuple[int, int]:
        return self.rows.stride, self.cols.stride

    @property
    def dilation(self) -> tuple[int, int]:
        return self.rows.dilation, self.cols.dilation

    @property
    def input_shape(self) -> tuple[int, int]:
        return self.rows.size, self.cols.size

    @property
    def output_shape(self) -> tuple[int, int]:
        return self.rows.output, self.cols.output

    @property
    def positions(self) -> int:
        return self.rows.output * self.cols.output

    @property
    def pads(self) -> tuple[int, int, int, int]:
        """Zeros added ``(top, bottom, left, right)``."""
        (top, bottom), (left, right) = self.rows.pads(), self.cols.pads()
        return top, bottom, left, right

    @property
    def padded_shape(self) -> tuple[int, int]:
        top, bottom, left, right = self.pads
        return self.rows.size + top + bottom, self.cols.size + left + right

    def taps(self, out_row: int, out_col: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Padded rows and columns the kernel taps of output cell ``(out_row, out_col)`` read."""
        self.check_cell(out_row, out_col)
        first_row, first_col = out_row * self.rows.stride, out_col * self.cols.stride
        rows = tuple(first_row + i * self.rows.dilation for i in range(self.rows.kernel))
        cols = tuple(first_col + j * self.cols.dilation for j in range(self.cols.kernel))
        return rows, cols

    def check_cell(self, out_row: int, out_col: int) -> None:
        out_h, out_w = self.output_shape
        if not (0 <= out_row < out_h and 0 <= out_col < out_w):
            raise IndexError(f"output cell ({out_row}, {out_col}) is outside the {out_h}x{out_w} output")

    def formula_lines(self) -> list[str]:
        """The output-size formula with these numbers, as the inspector writes it."""
        windows = [self.rows, self.cols]
        return axis_lines(windows, [w.formula() for w in windows])


def window_geometry(height: int, width: int, kernel: int | Sequence[int], stride: int | Sequence[int] = 1,
                    padding: Padding = "valid", dilation: int | Sequence[int] = 1) -> WindowGeometry:
    """The geometry of a ``kernel`` window over a ``height x width`` image.

    Raises ``ValueError`` with the sizes when the window does not fit.
    """
    if height < 1 or width < 1:
        raise ValueError(f"the image must have at least one pixel, got {height}x{width}")
    kh, kw = as_pair(kernel, "kernel", 1)
    sh, sw = as_pair(stride, "stride", 1)
    dh, dw = as_pair(dilation, "dilation", 1)
    (mode_h, pad_h), (mode_w, pad_w) = _padding_modes(padding)
    geometry = WindowGeometry(AxisWindow(height, kh, sh, dh, mode_h, pad_h),
                              AxisWindow(width, kw, sw, dw, mode_w, pad_w))
    if min(geometry.output_shape) < 1:
        spans = f"{geometry.rows.span}x{geometry.cols.span}"
        top, bottom, left, right = geometry.pads
        padded = f" padded to {height + top + bottom}x{width + left + right}" if top or left else ""
        raise ValueError(f"a {kh}x{kw} window (spanning {spans} pixels) does not fit the {height}x{width} "
                         f"image{padded} with padding={padding!r}; use padding='same' or a smaller kernel")
    return geometry


def as_channels(image: np.ndarray, what: str = "image") -> np.ndarray:
    """``image`` as float64 ``(C, H, W)``; a 2-D ``(H, W)`` image becomes one channel."""
    array = np.asarray(image, dtype=np.float64)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or 0 in array.shape:
        raise ValueError(f"the {what} must be (H, W) or (C, H, W), got shape {np.shape(image)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"the {what} holds NaN or infinite values")
    return array


def pad_input(image: np.ndarray, geometry: WindowGeometry, fill: float = 0.0) -> np.ndarray:
    """``(C, H, W)`` padded as ``geometry`` says, with ``fill`` (0, or -inf for max pooling)."""
    top, bottom, left, right = geometry.pads
    return np.pad(image, ((0, 0), (top, bottom), (left, right)), constant_values=fill)


def sliding_view(padded: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """A read-only ``(C, out_h, out_w, kh, kw)`` view of every window (no copy).

    ``view[c, r, q]`` is what the kernel sees for output cell ``(r, q)`` on channel ``c``.
    """
    out_h, out_w = geometry.output_shape
    kh, kw = geometry.kernel
    sh, sw = geometry.stride
    dh, dw = geometry.dilation
    sc, sr, sq = padded.strides
    return np.lib.stride_tricks.as_strided(
        padded, shape=(padded.shape[0], out_h, out_w, kh, kw),
        strides=(sc, sr * sh, sq * sw, sr * dh, sq * dw), writeable=False)
