"""A few samples of each class as displayable pictures, so the user can see what the network will see.

The pictures are plain uint8 arrays (``H x W`` grey or ``H x W x 3`` colour), ready for a
``QImage``, Pillow or matplotlib; this module knows nothing about how they are shown.
"""

from __future__ import annotations

import numpy as np

from .dataset import ArrayDataset


def to_picture(image: np.ndarray) -> np.ndarray:
    """One ``(C, H, W)`` image in [0, 1] as uint8 ``H x W`` (1 channel) or ``H x W x 3`` (3 or more)."""
    pixels = np.clip(np.rint(np.asarray(image, dtype=np.float32) * 255), 0, 255).astype(np.uint8)
    if pixels.shape[0] >= 3:
        return np.ascontiguousarray(pixels[:3].transpose(1, 2, 0))
    return np.ascontiguousarray(pixels[0])  # grey; with 2 channels, the first one


def preview_samples(dataset: ArrayDataset, per_class: int = 1, seed: int = 0) -> list[tuple[np.ndarray, str]]:
    """``per_class`` random samples of each class, class by class: ``[(picture, class name), ...]``.

    A class with fewer samples shows what it has; the same ``seed`` shows the same samples.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    rng = np.random.default_rng(seed)
    samples = []
    for label, name in enumerate(dataset.classes):
        members = np.flatnonzero(dataset.y == label)
        for index in np.sort(rng.permutation(members)[:per_class]):
            samples.append((to_picture(dataset.x[index]), name))
    return samples
