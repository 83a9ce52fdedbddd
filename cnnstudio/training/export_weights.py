"""Weights in and out of files, safely: the part of model export that touches tensors on disk.

Reading never runs code from a file: PyTorch files go through
``torch.load(..., weights_only=True)`` and safetensors files through the
``safetensors`` reader, which holds nothing but tensors.  Weights are checked
against the network before they are used, and a mismatch is refused with the
first key that differs and both shapes, rather than torch's list of every
problem (or, worse, a silent partial load).

Writing goes through a temporary file beside the target that is renamed over it
only once complete, so an interrupted export never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: what a checkpoint may wrap its state_dict in (our train script saves a plain one)
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")
#: prefixes that wrappers add to every key: DistributedDataParallel, torch.compile
WRAPPER_PREFIXES = ("module.", "_orig_mod.")


class WeightsError(ValueError):
    """Weights that cannot be read, or that do not fit the network.

    For a mismatch, ``key`` names the first differing entry and ``file_shape`` /
    ``network_shape`` give its shape on each side (``None`` where it is missing).
    """

    def __init__(self, message: str, key: str | None = None, file_shape: tuple[int, ...] | None = None,
                 network_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.file_shape = file_shape
        self.network_shape = network_shape


# ---------------------------------------------------------------------- reading

def load_weights(path: str | os.PathLike[str]) -> dict[str, "torch.Tensor"]:
    """The state_dict stored in ``path``, a ``torch.save`` file or a ``.safetensors`` file.

    The format is read from the file's first bytes, not its name.  A checkpoint
    that wraps the state_dict (``{"state_dict": ...}``) or keys prefixed by a
    ``DistributedDataParallel`` or ``torch.compile`` wrapper are unwrapped.
    Raises ``WeightsError`` for a missing or unreadable file, or one holding
    anything but tensors.
    """
    import torch

    file = Path(path)
    try:
        with open(file, "rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise WeightsError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise WeightsError(f"{file}: this is a folder, not a weights file") from None
    except OSError as error:
        raise WeightsError(f"{file}: cannot read it ({error.strerror or error})") from None

    if _looks_like_safetensors(head):
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            loaded: Any = load_file(file, device="cpu")
        except (SafetensorError, OSError, ValueError) as error:
            raise WeightsError(f"{file}: not a readable safetensors file ({error})") from None
    else:
        try:
            loaded = torch.load(file, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError... by format
            raise WeightsError(f"{file}: not a PyTorch weights file that can be loaded safely "
                               f"(only tensors are read, never code): {_first_line(error)}") from None
    return _state_dict_from(loaded, str(file))


def _looks_like_safetensors(head: bytes) -> bool:
    """safetensors: an 8-byte little-endian header length, then the JSON header."""
    return len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") > 1


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _state_dict_from(loaded: Any, source: str) -> dict[str, "torch.Tensor"]:
    import torch

    if isinstance(loaded, Mapping) and not _all_tensors(loaded):
        for key in WRAPPER_KEYS:
            inner = loaded.get(key)
            if isinstance(inner, Mapping) and inner and _all_tensors(inner):
                loaded = inner
                break
    if not isinstance(loaded, Mapping):
        raise WeightsError(f"{source}: holds a {type(loaded).__name__}, not a state_dict "
                           "(a dict of parameter names to tensors)")
    state = dict(loaded)
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise WeightsError(f"{source}: the entry {key!r} is a {type(value).__name__}, not a tensor; "
                               "expected a state_dict (parameter names to tensors)")
    for prefix in WRAPPER_PREFIXES:
        if state and all(key.startswith(prefix) for key in state):
            state = {key[len(prefix):]: value for key, value in state.items()}
    return state


def _all_tensors(mapping: Mapping) -> bool:
    import torch

    return all(isinstance(value, torch.Tensor) for value in mapping.values())


def resolve_weights(weights: Any) -> tuple[dict[str, "torch.Tensor"] | None, str]:
    """``(state_dict or None, where it came from)`` for a path, a mapping, a module or None."""
    import torch

    if weights is None:
        return None, ""
    if isinstance(weights, torch.nn.Module):
        return _state_dict_from(weights.state_dict(), "the model"), "the model"
    if isinstance(weights, Mapping):
        return _state_dict_from(weights, "the given weights"), "the given weights"
    if isinstance(weights, (str, os.PathLike)):
        return load_weights(weights), str(weights)
    raise TypeError(f"weights must be a file path, a state_dict or None, not {type(weights).__name__}")


# ---------------------------------------------------------------------- checking

def check_weights(expected: Mapping[str, "torch.Tensor"], given: Mapping[str, "torch.Tensor"],
                  source: str = "the weights") -> None:
    """Refuse ``given`` unless it has exactly the keys and shapes of ``expected``.

    ``expected`` is the network's own ``state_dict()``.  The error names the first
    problem in the network's key order: a shape that differs, a key the file lacks,
    then a key the network lacks.
    """
    for key, tensor in expected.items():
        network_shape = tuple(tensor.shape)
        if key not in given:
            raise WeightsError(f"{source} do not fit this network: {key} (shape {_shape(network_shape)} "
                               "in the network) is missing from the weights", key, None, network_shape)
        file_shape = tuple(given[key].shape)
        if file_shape != network_shape:
            raise WeightsError(f"{source} do not fit this network: {key} has shape {_shape(file_shape)} "
                               f"in the weights but {_shape(network_shape)} in the network",
                               key, file_shape, network_shape)
    for key, tensor in given.items():
        if key not in expected:
            file_shape = tuple(tensor.shape)
            raise WeightsError(f"{source} do not fit this network: the weights have {key} "
                               f"(shape {_shape(file_shape)}), which the network does not",
                               key, file_shape, None)


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(d) for d in shape))  # (32, 1, 3, 3), (10,), ()


def load_checked(model: "torch.nn.Module", weights: Any) -> "torch.nn.Module":
    """Put ``weights`` (path, state_dict, module or None) into ``model`` after ``check_weights``.

    ``None`` leaves the model's fresh initialisation.  Returns ``model``.
    """
    state, source = resolve_weights(weights)
    if state is not None:
        check_weights(model.state_dict(), state, source)
        model.load_state_dict(state, strict=True)
    return model


def plain_state_dict(model: "torch.nn.Module") -> dict[str, "torch.Tensor"]:
    """The model's state_dict as independent, contiguous CPU tensors (what files want)."""
    return {key: value.detach().to("cpu").contiguous().clone() for key, value in model.state_dict().items()}


# ---------------------------------------------------------------------- writing

def replace_with(target: str | os.PathLike[str], write: Callable[[str], None]) -> Path:
    """Call ``write(temp_path)`` on a temporary file beside ``target``, fsync it, then
    rename it over ``target``; on any failure the temporary file is removed and an
    existing ``target`` is untouched.  For writers that want a path (``torch.save``,
    ``torch.jit.save``); plain text and bytes go through ``core.atomic_file``."""
    path = Path(target)
    if path.is_symlink():
        path = path.resolve()
    mode = (path.stat().st_mode & 0o777) if path.exists() else 0o644
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temp)
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
