"""Light, label-preserving augmentation of image batches: small shifts and optional mirroring.

Shifts move each image by up to ``max_shift`` pixels in each direction, filling the uncovered
border with zeros (black, the MNIST background). Horizontal flips are off by default because they
change meaning for digits and letters (a mirrored 2 is not a 2); they suit photos (CIFAR-10).
The random draws come from a NumPy generator seeded once, so a run is repeatable; the pixel
work is one gather on whatever holds the batch (a NumPy array, or a torch tensor on any device).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    """What to do; ``max_shift=0`` and no flip is no augmentation at all."""

    max_shift: int = 2
    horizontal_flip: bool = False

    def __post_init__(self) -> None:
        if self.max_shift < 0:
            raise ValueError(f"max_shift must be 0 or more, got {self.max_shift}")

    @property
    def enabled(self) -> bool:
        return self.max_shift > 0 or self.horizontal_flip

    def to_dict(self) -> dict[str, Any]:
        return {"max_shift": self.max_shift, "horizontal_flip": self.horizontal_flip}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugmentConfig:
        return cls(int(data.get("max_shift", 2)), bool(data.get("horizontal_flip", False)))


class Augmenter:
    """Applies an ``AugmentConfig`` to batches ``(N, C, H, W)``; each call draws fresh offsets."""

    def __init__(self, config: AugmentConfig | None = None, seed: int = 0) -> None:
        self.config = config or AugmentConfig()
        self.rng = np.random.default_rng(seed)

    def __call__(self, batch: Any) -> Any:
        if batch.ndim != 4:
            raise ValueError(f"expected a batch (N, C, H, W), got shape {tuple(batch.shape)}")
        if not self.config.enabled or batch.shape[0] == 0:
            return batch
        n, _, height, width = batch.shape
        k = self.config.max_shift
        dy = self.rng.integers(-k, k + 1, size=n)
        dx = self.rng.integers(-k, k + 1, size=n)
        flip = self.rng.random(n) < 0.5 if self.config.horizontal_flip else np.zeros(n, dtype=bool)
        # output[y, x] = input[y - dy, x - dx] (mirrored first where flip), read from a copy padded
        # by k zeros on every side, so positions that fall outside the image read zeros
        rows = np.arange(height)[None, :] - dy[:, None] + k
        cols = np.arange(width)[None, :] - dx[:, None]
        cols = np.where(flip[:, None], width - 1 - cols, cols) + k
        if isinstance(batch, np.ndarray):
            padded = np.pad(batch, ((0, 0), (0, 0), (k, k), (k, k)))
            return padded[np.arange(n)[:, None, None, None], np.arange(batch.shape[1])[None, :, None, None],
                          rows[:, None, :, None], cols[:, None, None, :]]
        import torch

        padded = torch.nn.functional.pad(batch, (k, k, k, k))
        index = {name: torch.as_tensor(value, device=batch.device)
                 for name, value in (("n", np.arange(n)), ("c", np.arange(batch.shape[1])),
                                     ("rows", rows), ("cols", cols))}
        return padded[index["n"][:, None, None, None], index["c"][None, :, None, None],
                      index["rows"][:, None, :, None], index["cols"][:, None, None, :]]
