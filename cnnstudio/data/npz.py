"""Images and labels saved with ``numpy.savez`` (``x``, ``y``), or Keras's ``mnist.npz`` layout
(``x_train``, ``y_train``, ``x_test``, ``y_test``). Optional ``classes``: an array of names.

The rules, in this order:

* ``x`` shape: ``(N, H, W)`` is grey; ``(N, D)`` with ``D`` a square number is grey ``sqrt(D)``
  squared (flattened MNIST); a 4-D array is channels-last ``(N, H, W, C)`` when its last axis is
  1, 3 or 4 and its second axis is not, otherwise channels-first ``(N, C, H, W)``;
  ``layout="nhwc"`` / ``"nchw"`` overrides the guess.
* ``x`` values: integers must lie in 0-255 and are divided by 255; floats already in [0, 1]
  are kept; floats in [0, 255] are divided by 255; anything else is refused.
* ``y``: whole numbers ``(N,)`` (or ``(N, 1)``) from 0, or one-hot ``(N, K)`` (the class is the
  largest entry). Classes are ``classes`` when given, else ``K`` for one-hot, else ``max(y) + 1``.

``numpy.load`` runs with ``allow_pickle=False``: opening a file never runs code from it.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .dataset import ArrayDataset, DatasetError

LAYOUTS = ("auto", "nchw", "nhwc")
CHANNEL_COUNTS = (1, 3, 4)
SAVE_HINT = "Save with numpy.savez(path, x=images, y=labels)"


def _keys_for(arrays: dict[str, np.ndarray], path: Path, split: str) -> tuple[str, str]:
    if f"x_{split}" in arrays and f"y_{split}" in arrays:
        return f"x_{split}", f"y_{split}"
    if "x" in arrays and "y" in arrays:
        if split == "train":
            return "x", "y"
        raise DatasetError(path, f"has no {split} part (x_{split}, y_{split}); x and y are the training data",
                           "Use split='train' and a validation split, or save x_test and y_test in the file")
    names = ", ".join(sorted(arrays)) or "none"
    raise DatasetError(path, f"has arrays {names} but not x and y (or x_{split} and y_{split})", SAVE_HINT)


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise DatasetError(path, "is a single .npy array, not an .npz archive of x and y", SAVE_HINT)
        with loaded as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise DatasetError(path, "file not found", "Check the path, or choose the .npz file again") from None
    except DatasetError:
        raise
    except ValueError as error:
        if "Object arrays" in str(error):
            raise DatasetError(path, "holds Python objects (an object array), which are not loaded because "
                                     "that could run code", "Save numeric arrays: " + SAVE_HINT) from None
        raise DatasetError(path, "corrupt or not an .npz file (NumPy cannot read it)", SAVE_HINT) from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DatasetError(path, f"corrupt or not an .npz file ({error})", SAVE_HINT) from None


def images_to_nchw(x: np.ndarray, path: Path, key: str, layout: str = "auto") -> np.ndarray:
    """``x`` as ``(N, C, H, W)`` following the rules in the module docstring."""
    if x.ndim == 2 and math.isqrt(x.shape[1]) ** 2 == x.shape[1] and x.shape[1] > 0:
        side = math.isqrt(x.shape[1])
        return x.reshape(len(x), 1, side, side)
    if x.ndim == 3:
        return x[:, None, :, :]
    if x.ndim == 4:
        if layout == "auto":
            layout = "nhwc" if x.shape[3] in CHANNEL_COUNTS and x.shape[1] not in CHANNEL_COUNTS else "nchw"
        return x.transpose(0, 3, 1, 2) if layout == "nhwc" else x
    raise DatasetError(path, f"'{key}' has shape {x.shape}; expected (N, H, W), (N, H, W, C) or (N, C, H, W)",
                       "Save the images as one array with the sample axis first")


def pixels_to_unit_range(x: np.ndarray, path: Path, key: str) -> np.ndarray:
    """Float32 pixels in [0, 1] following the value rules in the module docstring."""
    if x.dtype == np.bool_ or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise DatasetError(path, f"'{key}' holds {x.dtype} values, not numbers",
                           "Save the images as uint8 (0-255) or float (0-1)")
    if x.size == 0:
        return x.astype(np.float32)
    low, high = float(x.min()), float(x.max())
    if np.issubdtype(x.dtype, np.floating) and not math.isfinite(low + high):
        raise DatasetError(path, f"'{key}' contains NaN or infinite values", "Remove or repair those samples")
    if np.issubdtype(x.dtype, np.integer):
        if low < 0 or high > 255:
            raise DatasetError(path, f"'{key}' holds integers from {low:g} to {high:g}, outside 0-255",
                               "Save 8-bit pixels (uint8, 0-255)")
        scale = np.float32(255)
    elif low >= 0 and high <= 1:
        scale = np.float32(1)
    elif low >= 0 and high <= 255:
        scale = np.float32(255)
    else:
        raise DatasetError(path, f"'{key}' holds values from {low:g} to {high:g}; expected 0-1 or 0-255",
                           "Save raw pixels (uint8 0-255 or float 0-1); CNN Studio normalises them itself")
    result = x.astype(np.float32, order="C")
    if scale != 1:
        result /= scale
    return result


def labels_to_classes(y: np.ndarray, path: Path, key: str) -> tuple[np.ndarray, int]:
    """Integer labels ``(N,)`` and the class count implied by ``y``."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        if y.shape[1] < 2:
            raise DatasetError(path, f"'{key}' is one-hot with {y.shape[1]} columns", "Save at least two classes")
        return np.argmax(y, axis=1).astype(np.int64), y.shape[1]
    if y.ndim != 1:
        raise DatasetError(path, f"'{key}' has shape {y.shape}; expected labels (N,) or one-hot (N, classes)",
                           "Save one whole-number label per image")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)) or y.dtype == np.bool_:
        raise DatasetError(path, f"'{key}' holds {y.dtype} values, not class numbers",
                           "Save labels as whole numbers 0, 1, 2, ... (and class names in 'classes')")
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise DatasetError(path, f"'{key}' holds fractional or NaN labels", "Save labels as whole numbers 0, 1, 2, ...")
    labels = y.astype(np.int64)
    if len(labels) and labels.min() < 0:
        bad = int(np.argmax(labels < 0))
        raise DatasetError(path, f"label {labels[bad]} at index {bad} is out of range (labels start at 0)",
                           "Number the classes 0, 1, 2, ...")
    return labels, int(labels.max()) + 1 if len(labels) else 0


def load_npz(path: str | Path, split: str = "train", layout: str = "auto", name: str | None = None) -> ArrayDataset:
    """An ``ArrayDataset`` from an ``.npz`` file (see the module docstring for the rules)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    path = Path(path)
    arrays = _read(path)
    x_key, y_key = _keys_for(arrays, path, split)
    x, y = arrays[x_key], arrays[y_key]
    images = pixels_to_unit_range(images_to_nchw(x, path, x_key, layout), path, x_key)
    labels, implied = labels_to_classes(y, path, y_key)
    if len(labels) != len(images):
        raise DatasetError(path, f"'{x_key}' has {len(images):,} images but '{y_key}' has {len(labels):,} labels",
                           "Save exactly one label per image")
    if "classes" in arrays:
        classes = [str(c) for c in arrays["classes"].reshape(-1)]
        if implied > len(classes):
            bad = int(np.argmax(labels >= len(classes)))
            raise DatasetError(path, f"label {labels[bad]} at index {bad} is out of range: 'classes' names only "
                                     f"{len(classes)} classes (0-{len(classes) - 1})",
                               "Fix the labels, or add the missing class names to 'classes'")
    else:
        classes = [str(i) for i in range(implied)]
    if len(classes) < 2:
        raise DatasetError(path, f"has only {len(classes)} class; a classifier needs at least two",
                           "Add samples of other classes")
    return ArrayDataset(images, labels, classes, name or path.stem, str(path))
