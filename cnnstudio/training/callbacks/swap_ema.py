"""``SwapEMAWeights``: evaluate (and optionally save) with the moving average of the weights.

Keras keeps the average in the optimizer (``use_ema=True``) and this callback
only swaps; here the callback keeps it too (``training.ema``), so any
optimizer works.  The swaps follow Keras's ``SwapEMAWeights``:

* ``on_test_begin``/``on_predict_begin`` put the average into the model and
  ``..._end`` put the training weights back, so ``val_loss`` and
  ``val_accuracy`` measure the average;
* with ``swap_on_epoch=True`` the average also sits in the model from each
  epoch's end to the next epoch's start, so callbacks placed after this one
  (``ModelCheckpoint``) see and save it;
* when training completes the model keeps the average, as a Keras model
  trained with ``use_ema=True`` does.  A run stopped on request keeps its
  training weights, so a backup carries on exactly.
"""

from __future__ import annotations

from typing import Any

from ..ema import ExponentialMovingAverage
from .base import Callback


class SwapEMAWeights(Callback):
    def __init__(self, decay: float = 0.99, swap_on_epoch: bool = False) -> None:
        super().__init__()
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"SwapEMAWeights: decay must be in [0, 1), not {decay}")
        self.decay = decay
        self.swap_on_epoch = swap_on_epoch
        self.ema: ExponentialMovingAverage | None = None
        self._ema_in_model = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.ema is None:
            self.ema = ExponentialMovingAverage(self.model, self.decay)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.ema.update()

    def _swap_in(self) -> None:
        if self.ema is not None and not self._ema_in_model:
            self.ema.swap()
            self._ema_in_model = True

    def _swap_out(self) -> None:
        if self.ema is not None and self._ema_in_model:
            self.ema.swap()
            self._ema_in_model = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch:
            self._swap_in()

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._swap_in()

    def on_test_end(self, logs: dict | None = None) -> None:
        self._swap_out()

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._swap_in()

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._swap_out()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.ema is None:
            return
        if self.trainer.interrupted:
            self._swap_out()
            return
        # finalise: the model and the average both hold the average from now on
        if not self._ema_in_model:
            self.ema.copy_to_model()
        else:
            self.ema.shadow = [p.detach().clone() for p in self.ema.parameters]
            self._ema_in_model = False

    def on_exception(self, exception: BaseException) -> None:
        self._swap_out()

    def state_dict(self) -> dict[str, Any] | None:
        if self.ema is None:
            return None
        return {"ema": self.ema.state_dict(), "ema_in_model": self._ema_in_model}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.ema is None:
            self.ema = ExponentialMovingAverage(self.model, self.decay)
        self.ema.load_state_dict(state["ema"])
        self._ema_in_model = state["ema_in_model"]
