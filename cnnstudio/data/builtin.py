"""The MNIST files shipped with CNN Studio, so the lecture's network trains with no network access.

The four IDX ``.gz`` files live in ``resources/datasets/mnist/`` (see the README there for their
origin, checksums and licence). Decoded pixels are cached for the life of the process: the
editor, the trainer and the tests can ask for MNIST again and again for the price of one read.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ..paths import RESOURCES
from .dataset import ArrayDataset, DatasetError, balanced_indices
from .idx import MNIST_CLASSES, PREFIXES, read_idx_pair

MNIST_FOLDER = RESOURCES / "datasets" / "mnist"
MNIST_SHAPE = (1, 28, 28)
MNIST_SIZES = {"train": 60_000, "test": 10_000}

_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
_cache_lock = threading.Lock()  # the UI may load from a worker thread while the CLI or a test also does


def bundled_mnist_files(split: str) -> tuple[Path, Path]:
    """``(images, labels)`` paths of the shipped files for ``split``."""
    prefix = PREFIXES[split]
    return (MNIST_FOLDER / f"{prefix}-images-idx3-ubyte.gz", MNIST_FOLDER / f"{prefix}-labels-idx1-ubyte.gz")


def _mnist_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    with _cache_lock:
        if split not in _cache:
            images_path, labels_path = bundled_mnist_files(split)
            for path in (images_path, labels_path):
                if not path.is_file():
                    raise DatasetError(path, "the built-in MNIST file is missing",
                                       "Reinstall CNN Studio or restore resources/datasets/mnist/ from its "
                                       "repository; or load MNIST from your own copy with the 'mnist-files' dataset")
            images, labels = read_idx_pair(images_path, labels_path, len(MNIST_CLASSES))
            images.flags.writeable = False  # shared by every caller: nobody may edit it in place
            labels.flags.writeable = False
            _cache[split] = (images, labels)
        return _cache[split]


def load_mnist(split: str = "train", subset: int | None = None, seed: int = 0) -> ArrayDataset:
    """The built-in MNIST: 60,000 training or 10,000 test images ``(1, 28, 28)``, labels 0-9.

    ``subset=N`` keeps a class-balanced sample of ``N`` images (the same ones for the same
    ``seed``), for quick runs and tests.
    """
    if split not in PREFIXES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images, labels = _mnist_arrays(split)
    if subset is not None:
        # choose on the labels first so only the chosen images are converted to float
        chosen = balanced_indices(labels, len(MNIST_CLASSES), subset, seed)
        images, labels = images[chosen], labels[chosen]
    return ArrayDataset.from_uint8(images, labels, MNIST_CLASSES, "mnist", str(MNIST_FOLDER))
