"""A tiny network and data it can learn, so training tests take milliseconds.

Input [1, 8, 8] -> Conv2D 4 3x3 relu -> Flatten -> Dropout -> Dense 3 softmax, and
images whose class is written as a bright band of rows (class 0: rows 0-1,
class 1: rows 3-4, class 2: rows 6-7) on noise.  The dropout makes the global
random generator matter, so seeding and backups are tested for real.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.network import Network, sequential
from cnnstudio.training.callbacks import Callback, LambdaCallback
from cnnstudio.training.config import TrainConfig
from cnnstudio.training.trainer import Trainer

CLASSES = 3


def tiny_network(dropout: float = 0.1) -> Network:
    layers = [("Input", {"shape": [1, 8, 8]}),
              ("Conv2D", {"filters": 4, "kernel_size": [3, 3], "activation": "relu"}),
              ("Flatten", {})]
    if dropout:
        layers.append(("Dropout", {"rate": dropout}))
    layers.append(("Dense", {"units": CLASSES, "activation": "softmax"}))
    return sequential(layers)


def band_data(count: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, count).astype(np.int64)
    x = rng.random((count, 1, 8, 8), dtype=np.float32) * 0.5
    for label in range(CLASSES):
        x[y == label, 0, 3 * label:3 * label + 2, :] += 0.5
    return x, y


def trainer(callbacks: list[Callback] | None = None, network: Network | None = None, **settings) -> Trainer:
    """A seeded trainer for the tiny network; ``settings`` override the config."""
    options = {"seed": 7, "epochs": 3, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01}
    options.update(settings)
    return Trainer(network if network is not None else tiny_network(), TrainConfig(**options), callbacks)


def scripted(name: str, values: list[float]) -> LambdaCallback:
    """Put ``values[epoch]`` into the epoch logs as ``name`` (a fake metric to monitor).

    Place it before the callback under test: hooks run in list order."""
    def write(epoch: int, logs: dict) -> None:
        logs[name] = values[epoch]
    return LambdaCallback(on_epoch_end=write)


def weights_of(model) -> dict:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(bool((a[key] == b[key]).all()) for key in a)
