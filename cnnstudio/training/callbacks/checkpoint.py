"""``ModelCheckpoint``: save the model (or its weights) as training goes, maybe only the best."""

from __future__ import annotations

import operator
import os
import warnings
from pathlib import Path
from typing import Any

from ..weights import save_model, save_weights
from .base import Callback
from .monitor import check_mode, worst


class ModelCheckpoint(Callback):
    """Save after every epoch (or every ``save_freq`` batches), like Keras's.

    ``filepath`` may hold ``{epoch}`` (counted from 1), ``{batch}`` (with an
    integer ``save_freq``) and any log name: ``"ckpt/{epoch:02d}-{val_loss:.3f}.pt"``.
    ``save_best_only`` saves only when ``monitor`` improves on the best so far
    (``mode``: ``min``, ``max`` or ``auto``, where names with "acc" are
    maximised); ``initial_value_threshold`` is the value to beat at first.

    ``save_weights_only=True`` writes the state_dict; otherwise the whole model
    (network document + weights, read back by ``weights.load_model``).  A
    ``.safetensors`` name writes safetensors, any other ``torch.save``.
    Place it after ``SwapEMAWeights(swap_on_epoch=True)`` to save EMA weights.
    """

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or a "
                             "whole number of batches >= 1")
        self.save_freq = save_freq
        mode = check_mode(mode, "ModelCheckpoint")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.startswith("fmeasure")) else "min"
        self.monitor_op = operator.lt if mode == "min" else operator.gt
        self.best = initial_value_threshold if initial_value_threshold is not None else worst(mode)
        self.saved: list[Path] = []  # every file written, in order
        self._epoch = 0
        self._batches_seen = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen >= self.save_freq:
            self._batches_seen = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def file_path(self, epoch: int, batch: int | None, logs: dict | None) -> Path:
        values = dict(logs or {})
        try:
            if batch is None or "batch" not in self.filepath:
                return Path(self.filepath.format(epoch=epoch + 1, **values))
            return Path(self.filepath.format(epoch=epoch + 1, batch=batch + 1, **values))
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: no value named '
                           f"{error.args[0]} (logs have: {', '.join(values) or 'nothing'})") from None

    def _save(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = logs or {}
        path = self.file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", RuntimeWarning,
                              stacklevel=2)
                return
            current = float(current)
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.save_weights_only:
            save_weights(self.model, path)
        else:
            save_model(self.model, self.trainer.network, path)
        self.saved.append(path)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
