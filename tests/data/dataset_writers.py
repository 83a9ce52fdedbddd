"""Tiny datasets in the real file formats, written by the tests themselves (no downloads).

Each writer produces what the original distribution ships, only smaller: IDX files as in
LeCun's MNIST, pickled dicts as in ``cifar-10-batches-py``, class folders of PNG/JPEG files.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

CIFAR_NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file: two zero bytes, the type code, the rank, big-endian sizes, then the values."""
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=">u1").tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def digit_images(count: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random uint8 images and labels cycling 0-9 (so every class is there)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, size, size), dtype=np.uint8), (np.arange(count) % 10).astype(np.uint8)


def write_mnist_folder(folder: Path, train: int = 30, test: int = 10, gz: bool = True) -> Path:
    """The four files of MNIST (or Fashion-MNIST: same names) with ``train``/``test`` images."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for prefix, count, seed in (("train", train, 1), ("t10k", test, 2)):
        images, labels = digit_images(count, seed)
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, gz)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz)
    return folder


def cifar_batch(count: int, seed: int, label: str = "training batch") -> dict:
    rng = np.random.default_rng(seed)
    return {b"batch_label": label.encode(), b"labels": [int(v) for v in np.arange(count) % 10],
            b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
            b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(count)]}


def write_pickle(path: Path, obj, protocol: int = 2) -> Path:
    with open(path, "wb") as file:
        pickle.dump(obj, file, protocol=protocol)
    return path


def write_cifar_folder(folder: Path, per_batch: int = 10, protocol: int = 2) -> Path:
    """``data_batch_1..5``, ``test_batch`` and ``batches.meta`` as in ``cifar-10-batches-py``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, 6):
        write_pickle(folder / f"data_batch_{i}", cifar_batch(per_batch, i, f"training batch {i} of 5"), protocol)
    write_pickle(folder / "test_batch", cifar_batch(per_batch, 9, "testing batch 1 of 1"), protocol)
    write_pickle(folder / "batches.meta", {b"label_names": CIFAR_NAMES, b"num_cases_per_batch": per_batch,
                                           b"num_vis": 3072}, protocol)
    return folder


def write_image(path: Path, size: tuple[int, int], mode: str, value: int = 128) -> Path:
    """A ``size=(W, H)`` image in Pillow ``mode``, its format chosen by the file suffix."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode == "L" else (value, 255 - value, 40)
    Image.new(mode, size, colour).save(path)
    return path


def write_class_folders(folder: Path, classes: dict[str, int], mode: str = "L", size: tuple[int, int] = (12, 10),
                        suffix: str = ".png") -> Path:
    """``folder/<class>/<i>.png`` with ``classes[name]`` images per class."""
    for index, (name, count) in enumerate(classes.items()):
        for i in range(count):
            write_image(folder / name / f"{i:03d}{suffix}", size, mode, value=20 * index + i)
    return folder
