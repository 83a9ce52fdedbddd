"""Training, metrics, feature-map probes and model export. No Qt here: the UI wraps these.

The main names load on first use, so ``import cnnstudio.training`` (or its
``config``) does not load torch::

    from cnnstudio.training import Trainer, TrainConfig, export_model
    from cnnstudio.training.callbacks import EarlyStopping, ModelCheckpoint

The public Python API (these, ``cnnstudio.core`` and ``cnnstudio.data``) is described
in ``docs/python-api.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "TrainConfig": "config",
    "TrainingError": "errors",
    "Trainer": "trainer",
    "History": "callbacks.base",
    "TrainingSession": "session",
    "plan_run": "session",
    "export_model": "export",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_LAZY)
