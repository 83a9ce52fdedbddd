"""One convolution, one output cell at a time.

The lecture's picture: a 3x3 kernel over a 5x5 image makes a 3x3 feature map; at each
position the kernel's numbers multiply the pixels under them and the products add up
to one output number.  ``ConvolutionSteps`` lists those positions in the order the
kernel visits them (left to right, then down) and gives, for each, the window, the
products and their sum.  A 3-channel input uses a 3x3x3 kernel: the three channel
sums add up into the one output map.  What is computed is what a Conv2D layer
computes (cross-correlation, no bias).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .windows import Padding, as_channels, pad_input, sliding_view, window_geometry

#: inputs are at most this many pixels high and wide, so every number fits on the page
MAX_INPUT_SIDE = 12

#: the lecture's 5x5 image of 0s and 1s and its 3x3 kernel: a 3x3 map [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
LECTURE_INPUT = np.array([
    [1, 1, 1, 0, 0],
    [0, 1, 1, 1, 0],
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 0],
    [0, 1, 1, 0, 0],
], dtype=np.float64)
LECTURE_KERNEL = np.array([
    [1, 0, 1],
    [0, 1, 0],
    [1, 0, 1],
], dtype=np.float64)

#: a 5x5x3 colour input and one 3x3x3 filter: three channel sums make one output map
RGB_INPUT = np.array([
    [[0, 1, 1, 0, 2], [2, 2, 0, 1, 0], [1, 0, 2, 2, 1], [0, 1, 1, 0, 0], [2, 0, 1, 2, 1]],  # red
    [[1, 0, 2, 1, 0], [0, 1, 1, 0, 2], [2, 2, 0, 1, 1], [1, 0, 0, 2, 0], [0, 1, 2, 1, 2]],  # green
    [[2, 1, 0, 0, 1], [1, 0, 2, 1, 0], [0, 1, 1, 2, 2], [2, 2, 0, 1, 0], [1, 0, 1, 0, 1]],  # blue
], dtype=np.float64)
RGB_KERNEL = np.array([
    [[1, 0, -1], [0, 1, 0], [-1, 0, 1]],
    [[0, 1, 0], [1, -1, 1], [0, 1, 0]],
    [[-1, -1, 0], [0, 1, 0], [0, 1, 1]],
], dtype=np.float64)

for _array in (LECTURE_INPUT, LECTURE_KERNEL, RGB_INPUT, RGB_KERNEL):
    _array.flags.writeable = False


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


def _term(value: float) -> str:
    """A number inside a sum: negatives in brackets, ``2 + (-1)``."""
    text = _num(value)
    return f"({text})" if value < 0 else text


@dataclass(frozen=True)
class Step:
    """The kernel at one position.

    ``top``/``left``/``bottom``/``right`` (inclusive) bound the window in padded
    coordinates; ``rows``/``cols`` are the padded rows and columns the kernel taps
    read (spaced by the dilation).  ``patch`` (the pixels under the taps), ``kernel``,
    ``products`` and ``in_padding`` (taps on padded zeros) are ``(C, kh, kw)``; ``sum``
    is the output value.
    """

    index: int
    out_row: int
    out_col: int
    top: int
    left: int
    bottom: int
    right: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    patch: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    in_padding: np.ndarray
    sum: float

    @property
    def channel_sums(self) -> np.ndarray:
        return self.products.sum(axis=(1, 2))

    def text(self) -> str:
        """The sum written out: ``out[0, 1] = 1*1 + 0*1 + ... = 3``; one line per channel for colour."""
        target = f"out[{self.out_row}, {self.out_col}]"
        def terms(c: int) -> str:
            return " + ".join(f"{_term(p)}*{_term(k)}" for p, k in
                              zip(self.patch[c].ravel(), self.kernel[c].ravel()))

        if self.patch.shape[0] == 1:
            return f"{target} = {terms(0)} = {_num(self.sum)}"
        lines = [f"channel {c + 1}: {terms(c)} = {_num(s)}" for c, s in enumerate(self.channel_sums)]
        lines.append(f"{target} = " + " + ".join(_term(s) for s in self.channel_sums) + f" = {_num(self.sum)}")
        return "\n".join(lines)


class ConvolutionSteps:
    """A small convolution taken apart, position by position.

    ``image`` is ``(H, W)`` or ``(C, H, W)`` with ``H, W <= 12``; ``kernel`` is
    ``(kh, kw)`` for one channel or ``(C, kh, kw)``.  Left out, they are the lecture's
    5x5 image and 3x3 kernel.  ``padding`` is ``"valid"``, ``"same"`` or a number of
    zeros on each side.
    """

    def __init__(self, image: np.ndarray | None = None, kernel: np.ndarray | None = None,
                 stride: int | Sequence[int] = 1, padding: Padding = "valid",
                 dilation: int | Sequence[int] = 1) -> None:
        self.image = as_channels(LECTURE_INPUT if image is None else image, "input")
        weights = np.asarray(LECTURE_KERNEL if kernel is None else kernel, dtype=np.float64)
        channels, height, width = self.image.shape
        if max(height, width) > MAX_INPUT_SIDE:
            raise ValueError(f"the input is {height}x{width}; the step-by-step view takes up to "
                             f"{MAX_INPUT_SIDE}x{MAX_INPUT_SIDE}")
        if weights.ndim == 2:
            weights = weights[None]
        if weights.ndim != 3 or weights.shape[0] != channels or 0 in weights.shape:
            wanted = "(kh, kw) or (1, kh, kw)" if channels == 1 else f"({channels}, kh, kw), one slice per channel"
            raise ValueError(f"a {channels}-channel input needs a kernel of shape {wanted}, "
                             f"got {np.shape(kernel)}")
        if not np.all(np.isfinite(weights)):
            raise ValueError("the kernel holds NaN or infinite values")
        self.kernel = weights
        self.geometry = window_geometry(height, width, weights.shape[1:], stride, padding, dilation)
        self.padded = pad_input(self.image, self.geometry)
        self._windows = sliding_view(self.padded, self.geometry)
        out_h, out_w = self.geometry.output_shape
        #: output cells in the order the kernel visits them
        self.positions: list[tuple[int, int]] = [(r, c) for r in range(out_h) for c in range(out_w)]

    @classmethod
    def multi_channel_example(cls, **settings) -> "ConvolutionSteps":
        """A 5x5x3 colour input and one 3x3x3 filter: each step adds three channel sums."""
        return cls(RGB_INPUT, RGB_KERNEL, **settings)

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def output_shape(self) -> tuple[int, int]:
        return self.geometry.output_shape

    def step(self, index: int) -> Step:
        """The kernel at its ``index``-th position (0 is the top-left output cell)."""
        if not 0 <= index < len(self.positions):
            raise IndexError(f"step {index} does not exist: there are {len(self.positions)} steps (0 to "
                             f"{len(self.positions) - 1})")
        out_row, out_col = self.positions[index]
        rows, cols = self.geometry.taps(out_row, out_col)
        patch = np.array(self._windows[:, out_row, out_col])
        products = patch * self.kernel
        top, _, left, _ = self.geometry.pads
        height, width = self.geometry.input_shape
        outside_rows = np.array([not 0 <= r - top < height for r in rows])
        outside_cols = np.array([not 0 <= c - left < width for c in cols])
        in_padding = np.broadcast_to(outside_rows[:, None] | outside_cols[None, :], patch.shape).copy()
        return Step(index, out_row, out_col, rows[0], cols[0], rows[-1], cols[-1], rows, cols, patch, self.kernel,
                    products, in_padding, float(products.sum()))

    def output(self) -> np.ndarray:
        """The whole ``(out_h, out_w)`` feature map."""
        return np.einsum("crqij,cij->rq", self._windows, self.kernel)

    def formula_lines(self) -> list[str]:
        """The output-size formula with this example's numbers."""
        return self.geometry.formula_lines()

    @property
    def multiplications(self) -> int:
        """Products computed in all: kernel values times positions."""
        return self.kernel.size * len(self.positions)
