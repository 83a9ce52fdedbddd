"""Reading a Keras 3 ``.keras`` file as data: a zip archive with ``config.json`` (the model's
architecture), ``metadata.json`` and ``model.weights.h5`` (the weights, HDF5).

Only ``zipfile``, ``json`` and ``h5py`` touch the file: no Keras, no TensorFlow, and nothing
in it is ever run.  Every problem is a ``ModelImportError`` naming the file and what is wrong.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model_import import ModelImportError

CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
#: an architecture is kilobytes; anything this large is not one
MAX_CONFIG_BYTES = 64 * 1024 * 1024


@dataclass
class KerasArchive:
    """The parts of a ``.keras`` file: its config, its metadata and its weights file (open)."""

    path: Path
    config: dict[str, Any]
    metadata: dict[str, Any]
    weights: Any  # an open h5py.File

    def variables(self, group_path: str) -> list:
        """The NumPy arrays stored for one layer (``layers/conv2d``), in Keras's order."""
        import numpy as np

        if group_path not in self.weights or "vars" not in self.weights[group_path]:
            return []
        group = self.weights[group_path]["vars"]
        try:
            keys = sorted(group.keys(), key=int)
            return [np.asarray(group[key][()]) for key in keys]
        except (ValueError, TypeError, OSError) as error:
            raise ModelImportError(f"{self.path}: the weights of {group_path} cannot be read ({error})") from None

    def close(self) -> None:
        self.weights.close()


def read_keras_archive(path: str | Path) -> KerasArchive:
    """Open ``path`` as a Keras 3 model file; ``ModelImportError`` says why it is not one."""
    source = Path(path)
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            for needed in (CONFIG_FILE, WEIGHTS_FILE):
                if needed not in names:
                    raise ModelImportError(f"{source}: not a Keras 3 model file: it has no {needed} "
                                           "(save the model with model.save('name.keras'))")
            config = _json(archive, CONFIG_FILE, source)
            metadata = _json(archive, METADATA_FILE, source) if METADATA_FILE in names else {}
            weights_bytes = archive.read(WEIGHTS_FILE)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise ModelImportError(f"{source}: not a Keras 3 model file: the zip archive is damaged or it is "
                               f"not a zip archive ({error})") from None
    except OSError as error:
        raise ModelImportError(f"{source}: cannot read it ({error.strerror or error})") from None
    if not isinstance(config, dict):
        raise ModelImportError(f"{source}: {CONFIG_FILE} does not describe a model (it holds a "
                               f"{type(config).__name__})")
    try:
        import h5py
    except ImportError:
        raise ModelImportError("reading Keras weights needs the h5py package: pip install h5py") from None
    try:
        weights = h5py.File(io.BytesIO(weights_bytes), "r")
    except OSError as error:
        raise ModelImportError(f"{source}: its {WEIGHTS_FILE} is not a readable HDF5 file ({error})") from None
    return KerasArchive(source, config, metadata if isinstance(metadata, dict) else {}, weights)


def _json(archive: zipfile.ZipFile, name: str, source: Path) -> Any:
    if archive.getinfo(name).file_size > MAX_CONFIG_BYTES:
        raise ModelImportError(f"{source}: its {name} is too large to be a model description")
    try:
        return json.loads(archive.read(name).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelImportError(f"{source}: its {name} is not valid JSON ({error})") from None
