"""A folder of images with one sub-folder per class (the layout Keras and torchvision read).

::

    flowers/                   or   flowers/train/<class>/...  and  flowers/test/<class>/...
      daisy/   001.jpg 002.png ...
      tulip/   ...

Class names are the sub-folder names in sorted order. Images may have any size and mode: each is
turned upright by its EXIF tag, converted to grey (``L``) or RGB and resized (stretched, bilinear)
to ``target_size``. Files that Pillow cannot read are either refused as a whole (the default:
the error lists them) or skipped and listed on ``ArrayDataset.skipped``, as the user chooses.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .dataset import ArrayDataset, DatasetError, SkippedFile

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})
SPLIT_FOLDERS = frozenset({"train", "test", "val", "validation", "valid"})
COLORS = ("auto", "grey", "rgb")
UNREADABLE_CHOICES = ("refuse", "skip")
#: unreadable files named in one error message; the rest are counted
LISTED = 5


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _is_split(folder: Path) -> bool:
    """True when every sub-folder is a split (train/, test/, val/...) rather than a class."""
    subdirs = _visible_dirs(folder)
    return bool(subdirs) and all(d.name.lower() in SPLIT_FOLDERS for d in subdirs)


def split_folder(folder: Path, split: str) -> Path:
    """``folder/<split>`` when the folder is split into train/test parts, else ``folder``."""
    if not folder.is_dir() or not _is_split(folder):
        return folder
    subdirs = _visible_dirs(folder)
    for d in subdirs:
        if d.name.lower() == split:
            return d
    raise DatasetError(folder / split, f"missing: the folder is split into {', '.join(d.name for d in subdirs)} "
                                       f"but has no {split} part",
                       f"Add a '{split}' sub-folder with one folder per class, or choose another split")


def has_class_folders(folder: Path) -> bool:
    """Whether ``folder`` looks like class sub-folders of images (for auto-detection)."""
    if not folder.is_dir():
        return False
    if _is_split(folder):
        folder = _visible_dirs(folder)[0]
    return any(any(p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS for p in d.iterdir())
               for d in _visible_dirs(folder))


def scan_class_folders(folder: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names and ``(image path, class index)`` for every image file, checked for layout."""
    if not folder.is_dir():
        raise DatasetError(folder, "folder not found", "Choose a folder that holds one sub-folder per class")
    class_dirs = _visible_dirs(folder)
    loose = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not class_dirs:
        found = f"{len(loose)} images directly in it" if loose else "no sub-folders"
        raise DatasetError(folder, f"has {found}; images must be sorted into one sub-folder per class",
                           "Make a sub-folder for each class (for example cats/ and dogs/) and move the images there")
    if len(class_dirs) == 1:
        raise DatasetError(folder, f"has only one class folder ({class_dirs[0].name}); a classifier needs at "
                                   "least two classes", "Add a sub-folder with the images of each other class")
    files: list[tuple[Path, int]] = []
    for index, class_dir in enumerate(class_dirs):
        images = _images_in(class_dir)
        if not images:
            raise DatasetError(class_dir, "class folder has no images (.png, .jpg, .bmp, .gif, .tif, .webp)",
                               "Add images of this class, or delete the folder if it is not a class")
        files += [(path, index) for path in images]
    return [d.name for d in class_dirs], files


def _upright(path: Path):
    """The image fully decoded and turned upright; Pillow's errors pass through to the caller."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image.load()
        return ImageOps.exif_transpose(image)


def _header(path: Path) -> tuple[tuple[int, int], str]:
    """``(size, mode)`` from the file's header, without decoding the pixels."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size, image.mode


def load_image_folder(folder: str | Path, split: str = "train", target_size: tuple[int, int] | None = None,
                      color: str = "auto", on_unreadable: str = "refuse", name: str | None = None) -> ArrayDataset:
    """Images from class sub-folders as an ``ArrayDataset``.

    ``target_size=(H, W)`` resizes every image; ``None`` uses the most common size among the
    images. ``color="grey"`` gives 1 channel, ``"rgb"`` 3, ``"auto"`` grey only when every image is
    stored grey. ``on_unreadable="refuse"`` raises a ``DatasetError`` listing the files Pillow cannot
    read; ``"skip"`` leaves them out and lists them on the result's ``skipped``.
    """
    from PIL import Image

    if color not in COLORS:
        raise ValueError(f"color must be one of {COLORS}, got {color!r}")
    if on_unreadable not in UNREADABLE_CHOICES:
        raise ValueError(f"on_unreadable must be one of {UNREADABLE_CHOICES}, got {on_unreadable!r}")
    root = Path(folder)
    if not root.is_dir():
        raise DatasetError(root, "folder not found", "Choose a folder that holds one sub-folder per class")
    folder = split_folder(root, split)
    classes, files = scan_class_folders(folder)
    failures = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)

    # pass 1, headers only: the common size and whether any image is in colour
    unreadable: dict[Path, str] = {}
    headers: dict[Path, tuple[tuple[int, int], str]] = {}
    width = height = 1  # replaced below whenever any image is readable
    for path, _ in files:
        try:
            headers[path] = _header(path)
        except failures as error:
            unreadable[path] = str(error) or type(error).__name__
    if target_size is None and headers:
        width, height = Counter(size for size, _ in headers.values()).most_common(1)[0][0]
    elif target_size is not None:
        height, width = (int(v) for v in target_size)
        if height < 1 or width < 1:
            raise ValueError(f"target_size must be positive (H, W), got {target_size}")
    if color == "auto":
        color = "grey" if all(mode in GREY_MODES for _, mode in headers.values()) else "rgb"
    mode, channels = ("L", 1) if color == "grey" else ("RGB", 3)

    # pass 2, one image decoded at a time so big photos never pile up in memory
    kept = [(path, label) for path, label in files if path not in unreadable]
    pixels = np.empty((len(kept), height, width, channels), dtype=np.uint8) if kept else None
    labels = np.empty(len(kept), dtype=np.int64)
    count = 0
    for path, label in kept:
        try:
            image = _upright(path).convert(mode)
        except failures as error:
            unreadable[path] = str(error) or type(error).__name__
            continue
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.BILINEAR)
        pixels[count] = np.asarray(image, dtype=np.uint8).reshape(height, width, channels)
        labels[count] = label
        count += 1

    skipped = [SkippedFile(str(path), unreadable[path]) for path, _ in files if path in unreadable]
    if skipped and on_unreadable == "refuse":
        shown = "; ".join(str(s) for s in skipped[:LISTED])
        more = f" and {len(skipped) - LISTED} more" if len(skipped) > LISTED else ""
        raise DatasetError(folder, f"{len(skipped)} unreadable image(s): {shown}{more}",
                           "Fix or delete these files, or choose to skip unreadable images")
    if count == 0:
        raise DatasetError(folder, "none of the images could be read", "Check that the files are real images")
    return ArrayDataset.from_uint8(pixels[:count].transpose(0, 3, 1, 2), labels[:count], classes,
                                   name or root.name, str(folder), skipped=skipped)
