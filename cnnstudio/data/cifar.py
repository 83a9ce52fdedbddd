"""CIFAR-10 from its standard "python version" batches (``cifar-10-batches-py``).

The folder holds ``data_batch_1`` .. ``data_batch_5`` (training), ``test_batch`` and
``batches.meta``. Each batch is a pickle of a dict: ``b'data'`` uint8 ``(N, 3072)`` (1024 red,
then 1024 green, then 1024 blue values, each a 32x32 image row by row) and ``b'labels'`` (N ints).

Safety: unpickling can run arbitrary code named in the file, and a downloaded "dataset" is not
trusted. ``SafeUnpickler`` therefore resolves only the few globals a NumPy array needs
(``ndarray``, ``dtype`` and NumPy's two array-rebuilding functions) plus a latin-1-only stand-in
for ``_codecs.encode`` (how Python 3 writes bytes in protocol 2), and refuses everything else with
a ``DatasetError`` before any of it runs; plain dicts, lists, bytes, strings and numbers need no
globals at all. A genuine CIFAR batch loads; a booby-trapped one is refused.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import ArrayDataset, DatasetError, read_file_bytes

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR10_SHAPE = (3, 32, 32)
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)
META_FILE = "batches.meta"
#: the folder name inside the official archive, accepted when the user picks its parent
ARCHIVE_FOLDER = "cifar-10-batches-py"


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """How Python 3 writes ``bytes`` in protocol 2 pickles: ``_codecs.encode(text, 'latin1')``."""
    if encoding.replace("-", "").replace("_", "").lower() not in ("latin1", "iso88591") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"unexpected _codecs.encode({type(text).__name__}, {encoding!r})")
    return text.encode("latin1")


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """The only globals a pickle may name, mapped to the objects they mean in this NumPy.

    Files written by NumPy 1.x say ``numpy.core...``, NumPy 2.x says ``numpy._core...``; the
    rebuilding functions are taken from ``__reduce_ex__`` so no private module is imported here.
    """
    sample = np.zeros(1, np.uint8)
    reconstruct = sample.__reduce_ex__(2)[0]
    frombuffer = sample.__reduce_ex__(5)[0]
    allowed: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
                                           ("_codecs", "encode"): _latin1_bytes}
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{core}.numeric", "_frombuffer")] = frombuffer
    return allowed


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds dicts, lists, bytes, str, numbers and NumPy arrays, and nothing else."""

    def __init__(self, file: io.BufferedIOBase, path: Path) -> None:
        super().__init__(file, encoding="bytes")
        self._path = path
        self._allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise DatasetError(self._path, f"refused: the file asks to run {module}.{name}, which a CIFAR "
                                           "batch never needs (loading it could run someone else's code)",
                               "Use the original CIFAR-10 python batches from the dataset's site") from None

    def persistent_load(self, pid: Any) -> Any:
        raise DatasetError(self._path, "refused: the file uses persistent references, which a CIFAR batch never "
                                       "has", "Use the original CIFAR-10 python batches")


def read_pickle(path: Path) -> Any:
    """The object in a pickle file, built only from the safe types above."""
    raw = read_file_bytes(path)
    try:
        return SafeUnpickler(io.BytesIO(raw), path).load()
    except DatasetError:
        raise
    except Exception as error:  # a damaged pickle can fail in many ways (EOF, bad opcode, bad array state)
        raise DatasetError(path, f"corrupt or not a pickle ({type(error).__name__}: {error})",
                           f"Download the CIFAR-10 python version again and replace {path.name}") from None


def read_batch(path: Path, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` from one batch file, checked."""
    batch = read_pickle(path)
    if not isinstance(batch, dict) or b"data" not in batch:
        what = f"a dict with keys {sorted(batch)[:6]}" if isinstance(batch, dict) else type(batch).__name__
        raise DatasetError(path, f"is not a CIFAR batch: it holds {what}, not a dict with b'data' and b'labels'",
                           "Choose the folder of the CIFAR-10 python version (cifar-10-batches-py)")
    if b"labels" not in batch:
        hint = " (this looks like CIFAR-100, which is not supported)" if b"fine_labels" in batch else ""
        raise DatasetError(path, f"has no b'labels' entry{hint}", "Use the CIFAR-10 python version")
    data = batch[b"data"]
    size = int(np.prod(CIFAR10_SHAPE))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != size:
        found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetError(path, f"b'data' is {found}, not uint8 (N, {size})",
                           "Use the original CIFAR-10 python batches; other versions (binary, MATLAB) differ")
    try:
        labels = np.asarray(batch[b"labels"], dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise DatasetError(path, "b'labels' is not a list of whole numbers",
                           "Use the original CIFAR-10 python batches") from None
    if len(labels) != len(data):
        raise DatasetError(path, f"has {len(data):,} images but {len(labels):,} labels",
                           f"Download the CIFAR-10 python version again and replace {path.name}")
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if len(bad):
        raise DatasetError(path, f"label {int(labels[bad[0]])} at index {int(bad[0])} is out of range "
                                 f"(CIFAR-10 has classes 0-{num_classes - 1})",
                           f"Download the CIFAR-10 python version again and replace {path.name}")
    return data.reshape((-1,) + CIFAR10_SHAPE), labels


def read_class_names(folder: Path) -> list[str]:
    """Class names from ``batches.meta`` when it is there and sane, else the standard ten."""
    path = folder / META_FILE
    if not path.is_file():
        return list(CIFAR10_CLASSES)
    meta = read_pickle(path)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or not names or not all(isinstance(n, (bytes, str)) for n in names):
        raise DatasetError(path, "has no b'label_names' list of class names",
                           "Download the CIFAR-10 python version again, or delete batches.meta to use the "
                           "standard class names")
    return [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]


def cifar_folder(folder: Path) -> Path:
    """``folder`` itself, or its ``cifar-10-batches-py`` sub-folder when the user chose the parent."""
    inner = folder / ARCHIVE_FOLDER
    return inner if not (folder / "test_batch").exists() and inner.is_dir() else folder


def has_cifar_batches(folder: Path) -> bool:
    folder = cifar_folder(folder)
    return folder.is_dir() and any((folder / name).is_file() for name in TRAIN_FILES + TEST_FILES)


def load_cifar10(folder: str | Path, split: str = "train") -> ArrayDataset:
    """CIFAR-10 ``train`` (50,000 images from five batches) or ``test`` (10,000), ``(3, 32, 32)``."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(folder, "folder not found", "Choose the cifar-10-batches-py folder")
    folder = cifar_folder(folder)
    names = TRAIN_FILES if split == "train" else TEST_FILES
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise DatasetError(folder / missing[0], f"missing ({', '.join(missing)} not in this folder)",
                           f"Put all of {', '.join(names)} from the CIFAR-10 python version in {folder}")
    classes = read_class_names(folder)
    parts = [read_batch(folder / name, len(classes)) for name in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return ArrayDataset.from_uint8(images, labels, classes, "cifar10", str(folder))
