"""Callbacks that change the learning rate between epochs: on a fixed schedule
(``LearningRateScheduler``) or when progress stalls (``ReduceLROnPlateau``).

The rate they set is what the next epoch trains with and what the trainer logs
as ``lr`` at that epoch's end.
"""

from __future__ import annotations

import inspect
import math
import operator
from collections.abc import Callable
from typing import Any

from .base import Callback
from .monitor import check_mode, monitored, worst


class LearningRateScheduler(Callback):
    """At each epoch's start, set the rate to ``schedule(epoch, lr)`` (epochs count from 0).

    A one-argument ``schedule(epoch)`` works too, as in older Keras.
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _positional_arity(schedule) != 1

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        current = self.trainer.learning_rate
        value = self.schedule(epoch, current) if self._takes_lr else self.schedule(epoch)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"The output of the `schedule` function should be a finite number >= 0. Got: {value!r}")
        self.trainer.learning_rate = float(value)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(value)}.")


def _positional_arity(function: Callable) -> int | None:
    """How many positional arguments ``function`` takes (``None``: any number)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    count = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) \
                and parameter.default is inspect.Parameter.empty:
            count += 1
    return count


class ReduceLROnPlateau(Callback):
    """Multiply the rate by ``factor`` after ``patience`` epochs without improvement (Keras semantics).

    Improvement means beating the best by more than ``min_delta``.  After a cut,
    ``cooldown`` epochs pass before waiting starts again; the rate never goes
    below ``min_lr``.  ``mode='auto'`` maximises metrics with "acc" in their
    name and minimises the rest.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = check_mode(mode, "ReduceLROnPlateau")
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self) -> None:
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: operator.lt(a, b - self.min_delta)
            self.best = worst("min")
        else:
            self.monitor_op = lambda a, b: operator.gt(a, b + self.min_delta)
            self.best = worst("max")
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = monitored(logs, self.monitor, "Learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = self.trainer.learning_rate
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.trainer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.wait, self.cooldown_counter = state["best"], state["wait"], state["cooldown_counter"]
