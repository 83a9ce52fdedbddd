"""Which hand-made kernel a learned first-layer filter resembles.

The lecture: early CNNs were given hand-made filters (edges, blobs), but "the neural
networks discover on their own practically those same filters".  For each learned
filter this module finds the nearest preset of ``lab.filters`` by normalised
correlation (cosine similarity of the two kernels as vectors, so scale does not matter),
also trying each preset with its sign flipped (a dark-to-bright edge detector is the
bright-to-dark one negated).  Presets of another size are resized to the filter's size
by area averaging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

from .filters import PRESETS, Preset

if TYPE_CHECKING:  # pragma: no cover
    import torch


def _area_weights(old: int, new: int) -> np.ndarray:
    """``(new, old)`` weights: how much of each old pixel falls in each new pixel (rows sum to 1)."""
    edges_old = np.arange(old + 1) / old
    edges_new = np.arange(new + 1) / new
    overlap = (np.minimum(edges_new[1:, None], edges_old[None, 1:])
               - np.maximum(edges_new[:-1, None], edges_old[None, :-1])).clip(min=0)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
    """``kernel`` resampled to ``size x size``: each new cell averages the old cells it covers."""
    array = np.asarray(kernel, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"a kernel is 2-D, got shape {array.shape}")
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    if array.shape == (size, size):
        return array.copy()
    return _area_weights(array.shape[0], size) @ array @ _area_weights(array.shape[1], size).T


def normalised_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two same-shaped kernels: 1 same pattern, -1 negated, 0 unrelated."""
    x, y = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    norm = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / norm) if norm > 0 else 0.0


@dataclass(frozen=True)
class FilterMatch:
    """The preset nearest to learned filter ``index``; ``inverted`` when it matches the
    preset's negative; ``score`` in ``[0, 1]``; ``scores`` has every preset's signed score."""

    index: int
    preset: str
    score: float
    inverted: bool
    scores: dict[str, float]

    @property
    def sentence(self) -> str:
        strength = "closely resembles" if self.score >= 0.8 else "somewhat resembles" if self.score >= 0.5 \
            else "is not much like any preset; nearest is"
        negated = " with its sign flipped" if self.inverted else ""
        return f"Filter {self.index} {strength} {self.preset}{negated} (normalised correlation {self.score:.2f})."


def nearest_presets(filters: np.ndarray, presets: Mapping[str, Preset] | None = None) -> list[FilterMatch]:
    """One match per filter of ``filters`` ``(F, C, k, k)`` (or ``(F, k, k)``).

    A filter with several input channels is compared through the sum of its channels,
    the kernel it applies to a grey image.
    """
    array = np.asarray(filters, dtype=np.float64)
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4 or array.shape[2] != array.shape[3] or 0 in array.shape:
        raise ValueError(f"filters must be (F, C, k, k) with square kernels, got shape {np.shape(filters)}")
    size = array.shape[2]
    candidates = {name: resize_kernel(p.kernel, size) for name, p in (presets or PRESETS).items()}
    matches = []
    for index, kernel in enumerate(array.sum(axis=1)):
        scores = {name: normalised_correlation(kernel, preset) for name, preset in candidates.items()}
        best = max(scores, key=lambda name: abs(scores[name]))
        matches.append(FilterMatch(index, best, abs(scores[best]), scores[best] < 0, scores))
    return matches


def first_layer_matches(model: "torch.nn.Module") -> list[FilterMatch]:
    """``nearest_presets`` of a trained model's first Conv2D filters."""
    from ..training.probes import first_layer_filters

    return nearest_presets(first_layer_filters(model))
