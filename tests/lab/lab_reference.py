"""Torch references for the lab tests, written independently of ``cnnstudio.lab``.

``'same'`` padding is recomputed here from the Keras rule (out = ceil(n / stride), the odd
extra pixel at the bottom/right) rather than taken from the code under test.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def keras_same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    out = -(-size // stride)
    span = dilation * (kernel - 1) + 1
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def _pairs(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def torch_conv(image: np.ndarray, weights: np.ndarray, stride=1, padding="valid", dilation=1,
               bias: np.ndarray | None = None) -> np.ndarray:
    """``F.conv2d`` (cross-correlation) of one ``(C, H, W)`` image with ``(F, C, kh, kw)`` weights."""
    x = torch.tensor(np.array(image, dtype=np.float64))[None]
    w = torch.tensor(np.array(weights, dtype=np.float64))
    stride, dilation = _pairs(stride), _pairs(dilation)
    if padding == "same":
        (top, bottom), (left, right) = (keras_same_pads(n, k, s, d) for n, k, s, d in
                                        zip(x.shape[2:], w.shape[2:], stride, dilation))
        x = F.pad(x, (left, right, top, bottom))
        padding = 0
    elif padding == "valid":
        padding = 0
    b = None if bias is None else torch.tensor(np.array(bias, dtype=np.float64))
    return F.conv2d(x, w, b, stride=stride, padding=_pairs(padding), dilation=dilation)[0].numpy()


def torch_pool(feature_map: np.ndarray, size: int, stride: int, mode: str, padding: str):
    """Keras-style pooling through torch: ``(output, indices)`` (indices only for max)."""
    x = torch.tensor(np.array(feature_map, dtype=np.float64))[None, None]
    if padding == "same":
        (top, bottom), (left, right) = (keras_same_pads(n, size, stride) for n in x.shape[2:])
    else:
        top = bottom = left = right = 0
    if mode == "max":
        padded = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        output, indices = F.max_pool2d(padded, size, stride, return_indices=True)
        return output[0, 0].numpy(), indices[0, 0].numpy(), padded.shape[-1], (top, left)
    # padded zeros stay out of the average: pooled sum of values / pooled count of real pixels
    values = F.avg_pool2d(F.pad(x, (left, right, top, bottom)), size, stride)
    counts = F.avg_pool2d(F.pad(torch.ones_like(x), (left, right, top, bottom)), size, stride)
    return (values / counts)[0, 0].numpy(), None, None, (top, left)
