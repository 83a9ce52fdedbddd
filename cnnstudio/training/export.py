"""Model export: a network and its trained weights as files other programs use.

One entry point, ``export_model(network, weights, fmt, output_path)``, behind
``python -m cnnstudio export`` and the app's Export menu, and one function per
format:

=================  =====================================================================
``torchscript``    ``torch.jit.load``-able file: the generated code's class, scripted
``onnx``           ONNX graph with a dynamic batch axis (input ``input``, output ``output``)
``state_dict``     ``torch.save(model.state_dict())``: for ``build_model`` or the generated code
``safetensors``    the same tensors in the safetensors format
``code``           the generated PyTorch module; with weights, ``<stem>.weights.pt`` beside it
``train-script``   a standalone training script (torch + numpy), DDP-ready; see ``train_script``
``keras``          a Keras 3 script; with weights, ``<stem>.weights.h5`` beside it (``interop.keras_export``)
=================  =====================================================================

``weights`` is a file path (read by ``load_weights``: never runs code from the
file), a state_dict, a module, or ``None`` for freshly initialised weights
(with an ``ExportNote``).  Weights are checked against the network first: a
mismatch raises ``WeightsError`` naming the first differing key and both shapes.
Every file is written atomically: an interrupted export leaves the old file.

Errors: ``BuildError`` (network problems), ``WeightsError``, an unknown format and
a missing output folder are ``ValueError``s the user can fix; ``ExportError`` is a
failure of an exporter itself.
"""

from __future__ import annotations

import ast
import hashlib
import linecache
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnstudio.core.atomic_file import write_atomic
from cnnstudio.core.network import Network

from .export_errors import ExportError, ExportNote
from .export_weights import (WeightsError, check_weights, load_checked, load_weights, plain_state_dict,
                             replace_with)

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["FORMATS", "FORMAT_SUFFIXES", "ExportError", "ExportNote", "WeightsError", "check_weights",
           "code_weights_path", "export_code", "export_model", "export_onnx", "export_safetensors",
           "export_state_dict", "export_torchscript", "export_train_script", "generated_model_class",
           "load_weights", "model_with_weights"]

#: format name -> the usual file suffix (for save dialogs and default names)
FORMAT_SUFFIXES = {"torchscript": ".pt", "onnx": ".onnx", "state_dict": ".pt", "safetensors": ".safetensors",
                   "code": ".py", "train-script": ".py", "keras": ".py"}
FORMATS = tuple(FORMAT_SUFFIXES)
_ALIASES = {"state-dict": "state_dict", "train_script": "train-script", "statedict": "state_dict",
            "script": "torchscript", "jit": "torchscript"}


def export_model(network: Network, weights: Any, fmt: str, output_path: str | os.PathLike[str], *,
                 class_name: str = "Net", title: str | None = None) -> Path:
    """Write ``network`` with ``weights`` as ``fmt`` (one of ``FORMATS``) to ``output_path``.

    Returns the path written.  ``class_name`` names the class in generated code
    (``code``, ``train-script``, ``torchscript``); ``title`` (the project's name)
    heads generated files.
    """
    key = _ALIASES.get(fmt.lower(), fmt.lower())
    if key not in FORMAT_SUFFIXES:
        raise ValueError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if key == "torchscript":
        return export_torchscript(network, weights, output_path, class_name=class_name, title=title)
    if key == "onnx":
        return export_onnx(network, weights, output_path)
    if key == "state_dict":
        return export_state_dict(network, weights, output_path)
    if key == "safetensors":
        return export_safetensors(network, weights, output_path, title=title)
    if key == "code":
        return export_code(network, weights, output_path, class_name=class_name, title=title)
    if key == "keras":
        from cnnstudio.interop.keras_export import export_keras
        return export_keras(network, weights, output_path, title=title)
    if weights is not None:
        warnings.warn("the training script does not embed weights; start it from them with "
                      "--init WEIGHTS_FILE", ExportNote, stacklevel=2)
    return export_train_script(network, output_path, class_name=class_name, title=title)


# ---------------------------------------------------------------------- models with weights

def model_with_weights(network: Network, weights: Any) -> "torch.nn.Module":
    """``build_model(network)`` holding ``weights`` (checked), in eval mode, on the CPU."""
    from cnnstudio.core.build import build_model

    model = build_model(network)
    _note_untrained(weights)
    return load_checked(model, weights).eval()


def generated_model_class(network: Network, class_name: str = "Net", title: str | None = None) -> type:
    """The class that ``core.codegen.generate_code`` writes, defined by running that
    source in a fresh namespace (nothing is imported from or written to disk).

    The source is registered with ``linecache`` under a name unique to it, so
    ``inspect.getsource`` and therefore ``torch.jit.script`` can read it back.
    """
    from cnnstudio.core.codegen import generate_code

    source = generate_code(network, class_name, title=title)
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]
    filename = f"<cnnstudio generated {class_name} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace: dict[str, Any] = {"__name__": f"cnnstudio_generated_{digest}"}
    exec(compile(source, filename, "exec"), namespace)  # our own generated code, never a user's file
    return namespace[class_name]


def _note_untrained(weights: Any) -> None:
    if weights is None:
        warnings.warn("no weights given: the file holds freshly initialised (untrained) weights",
                      ExportNote, stacklevel=3)


def _check_folder(output_path: str | os.PathLike[str]) -> None:
    target = Path(output_path)
    folder = target.resolve().parent if target.is_symlink() else target.parent
    if not folder.is_dir():
        raise ValueError(f"{target}: the folder {str(folder)!r} does not exist; create it first")
    if target.is_dir():
        raise ValueError(f"{target}: this is a folder; give a file name inside it")


# ---------------------------------------------------------------------- formats

def export_torchscript(network: Network, weights: Any, output_path: str | os.PathLike[str], *,
                       class_name: str = "Net", title: str | None = None) -> Path:
    """Script the generated code's class holding ``weights`` and ``torch.jit.save`` it.

    Scripting keeps ``forward`` and ``logits``.  Should scripting fail (a layer
    torch cannot script), the model is traced on an example batch instead and an
    ``ExportNote`` says so: a traced file computes ``forward`` only.  The saved
    module is in eval mode.
    """
    import torch

    _check_folder(output_path)
    _note_untrained(weights)
    model = load_checked(generated_model_class(network, class_name, title)(), weights).eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated in recent torch
            compiled = torch.jit.script(model)
    except Exception as error:
        first = (str(error).strip() or type(error).__name__).splitlines()[0]
        warnings.warn(f"TorchScript scripting failed ({first}); the model was traced instead, so the file "
                      "computes forward() only", ExportNote, stacklevel=2)
        example = torch.randn(2, *model.input_shape, generator=torch.Generator().manual_seed(0))
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                compiled = torch.jit.trace(model, example)
        except Exception as trace_error:
            raise ExportError(f"TorchScript export failed: scripting said {first}; tracing said "
                              f"{trace_error}") from trace_error
    def save(temp: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.save(compiled, temp)

    return replace_with(output_path, save)


def export_onnx(network: Network, weights: Any, output_path: str | os.PathLike[str], *,
                opset_version: int | None = None) -> Path:
    """The built model holding ``weights`` as ONNX with a dynamic batch axis (see ``export_onnx``)."""
    from .export_onnx import write_onnx

    _check_folder(output_path)
    model = model_with_weights(network, weights)
    return write_onnx(model, tuple(model.input_shape), output_path, opset_version=opset_version)


def export_state_dict(network: Network, weights: Any, output_path: str | os.PathLike[str]) -> Path:
    """``torch.save`` of the checked state_dict: loads into ``build_model(network)`` and into
    the generated code with ``load_state_dict(torch.load(path, weights_only=True))``."""
    import torch

    _check_folder(output_path)
    state = plain_state_dict(model_with_weights(network, weights))
    return replace_with(output_path, lambda temp: torch.save(state, temp))


def export_safetensors(network: Network, weights: Any, output_path: str | os.PathLike[str], *,
                       title: str | None = None) -> Path:
    """The checked state_dict as safetensors (``safetensors.torch.load_file`` reads it back)."""
    from safetensors.torch import save

    _check_folder(output_path)
    state = plain_state_dict(model_with_weights(network, weights))
    metadata = {"format": "pt", "producer": "CNN Studio"}
    if title:
        metadata["title"] = title
    write_atomic(output_path, save(state, metadata=metadata))
    return Path(output_path)


def export_code(network: Network, weights: Any, output_path: str | os.PathLike[str], *,
                class_name: str = "Net", title: str | None = None) -> Path:
    """The generated module; with ``weights``, also ``<stem>.weights.pt`` beside it (a state_dict,
    see ``code_weights_path``; an existing file of that name is replaced).

    The weights file is a plain ``torch.save`` state_dict so the pair needs only
    torch; a comment at the end of the module says how to load it.  Returns the
    module's path.
    """
    import torch

    from cnnstudio.core.codegen import generate_code

    _check_folder(output_path)
    source = generate_code(network, class_name, title=title)
    target = Path(output_path)
    if weights is not None:
        state = plain_state_dict(model_with_weights(network, weights))
        weights_path = code_weights_path(target)
        source += _loading_note(class_name, weights_path.name)
        replace_with(weights_path, lambda temp: torch.save(state, temp))
    write_atomic(target, source)
    return target


def code_weights_path(code_path: str | os.PathLike[str]) -> Path:
    """Where ``export_code`` puts the weights for the module at ``code_path``:
    ``net.py`` -> ``net.weights.pt`` (a name no other export picks by default)."""
    path = Path(code_path)
    return path.with_name(f"{path.stem}.weights.pt")


def _loading_note(class_name: str, weights_name: str) -> str:
    return (f"\n\n# Trained weights: {weights_name}, beside this file (a state_dict). Load them with\n"
            f"#     model = {class_name}()\n"
            f'#     model.load_state_dict(torch.load("{weights_name}", weights_only=True))\n'
            f"#     model.eval()\n")


def export_train_script(network: Network, output_path: str | os.PathLike[str], *, class_name: str = "Net",
                        title: str | None = None, dataset_hint: str = "mnist") -> Path:
    """A standalone training script for ``network`` (see ``train_script.generate_train_script``)."""
    from .train_script import generate_train_script

    _check_folder(output_path)
    source = generate_train_script(network, class_name=class_name, dataset_hint=dataset_hint, title=title)
    ast.parse(source)  # a script that does not even parse must never reach the disk
    write_atomic(output_path, source)
    return Path(output_path)

