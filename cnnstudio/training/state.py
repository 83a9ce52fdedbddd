"""A run's full state, for ``BackupAndRestore``: what ``Trainer.training_state()`` returns.

Carrying on "exactly" needs more than weights: the optimizer's moments, where
the run is (epoch, batches done, this epoch's shuffled order and partial loss
sums), the trainer's shuffling generator, the global generators that dropout
and user code draw from, and the callbacks' own counters (``state_dict``).
Everything is tensors, numbers, strings and containers, so a backup file
loads with ``torch.load(weights_only=True)``.

The position is a small dataclass, ``RunPosition``, that the trainer updates
between batches; ``capture`` and ``apply`` read and write it (and the trainer's
generator and callback list), so the loop in ``trainer.py`` stays readable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import TrainingError
from .metrics import Totals
from .runtime import global_rng_state, set_global_rng_state, to_cpu

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .callbacks.base import CallbackList
    from .trainer import Trainer

STATE_FORMAT = "cnnstudio-training-state"
STATE_VERSION = 1
AFRESH = "delete the backup folder to start afresh"


@dataclass
class RunPosition:
    """Where a run is between two batches: the epoch in progress (or the next one),
    the batches of it done, its shuffled order and partial sums, and the number of
    training samples per epoch (a backup taken inside an epoch only fits a run with
    as many samples in batches of the same size)."""

    epoch: int = 0
    step: int = 0
    order: "torch.Tensor | None" = None
    totals: Totals | None = None
    samples: int = 0

    @property
    def mid_epoch(self) -> bool:
        return self.step > 0 and self.totals is not None


def capture(trainer: "Trainer") -> dict[str, Any]:
    position = trainer.position
    mid_epoch = position.mid_epoch
    return {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "network": json.dumps(trainer.network.to_dict(), sort_keys=True),
        "model": to_cpu(trainer.model.state_dict()),
        "optimizer": to_cpu(trainer.optimizer.state_dict()),
        "scaler": trainer.scaler.state_dict() if trainer.scaler is not None else None,
        "epoch": position.epoch,
        "step": position.step if mid_epoch else 0,
        "order": position.order.cpu() if mid_epoch and position.order is not None else None,
        "totals": position.totals.state_dict() if mid_epoch else None,
        "samples": position.samples,
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
    position = trainer.position
    if step and (state["samples"] != position.samples or state["batch_size"] != trainer.config.batch_size):
        raise TrainingError(f"the backup stopped inside an epoch of {state['samples']} samples in batches of "
                            f"{state['batch_size']}; this run has {position.samples} in batches of "
                            f"{trainer.config.batch_size}, so it cannot carry on; {AFRESH}")
    trainer.model.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    if trainer.scaler is not None and state.get("scaler"):
        trainer.scaler.load_state_dict(state["scaler"])
    trainer._generator.set_state(state["rng"]["generator"])
    set_global_rng_state(state["rng"])
    callbacks.load_state_dict(state.get("callbacks", {}))
    if step:
        position.order = state["order"]
        position.totals = Totals(trainer.device)
        position.totals.load_state_dict(state["totals"])
    return int(state["epoch"]), step
