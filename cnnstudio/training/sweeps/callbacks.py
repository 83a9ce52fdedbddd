"""What a sweep adds to each trial's training: pruning and a progress report."""

from __future__ import annotations

import math
import time
from typing import Any, Callable

from ..callbacks.base import Callback

PROGRESS_RATE = 4.0  # progress reports per second, at most


class PruneTrial(Callback):
    """Reports the objective's epoch metric to the Optuna trial after every epoch and ends
    the run there when the pruner judges the trial hopeless (Optuna's pruning
    callbacks do the same for Keras and Lightning)."""

    def __init__(self, trial: Any, monitor: str) -> None:
        super().__init__()
        self.trial = trial
        self.monitor = monitor
        self.pruned_after: int | None = None    # the epoch (0-based) after which it was pruned
        self.reported: float | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return
        self.reported = float(value)
        self.trial.report(self.reported, epoch)
        last = epoch + 1 >= int(self.params.get("epochs", 1))
        if not last and self.trial.should_prune():  # after the last epoch the trial is complete anyway
            self.pruned_after = epoch
            self.trainer.stop_training = True


class TrialProgress(Callback):
    """Calls ``report(epoch, epochs, batch, steps)`` at most ``PROGRESS_RATE`` times a second
    and at the end of every epoch."""

    def __init__(self, report: Callable[[int, int, int, int], None]) -> None:
        super().__init__()
        self.report = report
        self._epoch = 0
        self._last = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        steps = int(self.params.get("steps", 1))
        if now - self._last >= 1.0 / PROGRESS_RATE or batch + 1 >= steps:
            self._last = now
            self.report(self._epoch, int(self.params.get("epochs", 1)), batch + 1, steps)


__all__ = ["PROGRESS_RATE", "PruneTrial", "TrialProgress"]
