"""ONNX files onto the canvas: ``import_onnx(path)`` -> ``ImportedModel``.

Reading never runs code from the file: the ``onnx`` package parses it, the
walker (``onnx_graph``) folds constants and shape bookkeeping, and the handlers
(``onnx_ops``) map each remaining operator to catalog layers.  Registered for
``.onnx`` in the shared importer registry.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from .model_import import ImportedModel, ModelImportError, register_importer

#: options of other importers, by the CLI flag that gives them
FOREIGN_OPTIONS = {"class_name": "--class", "class_args": "--class-args", "weights": "--weights"}


def import_onnx(path: str | os.PathLike[str], *, input_shape: Sequence[int] | None = None,
                **others: Any) -> ImportedModel:
    """The network and weights of the ONNX file at ``path``; ``input_shape`` (C, H, W) is
    needed only when the file leaves the input size open."""
    from .onnx_graph import OnnxWalker, load_onnx
    from .onnx_ops import HANDLERS

    source = Path(path)
    given = [FOREIGN_OPTIONS.get(key, key) for key, value in others.items() if value is not None]
    if given:
        raise ModelImportError(f"{source.name}: {', '.join(given)} apply to PyTorch .py files, not ONNX files")
    model = load_onnx(source)
    walker = OnnxWalker(model, source.name, input_shape, HANDLERS)
    network, state_dict = walker.run()
    return ImportedModel(network, state_dict, str(source), "onnx", name=source.stem, notes=walker.assembler.notes)


register_importer(".onnx", import_onnx)

__all__ = ["import_onnx"]
