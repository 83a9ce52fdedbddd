"""The one import path every source format shares.

An importer turns a model file (or an object) into an ``ImportedModel``: a
CNN Studio network laid out for the canvas, the weights in the builder's
``state_dict`` layout, and a report of what was imported.  Anything it cannot
map raises ``UnsupportedModelError`` naming the node, its op, where it sits and
what the catalog would need; a partial import is never returned.

``save_imported`` writes the network as a project and keeps the weights in a run
folder beside it (``run_folder.store_weights_run``), so the studio shows the
imported model's feature maps, fine-tunes it and exports it like a trained run.

Importers register by file suffix in ``IMPORTERS``; ``import_model(path)`` picks one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cnnstudio.core.network import Network
from cnnstudio.core.project import Project, dumps, save_project


class ModelImportError(ValueError):
    """A model that cannot be imported; ``str()`` is one line for the CLI or a dialog."""


class InputShapeNeeded(ModelImportError):
    """The model leaves its input size open: ask for ``input_shape`` (C, H, W) and try again."""


class UnsupportedModelError(ModelImportError):
    """A node the catalog cannot express.  ``node`` is its name in the source model,
    ``op`` its operator or layer type, ``where`` its place (inputs, position), and
    ``need`` what CNN Studio would need to import it."""

    def __init__(self, node: str, op: str, where: str, need: str) -> None:
        self.node, self.op, self.where, self.need = node, op, where, need
        super().__init__(f"cannot import node {node!r} ({op}) {where}: {need}")

    def __reduce__(self):
        return type(self), (self.node, self.op, self.where, self.need)


@dataclass
class ImportedModel:
    """A model brought in from ``source`` (a path or a description) in ``format``."""

    network: Network
    state_dict: dict[str, Any]              # torch tensors, keyed as build_model(network).state_dict()
    source: str
    format: str                             # "onnx", "pytorch", "keras"
    name: str = ""
    classes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # what was approximated or folded, in plain words

    def report(self) -> str:
        """What was imported, for the CLI and the studio's report dialog."""
        from cnnstudio.core.analysis import analyze

        analysis = analyze(self.network)
        counts: dict[str, int] = {}
        for node in self.network.nodes:
            counts[node.type] = counts.get(node.type, 0) + 1
        layers = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items(), key=lambda item: -item[1]))
        lines = [f"Imported {self.source} ({self.format}): {len(self.network)} layers ({layers}), "
                 f"{analysis.total_params:,} parameters, {len(self.state_dict)} weight tensors."]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``"3,32,32"`` (or ``3x32x32``) -> ``(3, 32, 32)``: one sample's shape, without the batch axis."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise ModelImportError(f"expected sizes such as 1,28,28 (C,H,W), got {text!r}") from None
    if not 1 <= len(shape) <= 3 or any(size < 1 for size in shape):
        raise ModelImportError(f"expected 1 to 3 positive sizes such as 1,28,28 (C,H,W), got {text!r}")
    return shape


#: file suffix -> importer(path, **options) -> ImportedModel
IMPORTERS: dict[str, Callable[..., ImportedModel]] = {}


def register_importer(suffix: str, importer: Callable[..., ImportedModel]) -> None:
    IMPORTERS[suffix.lower()] = importer


def import_model(path: str | os.PathLike[str], **options: Any) -> ImportedModel:
    """Import the model file at ``path`` with the importer for its suffix."""
    _load_builtin_importers()
    source = Path(path)
    importer = IMPORTERS.get(source.suffix.lower())
    if importer is None:
        known = ", ".join(sorted(IMPORTERS)) or "none yet"
        raise ModelImportError(f"{source}: cannot import {source.suffix or 'a file without a suffix'} files "
                               f"(known: {known})")
    if not source.is_file():
        raise ModelImportError(f"{source}: no such file")
    return importer(source, **options)


def importer_suffixes() -> list[str]:
    """The file suffixes some importer reads (``.onnx``, ``.py``...), for file dialogs."""
    _load_builtin_importers()
    return sorted(IMPORTERS)


def _load_builtin_importers() -> None:
    """Importer modules register themselves when imported; each is optional here so
    a missing one only removes its suffix."""
    import importlib

    for module in ("onnx_import", "torch_import", "keras_import"):
        try:
            importlib.import_module(f"{__package__}.{module}")
        except ModuleNotFoundError as error:
            if error.name != f"{__package__}.{module}":
                raise


def save_imported(imported: ImportedModel, project_path: str | os.PathLike[str], *, force: bool = False):
    """Write the imported network as a project at ``project_path`` and keep its weights in a
    run beside it; returns ``(project path, run record)``.  An existing project is replaced
    only with ``force``; when either cannot be written, neither is left behind."""
    import shutil

    from cnnstudio.core.project import ProjectError
    from cnnstudio.training.run_folder import RunFolderError, runs_dir, store_weights_run

    target = Path(project_path)
    if target.exists() and not force:
        raise ModelImportError(f"{target} already exists; choose another name or replace it (--force)")
    if not target.parent.is_dir():
        raise ModelImportError(f"cannot write {target}: the folder {target.parent} does not exist")
    project = Project(imported.network, name=imported.name or Path(imported.source).stem,
                      description=f"Imported from {Path(imported.source).name} ({imported.format}).")
    if imported.classes:
        project.dataset = {"num_classes": len(imported.classes)}
    runs = runs_dir(target)
    had_runs = runs.exists()
    run = None
    try:
        # the weights first: a project is only written once its weights are safe beside it
        run = store_weights_run(runs, dumps(project), imported.state_dict,
                                label=f"imported from {Path(imported.source).name}", source=str(imported.source),
                                classes=imported.classes)
        save_project(project, target)
    except (OSError, ProjectError, RunFolderError) as error:
        if run is not None:
            shutil.rmtree(run.folder, ignore_errors=True)
        if not had_runs:
            shutil.rmtree(runs, ignore_errors=True)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise ModelImportError(f"cannot write {target}: {reason}") from None
    return target, run


__all__ = ["IMPORTERS", "ImportedModel", "InputShapeNeeded", "ModelImportError", "UnsupportedModelError",
           "import_model", "importer_suffixes", "parse_input_shape", "register_importer", "save_imported"]
