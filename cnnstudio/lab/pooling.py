"""Pooling on one feature map, with which input each output took.

"A pooling layer with filters of size 2x2 applied with a stride of 2 ... discarding 75%
of the activations."  ``pool`` computes max or average pooling as MaxPool2D and
AvgPool2D do (Keras ``'same'``: padded pixels never win a max and are left out of an
average) and records, for every output, the input pixels behind it: the one the max
chose, or the whole window of an average.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .windows import WindowGeometry, as_channels, as_pair, pad_input, sliding_view, window_geometry

MODES = ("max", "avg")
PADDINGS = ("valid", "same")

Pixel = tuple[int, int]


@dataclass(frozen=True)
class PoolResult:
    """``output`` is ``(out_h, out_w)``.  ``windows[r][c]`` lists the input pixels
    ``(row, col)`` under output ``(r, c)``'s window (padding left out); for max pooling
    ``chosen[r, c]`` is the ``(row, col)`` that won (the first in reading order on a tie),
    and is ``None`` for average pooling."""

    output: np.ndarray
    mode: str
    geometry: WindowGeometry
    windows: list[list[list[Pixel]]]
    chosen: np.ndarray | None

    def took(self, out_row: int, out_col: int) -> list[Pixel]:
        """The input pixels output ``(out_row, out_col)`` came from: one for max, its window for avg."""
        self.geometry.check_cell(out_row, out_col)
        if self.chosen is not None:
            return [tuple(int(v) for v in self.chosen[out_row, out_col])]  # type: ignore[list-item]
        return list(self.windows[out_row][out_col])

    @property
    def discarded_share(self) -> float:
        """Share of the input values that reach no output: never chosen by a max, or,
        for an average, ``1 - outputs / inputs`` (the map's share of values that is gone)."""
        inputs = self.geometry.rows.size * self.geometry.cols.size
        if self.chosen is None:
            return 1 - self.output.size / inputs
        kept = len({tuple(pixel) for pixel in self.chosen.reshape(-1, 2).tolist()})
        return 1 - kept / inputs


def pool(feature_map: np.ndarray, size: int | Sequence[int] = 2, stride: int | Sequence[int] | None = None,
         mode: str = "max", padding: str = "valid") -> PoolResult:
    """Pool an ``(H, W)`` map; ``stride`` defaults to ``size`` (as in Keras)."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    if padding not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    values = as_channels(feature_map, "feature map")
    if values.shape[0] != 1 or np.ndim(feature_map) != 2:
        raise ValueError(f"pool one (H, W) feature map at a time, got shape {np.shape(feature_map)}")
    geometry = window_geometry(values.shape[1], values.shape[2], size, size if stride is None else stride, padding)
    top, _, left, _ = geometry.pads
    height, width = geometry.input_shape
    out_h, out_w = geometry.output_shape

    fill = -np.inf if mode == "max" else 0.0
    padded = pad_input(values, geometry, fill)
    flat = sliding_view(padded, geometry)[0].reshape(out_h, out_w, -1)
    inside = sliding_view(pad_input(np.ones_like(values), geometry), geometry)[0].reshape(out_h, out_w, -1)

    windows = []
    for r in range(out_h):
        row = []
        for c in range(out_w):
            rows, cols = geometry.taps(r, c)
            row.append([(i - top, j - left) for i in rows for j in cols
                        if 0 <= i - top < height and 0 <= j - left < width])
        windows.append(row)

    if mode == "avg":
        output = flat.sum(axis=2) / inside.sum(axis=2)
        return PoolResult(output, mode, geometry, windows, None)
    winner = flat.argmax(axis=2)  # argmax keeps the first of equal values, as torch does
    output = np.take_along_axis(flat, winner[..., None], axis=2)[..., 0]
    kw = geometry.kernel[1]
    rows = np.arange(out_h)[:, None] * geometry.stride[0] + winner // kw - top
    cols = np.arange(out_w)[None, :] * geometry.stride[1] + winner % kw - left
    return PoolResult(output, mode, geometry, windows, np.stack([rows, cols], axis=-1))


def discarded_share(size: int | Sequence[int] = 2, stride: int | Sequence[int] | None = None,
                    map_shape: Sequence[int] | None = None, padding: str = "valid") -> float:
    """Share of the activations a pooling layer does not pass on: ``1 - outputs / inputs``.

    Without ``map_shape`` it is the large-map limit ``1 - 1 / (stride_h * stride_w)``:
    0.75 for the lecture's 2x2 pooling with stride 2.  With ``map_shape=(H, W)`` it is
    exact for that map (26x26 -> 13x13 keeps 169 of 676).
    """
    sh, sw = as_pair(size if stride is None else stride, "stride", 1)
    if map_shape is None:
        return 1 - 1 / (sh * sw)
    height, width = (int(v) for v in map_shape)
    geometry = window_geometry(height, width, size, (sh, sw), padding)
    return 1 - geometry.positions / (height * width)
