"""MNIST and Fashion-MNIST from the standard IDX files, gzip-compressed or not.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values. Images are ``0x00000803`` (uint8, 3-D:
count, rows, columns), labels ``0x00000801`` (uint8, 1-D). Fashion-MNIST uses the same names and
layout as MNIST, so one reader serves both; only the class names differ.
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import numpy as np

from .dataset import ArrayDataset, DatasetError, read_file_bytes

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
GZIP_START = b"\x1f\x8b"

MNIST_CLASSES = [str(digit) for digit in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
CLASSES = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES}

#: split -> file-name prefix used by the original distribution
PREFIXES = {"train": "train", "test": "t10k"}

# type code -> big-endian numpy dtype (the IDX spec's full list; MNIST uses only 0x08)
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_KIND = {IMAGES_MAGIC: "IDX image file (0x00000803)", LABELS_MAGIC: "IDX label file (0x00000801)"}


def _redownload(path: Path) -> str:
    return f"Download {path.name} again (or decompress it again) and replace the file"


def _read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip (judged by its first bytes, not its name)."""
    raw = read_file_bytes(path)
    if not raw.startswith(GZIP_START):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(path, f"corrupt gzip file ({error})", _redownload(path)) from None


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """The array stored in one IDX file (``.gz`` or raw).

    ``expected_magic`` (``IMAGES_MAGIC`` or ``LABELS_MAGIC``) refuses the other kind of file, a
    common mix-up when choosing files by hand.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _TYPES or data[3] == 0:
        start = data[:4].hex() if data else "empty file"
        raise DatasetError(path, f"not an IDX file (it starts with {start}, not 0x0000080n)",
                           f"Choose the original {path.name.split('.')[0]} file from the dataset's site")
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        found = _KIND.get(magic, f"an IDX file with magic 0x{magic:08x}")
        raise DatasetError(path, f"wrong magic number 0x{magic:08x}: this is {found} but an "
                                 f"{_KIND[expected_magic]} is expected here",
                           "Check that the images and labels files have not been swapped or renamed")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(path, "file ends inside its header (truncated)", _redownload(path))
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_TYPES[data[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise DatasetError(path, f"holds {len(data) - header:,} data bytes but its header "
                                 f"{dims} announces {expected:,} (truncated or damaged file)",
                           _redownload(path))
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array if dtype.byteorder in ("|", "=") else array.astype(dtype.newbyteorder("="))


def find_idx_file(folder: Path, split: str, what: str) -> Path | None:
    """``train-images-idx3-ubyte`` and its usual variants (``.gz``, ``train-images.idx3-ubyte``)."""
    rank = 3 if what == "images" else 1
    pattern = re.compile(rf"{PREFIXES[split]}-{what}[-.]idx{rank}-ubyte(\.gz)?", re.IGNORECASE)
    matches = sorted(p for p in folder.iterdir() if p.is_file() and pattern.fullmatch(p.name))
    # prefer the uncompressed file when both are there: it is faster to read
    return min(matches, key=lambda p: p.suffix == ".gz") if matches else None


def _has_images_file(folder: Path) -> bool:
    return folder.is_dir() and any(find_idx_file(folder, split, "images") for split in PREFIXES)


def idx_folder(folder: Path) -> Path:
    """``folder``, or its ``raw`` sub-folder (torchvision's ``MNIST/raw`` layout) when the files are there."""
    return folder / "raw" if not _has_images_file(folder) and _has_images_file(folder / "raw") else folder


def has_idx_files(folder: Path) -> bool:
    return _has_images_file(idx_folder(folder))


def read_idx_pair(images_path: Path, labels_path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 1, H, W)`` uint8 and labels ``(N,)``, checked against each other."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.ndim != 3:
        raise DatasetError(images_path, f"holds an array of shape {images.shape}, not (count, rows, columns)",
                           "Choose an IDX image file such as train-images-idx3-ubyte")
    if labels.ndim != 1:
        raise DatasetError(labels_path, f"holds an array of shape {labels.shape}, not (count,)",
                           "Choose an IDX label file such as train-labels-idx1-ubyte")
    for path, array in ((images_path, images), (labels_path, labels)):
        if array.dtype != np.uint8:
            raise DatasetError(path, f"holds {array.dtype} values, not unsigned bytes (type code 0x08)",
                               "Use the original MNIST-format file, which stores bytes 0-255")
    if len(images) != len(labels):
        raise DatasetError(labels_path, f"has {len(labels):,} labels but {images_path.name} has "
                                        f"{len(images):,} images",
                           "Use the labels file that belongs to these images (same split, same download)")
    if len(labels) and int(labels.max()) >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise DatasetError(labels_path, f"label {int(labels[bad])} at index {bad} is out of range "
                                        f"(this dataset has classes 0-{num_classes - 1})",
                           "Use the original labels file; this one is damaged or from another dataset")
    return images[:, None, :, :], labels


def load_idx_folder(folder: str | Path, split: str = "train", kind: str = "mnist") -> ArrayDataset:
    """MNIST (``kind="mnist"``) or Fashion-MNIST (``kind="fashion-mnist"``) from a folder of IDX files."""
    folder = Path(folder)
    if split not in PREFIXES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not folder.is_dir():
        raise DatasetError(folder, "folder not found", "Choose the folder that holds the IDX files")
    folder = idx_folder(folder)
    classes = CLASSES[kind]
    prefix = PREFIXES[split]
    found = {what: find_idx_file(folder, split, what) for what in ("images", "labels")}
    for what, path in found.items():
        if path is None:
            rank = 3 if what == "images" else 1
            name = f"{prefix}-{what}-idx{rank}-ubyte"
            raise DatasetError(folder / name, f"missing: no {name} or {name}.gz in this folder",
                               f"Put the {TITLES[kind]} {split} {what} file in {folder}")
    images, labels = read_idx_pair(found["images"], found["labels"], len(classes))
    return ArrayDataset.from_uint8(images, labels, classes, kind, str(folder))
