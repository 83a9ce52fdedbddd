"""Every dataset CNN Studio can load, in one list, and the one function that loads any of them.

The UI builds its dataset menu from ``DATASETS`` and the CLI its ``--dataset`` choices; both
call ``load_dataset``. A path given instead of a name is recognised by what it holds (an
``.npz`` file, IDX files, CIFAR-10 batches, class sub-folders of images).

Importing this module is cheap (NumPy only): Pillow loads when an image folder is read, torch
never.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .builtin import MNIST_SHAPE, load_mnist
from .cifar import CIFAR10_CLASSES, CIFAR10_SHAPE, TEST_FILES, TRAIN_FILES, has_cifar_batches, load_cifar10
from .dataset import ArrayDataset, DatasetError
from .folder import has_class_folders, load_image_folder
from .idx import FASHION_MNIST_CLASSES, MNIST_CLASSES, IMAGES_MAGIC, LABELS_MAGIC, has_idx_files, load_idx_folder
from .npz import load_npz

SPLITS = ("train", "test")

#: loader(path, split, subset, seed, **options) -> ArrayDataset
Loader = Callable[..., ArrayDataset]


@dataclass(frozen=True)
class DatasetSpec:
    """One kind of dataset. ``input_shape``/``num_classes`` are None where the files decide them."""

    name: str
    title: str
    input_shape: tuple[int, int, int] | None
    num_classes: int | None
    loader: Loader
    needs_path: bool
    description: str
    class_names: tuple[str, ...] = ()
    #: keyword options the loader accepts beyond split, subset and seed
    options: tuple[str, ...] = field(default=())


def _then_subset(load: Callable[..., ArrayDataset]) -> Loader:
    """A file loader that also takes ``subset`` and ``seed`` (applied after loading)."""

    def loader(path: Path | None, split: str, subset: int | None = None, seed: int = 0, **options: Any):
        dataset = load(path, split=split, **options)
        return dataset.subset(subset, seed) if subset is not None else dataset

    return loader


def _builtin_mnist(path: Path | None, split: str, subset: int | None = None, seed: int = 0) -> ArrayDataset:
    return load_mnist(split, subset=subset, seed=seed)


def _folder_of(path: Path) -> Path:
    """A dataset folder, also when the user picked one of the files in it."""
    return path.parent if path.is_file() else path


def _idx_loader(kind: str) -> Loader:
    return _then_subset(lambda path, split: load_idx_folder(_folder_of(path), split, kind=kind))


_cifar_loader = _then_subset(lambda path, split: load_cifar10(_folder_of(path), split))


DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec("mnist", "MNIST (built in)", MNIST_SHAPE, 10, _builtin_mnist, False,
                "Handwritten digits 0-9, 28x28 grey; 60,000 training and 10,000 test images shipped with "
                "CNN Studio (works offline).", tuple(MNIST_CLASSES)),
    DatasetSpec("mnist-files", "MNIST from IDX files", MNIST_SHAPE, 10, _idx_loader("mnist"), True,
                "MNIST from the four standard IDX files (train-images-idx3-ubyte[.gz], ...) in a folder.",
                tuple(MNIST_CLASSES)),
    DatasetSpec("fashion-mnist", "Fashion-MNIST", MNIST_SHAPE, 10, _idx_loader("fashion-mnist"), True,
                "Zalando's clothing images, 28x28 grey, 10 classes, from its IDX files in a folder.",
                tuple(FASHION_MNIST_CLASSES)),
    DatasetSpec("cifar10", "CIFAR-10", CIFAR10_SHAPE, 10, _cifar_loader, True,
                "Small colour photos, 32x32 RGB, 10 classes, from the python batches (cifar-10-batches-py).",
                tuple(CIFAR10_CLASSES)),
    DatasetSpec("image-folder", "Folder of images", None, None, _then_subset(load_image_folder), True,
                "Your own images, one sub-folder per class; any size (resized), grey or colour.",
                options=("target_size", "color", "on_unreadable", "name")),
    DatasetSpec("npz", "NumPy .npz file", None, None, _then_subset(load_npz), True,
                "Arrays x (images) and y (labels) saved with numpy.savez.", options=("layout", "name")),
)}


def detect_dataset(path: str | Path) -> tuple[str, Path]:
    """``(dataset name, path to load)`` for a file or folder, judged by what it holds."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return "npz", path
        if path.name in TRAIN_FILES + TEST_FILES:
            return "cifar10", path.parent
        if _starts_like_idx(path):  # one of the IDX files picked: the folder holds the dataset
            return _idx_kind(path.parent), path.parent
        raise DatasetError(path, "is not a dataset file (not .npz, not an IDX or CIFAR-10 batch file)",
                           "Choose an .npz file, or the folder that holds the dataset")
    if not path.is_dir():
        raise DatasetError(path, "no such file or folder", "Check the path, or choose the dataset again")
    if has_idx_files(path):
        return _idx_kind(path), path
    if has_cifar_batches(path):
        return "cifar10", path
    if has_class_folders(path):
        return "image-folder", path
    raise DatasetError(path, "no dataset found here: no IDX files, CIFAR-10 batches or class sub-folders of images",
                       "Choose the folder that holds the dataset's files, or an .npz file")


def _idx_kind(folder: Path) -> str:
    return "fashion-mnist" if "fashion" in str(folder).lower() else "mnist-files"


def _starts_like_idx(path: Path) -> bool:
    import gzip

    try:
        with open(path, "rb") as raw:
            start = raw.read(2)
        opener = gzip.open if start == b"\x1f\x8b" else open
        with opener(path, "rb") as stream:
            magic = int.from_bytes(stream.read(4), "big")
    except (OSError, EOFError):
        return False
    return magic in (IMAGES_MAGIC, LABELS_MAGIC)


def load_dataset(name_or_path: str | Path, path: str | Path | None = None, split: str = "train",
                 subset: int | None = None, seed: int = 0, **options: Any) -> ArrayDataset:
    """Load a dataset by registry name (``"mnist"``, ``"cifar10"`` with ``path=...``) or by path.

    ``subset=N`` keeps a class-balanced ``N`` samples (same ones for the same ``seed``).
    ``options`` go to the loader (see ``DatasetSpec.options``), for example
    ``target_size=(64, 64)`` for an image folder. Bad data raises ``DatasetError``.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if isinstance(name_or_path, str) and name_or_path in DATASETS:
        spec = DATASETS[name_or_path]
        if spec.needs_path and path is None:
            raise DatasetError(spec.name, f"{spec.title} is read from your own files and no path was given",
                               "Choose the folder or file that holds it")
        if not spec.needs_path and path is not None:
            raise ValueError(f"{spec.name!r} is built in and takes no path; for your own MNIST files use "
                             "'mnist-files'")
    else:
        if path is not None:
            known = ", ".join(DATASETS)
            raise ValueError(f"unknown dataset {name_or_path!r} (known: {known})")
        candidate = Path(name_or_path)
        if not candidate.exists():
            known = ", ".join(DATASETS)
            raise DatasetError(name_or_path, "is neither a dataset name nor an existing file or folder",
                               f"Use one of {known}, or the path of a dataset folder or .npz file")
        name, path = detect_dataset(candidate)
        spec = DATASETS[name]
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        allowed = ", ".join(spec.options) or "none"
        raise ValueError(f"{spec.name} does not take option(s) {', '.join(unknown)} (it takes: {allowed})")
    return spec.loader(Path(path) if path is not None else None, split, subset=subset, seed=seed, **options)
