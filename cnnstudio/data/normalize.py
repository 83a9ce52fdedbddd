"""Per-channel normalisation: ``(x - mean) / std`` with statistics measured on the training part.

The statistics come from the training images only (measuring them on validation or test data
would leak those into training), travel with a saved run as plain numbers (``to_dict``), and
are applied the same way to NumPy arrays and torch tensors, one image or a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: a channel whose pixels are all equal has std 0; it is left unscaled rather than divided by 0
MIN_STD = 1e-6
FIT_CHUNK = 4096


@dataclass(frozen=True)
class Normalization:
    """Per-channel ``mean`` and ``std`` for images ``(C, H, W)`` or batches ``(N, C, H, W)``."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.std) or not self.mean:
            raise ValueError(f"mean and std need one value per channel, got {self.mean} and {self.std}")
        if any(s <= 0 for s in self.std):
            raise ValueError(f"std must be positive, got {self.std}")

    @classmethod
    def fit(cls, x: np.ndarray) -> Normalization:
        """Measure mean and std per channel of float images ``(N, C, H, W)``."""
        if x.ndim != 4 or len(x) == 0:
            raise ValueError(f"fit needs a non-empty batch (N, C, H, W), got shape {x.shape}")
        # float64 sums over chunks: exact enough for 60,000 images, without a float64 copy of them all
        total = np.zeros(x.shape[1])
        squares = np.zeros(x.shape[1])
        for start in range(0, len(x), FIT_CHUNK):
            chunk = x[start:start + FIT_CHUNK].astype(np.float64)
            total += chunk.sum(axis=(0, 2, 3))
            squares += np.square(chunk).sum(axis=(0, 2, 3))
        count = len(x) * x.shape[2] * x.shape[3]
        mean = total / count
        std = np.sqrt(np.maximum(squares / count - mean ** 2, 0.0))
        return cls(tuple(float(m) for m in mean), tuple(float(s) if s >= MIN_STD else 1.0 for s in std))

    @classmethod
    def identity(cls, channels: int) -> Normalization:
        """No change: the lecture's networks train on ``x / 255`` alone."""
        return cls((0.0,) * channels, (1.0,) * channels)

    @property
    def channels(self) -> int:
        return len(self.mean)

    def apply(self, x: Any) -> Any:
        """``(x - mean) / std`` for a NumPy array or a torch tensor, ``(C, H, W)`` or ``(N, C, H, W)``."""
        if x.ndim not in (3, 4) or x.shape[-3] != self.channels:
            raise ValueError(f"expected images with {self.channels} channel(s) (C, H, W) or (N, C, H, W), "
                             f"got shape {tuple(x.shape)}")
        if isinstance(x, np.ndarray):
            mean = np.asarray(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
            std = np.asarray(self.std, dtype=x.dtype).reshape(-1, 1, 1)
            return (x - mean) / std
        import torch

        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
        return (x - mean) / std

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normalization:
        return cls(tuple(float(v) for v in data["mean"]), tuple(float(v) for v in data["std"]))
