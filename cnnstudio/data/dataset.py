"""The one in-memory form every dataset takes, and the error every loader raises.

Loaders differ (IDX, CIFAR pickles, image folders, ``.npz``); what they hand to the trainer, the
preview and the compatibility check is always an ``ArrayDataset``: images as float32
``(N, C, H, W)`` in ``[0, 1]`` (Keras-style ``/ 255``), labels as int64 ``(N,)``, class names. Taking
a subset or a validation split is done here once, so every format gets the same behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path

import numpy as np


class DatasetError(Exception):
    """Data that cannot be used, with the file at fault and what to do about it.

    ``str()`` is one line, ``"<file>: <problem>. <fix>"``, ready for a message box or the CLI.
    """

    def __init__(self, path: str | PathLike[str], problem: str, fix: str) -> None:
        self.path = str(path)
        self.problem = problem.rstrip(". ")
        self.fix = fix.strip()
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}. {self.fix}"


@dataclass(frozen=True)
class SkippedFile:
    """A file a loader left out (for example an unreadable image), and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


@dataclass
class ArrayDataset:
    """Images and labels in memory.

    ``x`` is float32 ``(N, C, H, W)`` scaled to ``[0, 1]``; ``y`` is int64 ``(N,)`` with values in
    ``range(len(classes))``. ``source`` says where the data came from (a folder, a file), and
    ``skipped`` lists files the loader left out at the user's request.
    """

    x: np.ndarray
    y: np.ndarray
    classes: list[str]
    name: str
    source: str
    skipped: list[SkippedFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.x.ndim != 4:
            raise ValueError(f"x must be (N, C, H, W), got shape {self.x.shape}")
        if self.y.ndim != 1 or len(self.y) != len(self.x):
            raise ValueError(f"y must be (N,) with N = {len(self.x)}, got shape {self.y.shape}")
        if self.x.dtype != np.float32:
            raise ValueError(f"x must be float32, got {self.x.dtype}")
        if self.y.dtype != np.int64:
            raise ValueError(f"y must be int64, got {self.y.dtype}")

    @classmethod
    def from_uint8(cls, images: np.ndarray, labels: np.ndarray, classes: list[str], name: str,
                   source: str, skipped: list[SkippedFile] | None = None) -> ArrayDataset:
        """Build from uint8 ``(N, C, H, W)`` pixels (0-255) and integer labels."""
        x = images.astype(np.float32, order="C")
        x /= np.float32(255)  # Keras's x / 255, in float32
        return cls(x, labels.astype(np.int64, copy=False), list(classes), name, source, list(skipped or []))

    # ------------------------------------------------------------------ facts
    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """One image's shape ``(C, H, W)``, as an Input layer's ``shape`` reads it."""
        return tuple(int(d) for d in self.x.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.y)

    def class_counts(self) -> np.ndarray:
        """Samples per class, ``(num_classes,)``."""
        return np.bincount(self.y, minlength=self.num_classes)

    # ------------------------------------------------------------------ parts
    def take(self, indices: np.ndarray | list[int]) -> ArrayDataset:
        """The samples at ``indices``, in that order (copies, so the parts never share memory)."""
        indices = np.asarray(indices, dtype=np.int64)
        return replace(self, x=self.x[indices], y=self.y[indices], classes=list(self.classes),
                       skipped=list(self.skipped))

    def subset(self, n: int, seed: int = 0) -> ArrayDataset:
        """``n`` samples with the classes as equally represented as the data allows.

        Every class gets ``n // num_classes`` (the first ``n % num_classes`` classes one more); a
        class with too few samples gives all it has and the others make up the difference.
        Samples are drawn at random with ``seed`` and keep their original order. ``n`` at or above
        ``len(self)`` returns everything.
        """
        return self.take(balanced_indices(self.y, self.num_classes, n, seed))

    def split(self, validation_fraction: float, seed: int = 0) -> tuple[ArrayDataset, ArrayDataset]:
        """``(train, validation)`` with each class split in the same proportion.

        The validation part has ``round(validation_fraction * len(self))`` samples, spread over the
        classes by their share (largest remainders get the leftover samples); the same ``seed``
        always gives the same split.
        """
        if not 0.0 <= validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
        counts = self.class_counts()
        wanted = counts * validation_fraction
        per_class = np.floor(wanted).astype(np.int64)
        leftover = int(round(validation_fraction * len(self))) - int(per_class.sum())
        if leftover > 0:
            # stable sort so ties go to the lower class index, whatever the platform
            order = np.argsort(-(wanted - per_class), kind="stable")
            per_class[order[:leftover]] += 1
        rng = np.random.default_rng(seed)
        validation = [rng.permutation(np.flatnonzero(self.y == c))[:k] for c, k in enumerate(per_class)]
        val_index = np.sort(np.concatenate(validation)) if validation else np.empty(0, np.int64)
        keep = np.ones(len(self), dtype=bool)
        keep[val_index] = False
        return self.take(np.flatnonzero(keep)), self.take(val_index)

    def describe(self) -> str:
        """``mnist: 60,000 images (1, 28, 28), 10 classes``."""
        return f"{self.name}: {len(self):,} images {self.sample_shape}, {self.num_classes} classes"


def balanced_indices(labels: np.ndarray, num_classes: int, n: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a class-balanced sample of ``n`` labels (see ``ArrayDataset.subset``)."""
    if n < 1:
        raise ValueError(f"subset size must be at least 1, got {n}")
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    quotas = _balanced_quotas(np.bincount(labels, minlength=num_classes), n)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:quota] for c, quota in enumerate(quotas)]
    return np.sort(np.concatenate(chosen))


def _balanced_quotas(counts: np.ndarray, n: int) -> np.ndarray:
    """Per-class sample counts summing to ``n`` (< counts.sum()), as equal as ``counts`` allows.

    Water filling: the highest level ``L`` with ``sum(min(counts, L)) <= n``, then one more sample
    for the first classes (by index) that still have some, until ``n`` is reached.
    """
    low, high = 0, int(counts.max())
    while low < high:  # largest L whose filled total still fits in n
        mid = (low + high + 1) // 2
        if int(np.minimum(counts, mid).sum()) <= n:
            low = mid
        else:
            high = mid - 1
    quotas = np.minimum(counts, low)
    leftover = n - int(quotas.sum())
    if leftover:
        quotas[np.flatnonzero(counts > low)[:leftover]] += 1
    return quotas


def read_file_bytes(path: Path) -> bytes:
    """A dataset file's bytes; a missing or unreadable file is a ``DatasetError`` with the fix."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise DatasetError(path, "file not found", f"Put {Path(path).name} in {Path(path).parent}") from None
    except OSError as error:
        raise DatasetError(path, f"cannot be read ({error.strerror or error})",
                           "Check that the file exists and that you may read it") from None
