"""Turning arrays into pictures: a perceptual colour map and grey/RGB images as QImage."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

# A few anchor colours of a viridis-like map, interpolated to 256 entries.
_ANCHORS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64)
LUT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_ANCHORS)), _ANCHORS[:, c])
                for c in range(3)], axis=1).astype(np.uint8)


def scale_to_unit(values: np.ndarray, low: float | None = None, high: float | None = None) -> np.ndarray:
    low = float(values.min()) if low is None else low
    high = float(values.max()) if high is None else high
    if high - low < 1e-12:
        return np.zeros_like(values, dtype=np.float64)
    return np.clip((values - low) / (high - low), 0.0, 1.0)


def colormap_rgb(unit: np.ndarray) -> np.ndarray:
    """``(H, W)`` values in [0, 1] -> ``(H, W, 3)`` uint8 colours."""
    return LUT[(unit * 255).astype(np.uint8)]


def rgb_image(rgb: np.ndarray) -> QImage:
    """``(H, W, 3)`` uint8 -> a QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width, _ = rgb.shape
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def grey_image(grey: np.ndarray) -> QImage:
    """``(H, W)`` values in [0, 1] -> a grey QImage."""
    data = np.ascontiguousarray((np.clip(grey, 0, 1) * 255).astype(np.uint8))
    height, width = data.shape
    return QImage(data.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


def sample_image(sample: np.ndarray) -> QImage:
    """One dataset sample ``(C, H, W)`` in [0, 1] (grey or RGB) as a picture."""
    if sample.shape[0] == 3:
        return rgb_image((np.clip(sample.transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8))
    return grey_image(sample[0])
