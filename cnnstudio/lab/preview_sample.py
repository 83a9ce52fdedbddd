"""The sample a live preview runs: one real image of the project's dataset (the built-in
MNIST when the project names none), chosen by its index in the test split.

A dataset is read once and kept (the last two), so an edit costs a network pass, not a
file read.  Datasets without a test split fall back to their training split.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from cnnstudio.data.dataset import ArrayDataset, DatasetError
from cnnstudio.data.registry import DATASETS, load_dataset

DEFAULT_DATASET = "mnist"


@dataclass(frozen=True)
class PreviewSample:
    image: np.ndarray        # float32 (C, H, W) in [0, 1]
    label: int | None
    caption: str             # "mnist test #0: 7"
    index: int
    note: str = ""           # why another dataset than the project's was used


def project_sample(dataset: Mapping[str, Any] | None = None, index: int = 0,
                   base_dir: str | Path | None = None) -> PreviewSample:
    """``dataset_sample``, or the built-in MNIST's when the project's dataset cannot be read
    (a CIFAR-10 project on a machine without its files), with a ``note`` saying so."""
    try:
        return dataset_sample(dataset, index, base_dir)
    except (DatasetError, ValueError, OSError) as error:
        fallback = dataset_sample(None, index)
        return dataclasses.replace(fallback, note=f"the project's dataset cannot be read ({error}); "
                                                  "the built-in MNIST is used")


def dataset_sample(dataset: Mapping[str, Any] | None = None, index: int = 0,
                   base_dir: str | Path | None = None) -> PreviewSample:
    """Sample ``index`` (wrapping around) of the dataset the project's ``dataset`` settings
    name; a relative path starts at ``base_dir`` (the project's folder).  Raises
    ``DatasetError`` (or ``ValueError``) when the dataset cannot be read."""
    settings = dict(dataset or {})
    name = settings.get("name") or DEFAULT_DATASET
    path = settings.get("path")
    if isinstance(path, str) and path and base_dir is not None and not Path(path).is_absolute():
        path = str(Path(base_dir) / path)
    if path and Path(path).exists() and not (Path(path).is_file() or Path(path).is_dir()):
        # a pipe or a device may never end: one preview sample is not worth waiting on it
        raise DatasetError(path, "is not a regular file or folder", "Choose the dataset's file or folder")
    data, split = _dataset(str(name), path or None)
    position = index % len(data.x)
    label = int(data.y[position])
    title = DATASETS[name].name if name in DATASETS else Path(str(name)).name
    class_name = data.classes[label] if label < len(data.classes) else str(label)
    return PreviewSample(data.x[position], label, f"{title} {split} #{position}: {class_name}", position)


_locks: dict[tuple[str, str | None], threading.Lock] = {}
_locks_guard = threading.Lock()


def _dataset(name: str, path: str | None) -> tuple[ArrayDataset, str]:
    # two previews never read the same files at once, and a slow read of one dataset never
    # holds up the previews of another
    with _locks_guard:
        lock = _locks.setdefault((name, path), threading.Lock())
    with lock:
        return _read(name, path)


@functools.lru_cache(maxsize=2)
def _read(name: str, path: str | None) -> tuple[ArrayDataset, str]:
    for split in ("test", "train"):
        try:
            data = load_dataset(name, path=path, split=split) if name in DATASETS else load_dataset(name, split=split)
        except DatasetError:
            if split == "train":
                raise
            continue
        if len(data.x):
            return data, split
    raise DatasetError(name, "holds no samples", "Choose another dataset for the previews")
