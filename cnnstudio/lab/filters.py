"""The filter playground: hand-made kernels, typed kernels, and what they do to an image.

The lecture shows a Laplacian, Sobel-X/Y, a sharpening kernel and a 7x7 curve
detector before any learning happens; this module holds them with a plain-words
description, parses kernels the user types, and slides a kernel over an image exactly
as a Conv2D layer does (cross-correlation; ``mode="convolution"`` flips the kernel
first, as mathematics does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import numpy as np

from ..paths import RESOURCES
from .windows import Padding, WindowGeometry, as_channels, pad_input, window_geometry

#: typed kernels may be square with an odd side up to this
MAX_KERNEL = 11
MODES = ("correlation", "convolution")
IMAGES_FOLDER = RESOURCES / "images"
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg")

CORRELATION_REMARK = (
    "A Conv2D layer computes cross-correlation: the kernel slides over the image as it is "
    "written, and each output is the sum of kernel[i, j] * image[row + i, col + j]. Mathematical "
    "convolution first flips the kernel (rows and columns reversed), summing "
    "kernel[i, j] * image[row - i, col - j]. For symmetric kernels (box blur, Gaussian, Laplacian, "
    "sharpen) both give the same map; for Sobel-X or Sobel-Y the flip changes the sign of the "
    "response. The lecture owns up to it: \"you might notice that we are calculating "
    "cross-correlation and not convolution. Please, do not tell anyone.\" It does not matter for a "
    "network: it learns its kernels, and a flipped kernel is learned just as well."
)


@dataclass(frozen=True)
class Preset:
    """A hand-made kernel and what it does, in plain words."""

    name: str
    kernel: np.ndarray
    description: str


def _preset(name: str, rows: Sequence[Sequence[float]], description: str, scale: float = 1.0) -> Preset:
    kernel = np.asarray(rows, dtype=np.float64) * scale
    kernel.flags.writeable = False  # shared by every caller
    return Preset(name, kernel, description)


_BINOMIAL_3 = np.outer([1, 2, 1], [1, 2, 1])
_BINOMIAL_5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])

PRESETS: dict[str, Preset] = {p.name: p for p in (
    _preset("Laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
            "A second derivative: zero on flat areas and smooth ramps, strong on both sides of an edge, "
            "in every direction. The lecture's edge detector."),
    _preset("Sobel-X", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
            "Right column minus left column: finds vertical edges (positive where the image gets brighter "
            "to the right), like the sides of the astronaut's helmet."),
    _preset("Sobel-Y", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
            "Bottom row minus top row: finds horizontal edges (positive where the image gets brighter "
            "downwards), like the mouth, the chin and shadows."),
    _preset("Sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
            "The pixel minus a Laplacian: keeps the image and boosts the contrast at its edges, so details "
            "look crisper."),
    _preset("Box blur 3x3", np.ones((3, 3)),
            "The average of the 3x3 neighbourhood: smooths noise and blurs edges.", 1 / 9),
    _preset("Gaussian 3x3", _BINOMIAL_3,
            "A weighted average, heavier at the centre: a gentler blur than the box.", 1 / 16),
    _preset("Gaussian 5x5", _BINOMIAL_5,
            "The same bell-shaped average over a 5x5 neighbourhood: a stronger blur.", 1 / 256),
    _preset("Curve detector 7x7", [
        [0, 0, 0, 0, 0, 30, 0],
        [0, 0, 0, 0, 30, 0, 0],
        [0, 0, 0, 30, 0, 0, 0],
        [0, 0, 0, 30, 0, 0, 0],
        [0, 0, 0, 30, 0, 0, 0],
        [0, 0, 0, 30, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ], "The lecture's 7x7 curve detector: 30s along a line that curves outward to the right, zeros "
       "elsewhere. Where the image has such a curve (the back of a mouse), the products add up to a "
       "large number; elsewhere the response is near 0."),
)}


# ---------------------------------------------------------------------- typed kernels

def _entry(text: str, row: int, col: int) -> float:
    """One typed number: ``2``, ``-0.5``, ``1e-3`` or a fraction like ``1/9``."""
    try:
        value = float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"row {row}, column {col}: {text!r} is not a number "
                         "(write numbers like 2, -0.5 or 1/9)") from None
    if not np.isfinite(value):
        raise ValueError(f"row {row}, column {col}: {text!r} is not a finite number")
    return value


def _tokens(line: str) -> list[str]:
    return [token for token in re.split(r"[\s,]+", line) if token]


def _grid_entry(value: object, row: int, col: int) -> float:
    if isinstance(value, str):
        return _entry(value.strip(), row, col)
    if isinstance(value, bool):
        raise ValueError(f"row {row}, column {col}: {value!r} is not a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"row {row}, column {col}: {value!r} is not a number") from None
    if not np.isfinite(number):
        raise ValueError(f"row {row}, column {col}: {value!r} is not a finite number")
    return number


def parse_kernel(text_or_grid: str | Sequence[Sequence[object]] | np.ndarray) -> np.ndarray:
    """A square kernel with an odd side from 1 to 11, as float64.

    Text has one row per line (or rows separated by ``;``), numbers separated by spaces
    or commas; fractions such as ``1/9`` are allowed.  A grid is a list of rows or a
    2-D array.  Errors name the row and column (counted from 1) of the bad entry.
    """
    if isinstance(text_or_grid, str):
        lines = [line.strip() for line in re.split(r"[\n;]", text_or_grid)]
        rows = [[_entry(item, r, c) for c, item in enumerate(_tokens(line), start=1)]
                for r, line in enumerate((line for line in lines if line), start=1)]
    elif isinstance(text_or_grid, np.ndarray) and text_or_grid.ndim != 2:
        raise ValueError(f"a kernel is a 2-D grid of numbers, got an array of shape {text_or_grid.shape}")
    else:
        rows = []
        for r, row in enumerate(text_or_grid, start=1):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
                raise ValueError(f"row {r}: expected a list of numbers, got {row!r}")
            rows.append([_grid_entry(v, r, c) for c, v in enumerate(row, start=1)])
    if not rows or not any(rows):
        raise ValueError("the kernel is empty: type one row of numbers per line")
    width = len(rows[0])
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise ValueError(f"row {r} has {len(row)} numbers but row 1 has {width}: every row needs "
                             "the same count")
    size = len(rows)
    if size != width:
        raise ValueError(f"the kernel has {size} rows of {width} numbers: it must be square")
    if size % 2 == 0:
        raise ValueError(f"a {size}x{size} kernel has no centre pixel: use an odd size "
                         f"(1, 3, 5, 7, 9 or {MAX_KERNEL})")
    if size > MAX_KERNEL:
        raise ValueError(f"a {size}x{size} kernel is too large: the playground takes up to "
                         f"{MAX_KERNEL}x{MAX_KERNEL}")
    return np.asarray(rows, dtype=np.float64)


# ---------------------------------------------------------------------- applying a kernel

@dataclass(frozen=True)
class FilterResponse:
    """What a kernel made of an image.

    ``per_channel`` is ``(C, out_h, out_w)``, one response map per colour channel;
    ``total`` is their sum ``(out_h, out_w)``, what one Conv2D filter outputs for a
    colour image (for a grey image it is the only map).
    """

    per_channel: np.ndarray
    total: np.ndarray
    mode: str
    geometry: WindowGeometry

    def formula_lines(self) -> list[str]:
        return self.geometry.formula_lines()


def oriented_kernel(kernel: np.ndarray, mode: str) -> np.ndarray:
    """The kernel as it is slid: unchanged for correlation, flipped for convolution."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'correlation' or 'convolution', got {mode!r}")
    return kernel[..., ::-1, ::-1] if mode == "convolution" else kernel


def apply_filter(image: np.ndarray, kernel: np.ndarray, mode: str = "correlation", padding: Padding = "valid",
                 stride: int | Sequence[int] = 1, dilation: int | Sequence[int] = 1) -> FilterResponse:
    """Slide ``kernel`` over ``image`` as a Conv2D layer without bias does.

    ``image`` is ``(H, W)`` or ``(C, H, W)`` floats.  ``kernel`` is ``(kh, kw)``, used on
    every channel, or ``(C, kh, kw)``, one slice per channel.  ``padding`` is
    ``"valid"``, ``"same"`` (Keras) or a number of zeros on each side.
    """
    pixels = as_channels(image)
    weights = np.asarray(kernel, dtype=np.float64)
    if weights.ndim == 2:
        weights = np.broadcast_to(weights, (pixels.shape[0], *weights.shape))
    if weights.ndim != 3 or weights.shape[0] != pixels.shape[0] or 0 in weights.shape:
        raise ValueError(f"a kernel for a {pixels.shape[0]}-channel image is (kh, kw) or "
                         f"({pixels.shape[0]}, kh, kw), got shape {np.shape(kernel)}")
    if not np.all(np.isfinite(weights)):
        raise ValueError("the kernel holds NaN or infinite values")
    weights = oriented_kernel(weights, mode)
    geometry = window_geometry(pixels.shape[1], pixels.shape[2], weights.shape[1:], stride, padding, dilation)
    padded = pad_input(pixels, geometry)
    out_h, out_w = geometry.output_shape
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    response = np.zeros((pixels.shape[0], out_h, out_w))
    # one shifted, strided slice per kernel tap: memory stays at one output map even for photos
    for i in range(weights.shape[1]):
        for j in range(weights.shape[2]):
            rows = slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw)
            response += weights[:, i, j, None, None] * padded[:, rows, cols]
    return FilterResponse(response, response.sum(axis=0), mode, geometry)


def multiply_only(image: np.ndarray, factor: float = 0.5) -> np.ndarray:
    """Every pixel times one number: the lecture's "multiplication only" panel.

    The picture only gets darker (or brighter); no pixel looks at its neighbours, so
    no edge or shape is found, unlike ``apply_filter``.
    """
    return as_channels(image).reshape(np.shape(image)) * float(factor)


# ---------------------------------------------------------------------- images to try

@dataclass(frozen=True)
class SampleImage:
    """An image for the playground: ``pixels`` in ``[0, 1]``, ``(H, W)`` grey or ``(3, H, W)`` colour."""

    name: str
    pixels: np.ndarray
    source: str


def to_gray(image: np.ndarray) -> np.ndarray:
    """``(H, W)`` luminance of a ``(3, H, W)`` colour image (ITU-R 601 weights); grey stays grey."""
    pixels = as_channels(image)
    if pixels.shape[0] == 1:
        return pixels[0]
    if pixels.shape[0] != 3:
        raise ValueError(f"expected a grey or RGB image, got {pixels.shape[0]} channels")
    return np.tensordot(np.array([0.299, 0.587, 0.114]), pixels, axes=1)


def load_photo(path: str | Path) -> np.ndarray:
    """A photo file as float64 ``(3, H, W)`` in ``[0, 1]``."""
    from PIL import Image

    with Image.open(path) as photo:
        rgb = np.asarray(photo.convert("RGB"), dtype=np.float64) / 255.0
    return rgb.transpose(2, 0, 1).copy()


def sample_images(digits: Sequence[int] = (7, 2, 0, 3), photos: bool = True) -> list[SampleImage]:
    """The first MNIST test image of each of ``digits``, then every photo in ``resources/images``."""
    from ..data.builtin import load_mnist

    samples = []
    mnist = load_mnist("test")
    for digit in digits:
        if digit not in range(10):
            raise ValueError(f"MNIST digits are 0 to 9, not {digit!r}")
        found = int(np.flatnonzero(mnist.y == digit)[0])
        samples.append(SampleImage(f"MNIST digit {digit}", mnist.x[found, 0].astype(np.float64),
                                   f"MNIST test image #{found}"))
    if photos and IMAGES_FOLDER.is_dir():
        for path in sorted(IMAGES_FOLDER.iterdir()):
            if path.suffix.lower() in PHOTO_SUFFIXES:
                samples.append(SampleImage(path.stem.replace("_", " ").capitalize(), load_photo(path),
                                           f"resources/images/{path.name} (see the README there)"))
    return samples
