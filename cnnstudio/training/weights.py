"""Training's files: weights, whole models (network + weights) and backups.

* weights: the state_dict alone, as ``torch.save`` (``.pt``) or safetensors
  (``.safetensors``), by the file's suffix;
* a whole model: the network document as JSON beside the state_dict, so the
  file rebuilds the model with no project at hand (``load_model``).  As
  ``.pt`` it is ``{"format": "cnnstudio-model", "network": <json>,
  "state_dict": {...}}``; as ``.safetensors`` the JSON sits in the metadata.

Reading never runs code from a file (``weights_only=True`` or safetensors);
writing replaces a file only once the new one is complete.  Plain weight files
are read by ``export_weights.load_weights``, the one reader the export side uses
too; it also unwraps a whole-model file's ``state_dict``.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import torch

from cnnstudio.core.atomic_file import write_atomic
from cnnstudio.core.build import build_model
from cnnstudio.core.network import Network

from .errors import TrainingError
from .export_weights import WeightsError, check_weights, load_weights, plain_state_dict

MODEL_FORMAT = "cnnstudio-model"
MODEL_VERSION = 1

__all__ = ["MODEL_FORMAT", "load_model", "load_weights", "save_model", "save_state", "save_weights"]


def _safetensors(path: Path) -> bool:
    return path.suffix.lower() == ".safetensors"


def save_weights(model: torch.nn.Module, path: str | os.PathLike[str]) -> Path:
    """The model's state_dict, as safetensors for a ``.safetensors`` name, else ``torch.save``."""
    target = Path(path)
    state = plain_state_dict(model)
    if _safetensors(target):
        from safetensors.torch import save
        write_atomic(target, save(state, metadata={"format": "pt", "producer": "CNN Studio"}))
    else:
        save_state(state, target)
    return target


def save_model(model: torch.nn.Module, network: Network, path: str | os.PathLike[str]) -> Path:
    """The network document and the model's weights in one file (see the module docstring)."""
    target = Path(path)
    state = plain_state_dict(model)
    document = json.dumps(network.to_dict(), sort_keys=True)
    if _safetensors(target):
        from safetensors.torch import save
        metadata = {"format": "pt", "producer": "CNN Studio", "cnnstudio": MODEL_FORMAT, "network": document}
        write_atomic(target, save(state, metadata=metadata))
    else:
        save_state({"format": MODEL_FORMAT, "version": MODEL_VERSION, "network": document, "state_dict": state},
                   target)
    return target


def load_model(path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
               ) -> tuple[Network, torch.nn.Module]:
    """``(network, model)`` from a file written by ``save_model``; the model is in eval mode."""
    source = Path(path)
    document = _network_json(source)
    try:
        network = Network.from_dict(json.loads(document))
    except (ValueError, KeyError, TypeError) as error:
        raise TrainingError(f"{source}: the network stored in the file is not valid ({error})") from None
    model = build_model(network)
    state = load_weights(source)
    try:
        check_weights(model.state_dict(), state, str(source))
    except WeightsError as error:
        raise TrainingError(str(error)) from None
    model.load_state_dict(state)
    return network, model.to(map_location).eval()


def _network_json(source: Path) -> str:
    if _safetensors(source):
        from safetensors import safe_open
        try:
            with safe_open(str(source), framework="pt") as handle:
                metadata = handle.metadata() or {}
        except Exception as error:  # safetensors raises its own error types
            raise TrainingError(f"{source}: not a readable safetensors file ({error})") from None
        document = metadata.get("network")
    else:
        try:
            loaded: Any = torch.load(source, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise TrainingError(f"{source}: no such file") from None
        except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError... by format
            raise TrainingError(f"{source}: not a model file that can be loaded safely ({error})") from None
        document = loaded.get("network") if isinstance(loaded, dict) and loaded.get("format") == MODEL_FORMAT else None
    if not isinstance(document, str):
        raise TrainingError(f"{source}: holds weights only, without the network; open it with the project's "
                            "network instead (load_weights)")
    return document


def save_state(state: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save(state)`` written atomically (serialised in memory, then one rename)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomic(path, buffer.getvalue())
    return Path(path)
