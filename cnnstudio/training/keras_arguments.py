"""Keras's habits for ``Trainer``: what it may be made from, and what ``verbose`` shows.

``Trainer(project)`` or ``Trainer(network)``, and ``fit(..., verbose=1)`` showing a
``ProgbarLogger`` as Keras's ``model.fit`` shows its progress bar.
"""

from __future__ import annotations

from typing import Any

from cnnstudio.core.network import Network

from .callbacks.base import Callback
from .callbacks.progbar import ProgbarLogger
from .config import TrainConfig


def network_and_config(source: Any, config: TrainConfig | None) -> tuple[Network, TrainConfig]:
    """The network to train and its settings, from a ``Network`` or a ``Project``."""
    if isinstance(source, Network):
        return source, config if config is not None else TrainConfig()
    network = getattr(source, "network", None)
    if isinstance(network, Network):  # a Project: it brings its own training settings
        return network, config if config is not None else TrainConfig.from_project(getattr(source, "training", None))
    raise TypeError(f"Trainer trains a Network or a Project (cnnstudio.core.load_project(path)), "
                    f"not {type(source).__name__}")


def with_progbar(callbacks: list[Callback], verbose: int | str) -> list[Callback]:
    """``callbacks`` plus the progress bar Keras's ``verbose`` asks for, unless one is there."""
    if verbose == "auto":
        verbose = 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', not {verbose!r}")
    if verbose == 0 or any(isinstance(callback, ProgbarLogger) for callback in callbacks):
        return callbacks
    return [*callbacks, ProgbarLogger(interactive=None if verbose == 1 else False)]


def verbosity(callbacks: list[Callback]) -> int:
    """``params["verbose"]`` as Keras's callbacks see it: 1 when a progress bar is shown."""
    return int(any(isinstance(callback, ProgbarLogger) for callback in callbacks))


__all__ = ["network_and_config", "verbosity", "with_progbar"]
