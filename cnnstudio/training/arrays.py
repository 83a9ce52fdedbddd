"""Checking and converting what ``fit``/``evaluate``/``predict`` are given.

The trainer takes plain arrays (NumPy or torch) so it does not depend on the
data package: images ``(N, C, H, W)`` as floats (uint8 pixels are scaled by
1/255, the lecture's ``astype('float32') / 255``), labels as class indices
``(N,)`` or one-hot rows ``(N, K)`` (Keras's ``to_categorical``).  An object
with ``.x`` and ``.y`` (the data package's ``ArrayDataset``) works too.

Problems are found here, before the first batch, and reported with what was
received and what the network expects.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

from .errors import TrainingError


def unpack(x: Any, y: Any = None, *, pair: bool = False) -> tuple[Any, Any]:
    """``(x, y)`` from ``x, y`` or from a dataset object with ``.x`` and ``.y``; with
    ``pair=True`` also from an ``(x, y)`` tuple (Keras's ``validation_data``)."""
    if y is None and not isinstance(x, (np.ndarray, torch.Tensor)):
        if hasattr(x, "x") and hasattr(x, "y"):
            return x.x, x.y
        if pair and isinstance(x, (tuple, list)) and len(x) == 2:
            return x[0], x[1]
    return x, y


def _tensor(value: Any) -> torch.Tensor:
    """A tensor sharing memory with ``value`` where possible."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    with warnings.catch_warnings():  # a read-only array (np.load with mmap) is fine: nothing writes to it
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.as_tensor(np.asarray(value))


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def as_images(x: Any, input_shape: tuple[int, ...], what: str = "x") -> torch.Tensor:
    """``x`` as a float32 CPU tensor ``(N, *input_shape)``; no copy when it already is one."""
    try:
        tensor = _tensor(x)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TrainingError(f"{what} must be an array of images, not {type(x).__name__} ({error})") from None
    if tensor.dtype == torch.uint8:
        tensor = tensor.to(torch.float32) / 255
    elif tensor.dtype == torch.bool or not (tensor.is_floating_point()):
        raise TrainingError(f"{what} holds {tensor.dtype} values; give float images in [0, 1] or uint8 pixels")
    elif tensor.dtype != torch.float32:
        tensor = tensor.to(torch.float32)
    expected = (tensor.shape[0] if tensor.ndim else 0, *input_shape)
    if tensor.ndim != len(input_shape) + 1 or tuple(tensor.shape[1:]) != tuple(input_shape):
        got = _shape(tuple(tensor.shape))
        hint = ""
        if tensor.ndim == 4 and tuple(tensor.shape[1:]) == (*input_shape[1:], input_shape[0]):
            hint = (" (that is channels-last, Keras's order; CNN Studio uses PyTorch's (N, C, H, W): "
                    f"use {what}.transpose(0, 3, 1, 2))")
        elif tensor.ndim == len(input_shape) and tuple(tensor.shape[1:]) == tuple(input_shape[1:]) \
                and input_shape[0] == 1:
            hint = f" (add the channel axis: {what}[:, None])"
        raise TrainingError(f"{what} has shape {got} but the network expects {_shape(expected)}{hint}")
    if tensor.shape[0] == 0:
        raise TrainingError(f"{what} holds no samples")
    # a NaN or infinity anywhere makes the sum non-finite: one pass, no mask as large as the data
    if not math.isfinite(float(tensor.sum(dtype=torch.float64))):
        finite = torch.isfinite(tensor.reshape(tensor.shape[0], -1)).all(dim=1)
        if not bool(finite.all()):
            first = int((~finite).nonzero()[0, 0])
            raise TrainingError(f"{what} holds NaN or infinite values (first in sample {first}); "
                                "clean the data first")
    return tensor if tensor.device.type == "cpu" else tensor.cpu()


def as_labels(y: Any, count: int, num_classes: int, what: str = "y") -> torch.Tensor:
    """``y`` as an int64 CPU tensor ``(count,)`` of class indices in ``range(num_classes)``."""
    if y is None:
        raise TrainingError(f"{what} is missing: give the labels with the images")
    try:
        tensor = _tensor(y).cpu()
    except (TypeError, ValueError, RuntimeError) as error:
        raise TrainingError(f"{what} must be an array of class labels, not {type(y).__name__} ({error})") from None
    if tensor.ndim == 2 and tensor.shape[1] == num_classes and tensor.shape[0] == count:
        tensor = tensor.argmax(dim=1)  # one-hot rows, as Keras's to_categorical makes
    if tensor.ndim != 1:
        raise TrainingError(f"{what} has shape {_shape(tuple(tensor.shape))}; give one class index per sample, "
                            f"shape ({count},), or one-hot rows ({count}, {num_classes})")
    if tensor.shape[0] != count:
        raise TrainingError(f"{what} has {tensor.shape[0]} labels for {count} images")
    if tensor.is_floating_point():
        if not bool((tensor == tensor.round()).all()):
            raise TrainingError(f"{what} holds fractional values; give whole class indices")
    elif tensor.dtype == torch.bool:
        raise TrainingError(f"{what} holds booleans; give whole class indices")
    tensor = tensor.to(torch.int64)
    low, high = int(tensor.min()), int(tensor.max())
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise TrainingError(f"{what} holds the class {bad}, but the network's output has {num_classes} classes "
                            f"(0 to {num_classes - 1}); make the last layer's width match the dataset's classes")
    return tensor
