"""Callbacks that end a run: ``EarlyStopping`` (no more progress) and
``TerminateOnNaN`` (the loss blew up)."""

from __future__ import annotations

import math
import operator
from typing import Any

from .base import Callback
from .monitor import check_mode, metric_direction, monitored


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs (Keras semantics).

    An epoch improves when it beats the best so far by more than ``min_delta``.
    With ``baseline``, the patience counter only restarts on epochs that also
    beat the baseline.  Epochs before ``start_from_epoch`` are ignored (warm-up).
    ``restore_best_weights`` puts the best epoch's weights back when training
    ends, whether or not it stopped early.  ``mode='auto'`` minimises losses and
    maximises accuracies; any other metric needs ``mode`` given.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0) -> None:
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = check_mode(mode, "EarlyStopping")
        self.monitor_op = None
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_weights: dict[str, Any] | None = None
        self.best_epoch = 0

    def _set_monitor_op(self) -> None:
        direction = self.mode if self.mode != "auto" else metric_direction(self.monitor)
        if direction is None:
            raise ValueError(f"EarlyStopping callback received monitor={self.monitor!r} but cannot tell whether "
                             "that metric should be maximized or minimized. Pass mode='max' in order to do early "
                             "stopping based on the highest metric value, or pass mode='min' in order to use the "
                             "lowest value.")
        self.monitor_op = operator.lt if direction == "min" else operator.gt
        if direction == "min":
            self.min_delta *= -1

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        current = monitored(logs, self.monitor, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return  # no value, or still warming up
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._weights()  # never set: the current weights are the best
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._weights()
            # only restart waiting when beating both the baseline and the previous best
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))

    def _weights(self) -> dict[str, Any]:
        return {key: value.detach().clone() for key, value in self.model.state_dict().items()}

    def state_dict(self) -> dict[str, Any]:
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        weights = state["best_weights"]
        if weights is not None:
            device = next(iter(self.model.state_dict().values())).device
            weights = {key: value.to(device) for key, value in weights.items()}
        self.best_weights = weights


class TerminateOnNaN(Callback):
    """End the run as soon as a batch's loss is NaN or infinite.

    Keras just stops; here the run fails: ``fit`` puts the weights back as they
    were before it started and raises ``TrainingError`` with the reason, so a
    blown-up model never replaces a good one.  It reads the loss every batch,
    which costs one device sync per batch on a GPU.
    """

    def __init__(self) -> None:
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            reason = (f"epoch {self._epoch + 1}, batch {batch + 1}: the loss became {loss}; training was stopped "
                      "and the weights were put back as they were before this run. Try a lower learning rate")
            self.trainer.fail(reason)
