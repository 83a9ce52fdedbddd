"""A run's full state, for ``BackupAndRestore``: what ``Trainer.training_state()`` returns.

Carrying on "exactly" needs more than weights: the optimizer's moments, where
the run is (epoch, batches done, this epoch's shuffled order and partial loss
sums), the trainer's shuffling generator, the global generators that dropout
and user code draw from, and the callbacks' own counters (``state_dict``).
Everything is tensors, numbers, strings and containers, so a backup file
loads with ``torch.load(weights_only=True)``.

These functions are the trainer's own, kept here so the loop stays readable;
they read its private position fields.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .errors import TrainingError
from .metrics import Totals
from .runtime import global_rng_state, set_global_rng_state, to_cpu

if TYPE_CHECKING:  # pragma: no cover
    from .callbacks.base import CallbackList
    from .trainer import Trainer

STATE_FORMAT = "cnnstudio-training-state"
STATE_VERSION = 1
AFRESH = "delete the backup folder to start afresh"


def capture(trainer: "Trainer") -> dict[str, Any]:
    mid_epoch = trainer._step > 0 and trainer._totals is not None
    return {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "network": json.dumps(trainer.network.to_dict(), sort_keys=True),
        "model": to_cpu(trainer.model.state_dict()),
        "optimizer": to_cpu(trainer.optimizer.state_dict()),
        "scaler": trainer.scaler.state_dict() if trainer.scaler is not None else None,
        "epoch": trainer._epoch,
        "step": trainer._step if mid_epoch else 0,
        "order": trainer._order.cpu() if mid_epoch and trainer._order is not None else None,
        "totals": trainer._totals.state_dict() if mid_epoch else None,
        "samples": trainer._samples,
        "batch_size": trainer.config.batch_size,
        "rng": {"generator": trainer._generator.get_state(), **global_rng_state()},
        "callbacks": trainer._list.state_dict() if trainer._list is not None else {},
    }


def check(trainer: "Trainer", state: Any) -> None:
    """Refuse a state that is not a backup, is too new, or belongs to another network."""
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise TrainingError("this is not a CNN Studio training backup")
    if state.get("version", 0) > STATE_VERSION:
        raise TrainingError(f"the backup was written by a newer CNN Studio (state version {state['version']})")
    current, saved = trainer.model.state_dict(), state["model"]
    for key, tensor in current.items():
        if key not in saved or tuple(saved[key].shape) != tuple(tensor.shape):
            found = "missing" if key not in saved else f"shape {tuple(saved[key].shape)}"
            raise TrainingError(f"the backup was made for a different network ({key}: {found} in the backup, "
                                f"shape {tuple(tensor.shape)} now); {AFRESH}")
    if set(saved) != set(current):
        raise TrainingError(f"the backup was made for a different network (its layers differ); {AFRESH}")


def apply(trainer: "Trainer", state: dict[str, Any], callbacks: "CallbackList") -> tuple[int, int]:
    """Put ``state`` into the trainer and callbacks; returns ``(first epoch, first batch)``."""
    step = int(state["step"])
    if step and (state["samples"] != trainer._samples or state["batch_size"] != trainer.config.batch_size):
        raise TrainingError(f"the backup stopped inside an epoch of {state['samples']} samples in batches of "
                            f"{state['batch_size']}; this run has {trainer._samples} in batches of "
                            f"{trainer.config.batch_size}, so it cannot carry on; {AFRESH}")
    trainer.model.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    if trainer.scaler is not None and state.get("scaler"):
        trainer.scaler.load_state_dict(state["scaler"])
    trainer._generator.set_state(state["rng"]["generator"])
    set_global_rng_state(state["rng"])
    callbacks.load_state_dict(state.get("callbacks", {}))
    if step:
        trainer._order = state["order"]
        trainer._totals = Totals(trainer.device)
        trainer._totals.load_state_dict(state["totals"])
    return int(state["epoch"]), step
