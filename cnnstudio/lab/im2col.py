"""Convolution as one big matrix product (im2col), as the lecture describes it.

Every window of the (padded) input is stretched into one column; every filter into
one row.  ``filter_matrix @ columns`` then gives every filter at every position at
once, and reshaping its rows gives the feature maps.  For the lecture's AlexNet layer
(227x227x3 input, 96 filters of 11x11x3, stride 4) the columns form a 363 x 3025
matrix and the filters a 96 x 363 one.

Column ``k`` is output cell ``(k // out_w, k % out_w)``; row ``c*kh*kw + i*kw + j`` is
kernel tap ``(i, j)`` on channel ``c``, the order of ``weights.reshape(F, -1)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .windows import Padding, WindowGeometry, as_channels, pad_input, sliding_view, window_geometry


def im2col(image: np.ndarray, kh: int, kw: int, stride: int | Sequence[int] = 1, padding: Padding = "valid",
           dilation: int | Sequence[int] = 1) -> np.ndarray:
    """The ``(C*kh*kw, out_h*out_w)`` column matrix of a ``(C, H, W)`` (or ``(H, W)``) input."""
    pixels = as_channels(image, "input")
    geometry = window_geometry(pixels.shape[1], pixels.shape[2], (kh, kw), stride, padding, dilation)
    windows = sliding_view(pad_input(pixels, geometry), geometry)  # (C, out_h, out_w, kh, kw)
    channels = pixels.shape[0]
    return windows.transpose(0, 3, 4, 1, 2).reshape(channels * kh * kw, geometry.positions)


def filter_matrix(weights: np.ndarray) -> np.ndarray:
    """``(F, C, kh, kw)`` filters as the ``(F, C*kh*kw)`` row matrix."""
    array = np.asarray(weights, dtype=np.float64)
    if array.ndim != 4:
        raise ValueError(f"filters must be (F, C, kh, kw), got shape {array.shape}")
    return array.reshape(array.shape[0], -1)


def conv_via_im2col(image: np.ndarray, weights: np.ndarray, stride: int | Sequence[int] = 1,
                    padding: Padding = "valid", dilation: int | Sequence[int] = 1,
                    bias: np.ndarray | None = None) -> np.ndarray:
    """A Conv2D layer's output ``(F, out_h, out_w)`` as ``filter_matrix @ im2col`` (no activation)."""
    pixels = as_channels(image, "input")
    rows = filter_matrix(weights)
    _, channels, kh, kw = np.shape(weights)
    if channels != pixels.shape[0]:
        raise ValueError(f"the filters expect {channels} input channels but the input has {pixels.shape[0]}")
    geometry = window_geometry(pixels.shape[1], pixels.shape[2], (kh, kw), stride, padding, dilation)
    product = rows @ im2col(pixels, kh, kw, stride, padding, dilation)
    if bias is not None:
        product = product + np.asarray(bias, dtype=np.float64).reshape(-1, 1)
    return product.reshape(rows.shape[0], *geometry.output_shape)


@dataclass(frozen=True)
class Im2colSizes:
    """The matrix sizes of one im2col convolution over a square input, computed from its settings."""

    size: int
    channels: int
    kernel: int
    stride: int
    filters: int
    geometry: WindowGeometry

    @property
    def positions_per_axis(self) -> int:
        return self.geometry.rows.output

    @property
    def positions(self) -> int:
        return self.geometry.positions

    @property
    def column_length(self) -> int:
        return self.kernel * self.kernel * self.channels

    @property
    def columns_shape(self) -> tuple[int, int]:
        return self.column_length, self.positions

    @property
    def filter_matrix_shape(self) -> tuple[int, int]:
        return self.filters, self.column_length

    @property
    def product_shape(self) -> tuple[int, int]:
        return self.filters, self.positions

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """``(H, W, F)``, the lecture's order."""
        return self.positions_per_axis, self.positions_per_axis, self.filters

    @property
    def duplication(self) -> float:
        """How many columns hold each input value, on average: the windows overlap."""
        return self.column_length * self.positions / (self.size * self.size * self.channels)

    def lines(self) -> list[str]:
        n, k, s, c = self.size, self.kernel, self.stride, self.channels
        per_axis = self.positions_per_axis
        division = f"({n} - {k}) / {s}" if (n - k) % s == 0 else f"floor(({n} - {k}) / {s})"
        return [
            f"one {k}x{k}x{c} window stretched into a column: {k} * {k} * {c} = {self.column_length} numbers",
            f"positions per axis: {division} + 1 = {per_axis}",
            f"positions in all: {per_axis} * {per_axis} = {self.positions}",
            f"column matrix X_col: {self.column_length} x {self.positions}",
            f"filter matrix W_row: {self.filters} x {self.column_length}",
            f"W_row @ X_col: {self.filters} x {self.positions}, reshaped to {per_axis} x {per_axis} x {self.filters}",
            f"each input value sits in {self.duplication:.1f} columns on average: the windows overlap",
        ]


def example_sizes(size: int, channels: int, kernel: int, stride: int, filters: int) -> Im2colSizes:
    """Sizes for ``filters`` filters of ``kernel x kernel x channels`` over a ``size x size`` input, no padding."""
    return Im2colSizes(size, channels, kernel, stride, filters, window_geometry(size, size, kernel, stride))


def lecture_example_sizes() -> Im2colSizes:
    """The lecture's AlexNet layer: 227x227x3, 96 filters of 11x11x3, stride 4."""
    return example_sizes(227, 3, kernel=11, stride=4, filters=96)


@dataclass(frozen=True)
class ColumnWindow:
    """The input window one column holds: rows ``top..bottom`` and columns ``left..right``
    (inclusive) in input coordinates; parts outside ``0..H-1`` / ``0..W-1`` are padding."""

    column: int
    out_row: int
    out_col: int
    top: int
    left: int
    bottom: int
    right: int


def column_receptive_field(column_index: int, height: int, width: int, kh: int, kw: int,
                           stride: int | Sequence[int] = 1, padding: Padding = "valid",
                           dilation: int | Sequence[int] = 1) -> ColumnWindow:
    """The input window stretched into column ``column_index`` of ``im2col``."""
    geometry = window_geometry(height, width, (kh, kw), stride, padding, dilation)
    if not 0 <= column_index < geometry.positions:
        raise IndexError(f"column {column_index} does not exist: there are {geometry.positions} columns")
    out_row, out_col = divmod(column_index, geometry.cols.output)
    rows, cols = geometry.taps(out_row, out_col)
    top, _, left, _ = geometry.pads
    return ColumnWindow(column_index, out_row, out_col, rows[0] - top, cols[0] - left, rows[-1] - top,
                        cols[-1] - left)
