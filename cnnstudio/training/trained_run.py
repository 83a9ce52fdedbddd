"""A finished (or stopped, or imported) run brought back to life from its folder:
the network it trained, the model with its final weights, and the validation
samples with their predictions, for feature maps, results, drawing, the Lab and
export.  Everything comes from the run folder, so runs from the CLI and from the
studio open the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnstudio.core.network import Network

from . import run_folder as runs


@dataclass
class TrainedRun:
    record: runs.RunRecord
    network: Network
    model: Any                              # core.build.BuiltNetwork in eval mode
    x: np.ndarray | None = None             # float32 (N, C, H, W) in [0, 1]: the kept samples
    y: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    classes: list[str] = field(default_factory=list)
    split: str = ""                         # which samples: validation or training

    @property
    def has_predictions(self) -> bool:
        return self.x is not None and self.probabilities is not None and len(self.x) > 0


def load_trained_run(record: runs.RunRecord) -> TrainedRun:
    """The run's network (from its project copy), model and kept predictions.
    ``RunFolderError`` names what is missing or damaged."""
    from cnnstudio.core.build import build_model
    from cnnstudio.core.project import ProjectError, load_project

    try:
        network = load_project(record.project_file).network
    except ProjectError as error:
        raise runs.RunFolderError(f"{record.folder}: its project copy cannot be read ({error})") from None
    state = runs.load_run_weights(record)
    model = build_model(network)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise runs.RunFolderError(f"{record.weights}: the weights do not fit the run's network "
                                  f"({str(error).splitlines()[0]})") from None
    trained = TrainedRun(record, network, model.eval(), classes=list(record.classes))
    if record.predictions.is_file():
        try:
            with np.load(record.predictions) as kept:
                trained.x = kept["x"].astype(np.float32) / 255.0
                trained.y = kept["y"].astype(np.int64)
                trained.probabilities = kept["probabilities"].astype(np.float32)
                trained.classes = [str(name) for name in kept["classes"]] or trained.classes
                trained.split = str(kept["split"])
        except (OSError, KeyError, ValueError) as error:
            raise runs.RunFolderError(f"{record.predictions}: cannot be read ({error})") from None
    return trained


def class_probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    """``(N, classes)`` probabilities for ``x``: the model's softmax output, or the softmax
    of its scores when the network ends without one."""
    import torch

    with torch.no_grad():
        scores = model.logits(torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32)))
        return torch.softmax(scores.float(), dim=1).numpy()


__all__ = ["TrainedRun", "class_probabilities", "load_trained_run"]
