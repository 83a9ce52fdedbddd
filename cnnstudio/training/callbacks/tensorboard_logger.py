"""``TensorBoard``: event files that ``tensorboard --logdir`` shows, like Keras's callback.

Written with ``torch.utils.tensorboard.SummaryWriter`` (which needs the
``tensorboard`` package).  The layout is Keras's: ``log_dir/train`` and
``log_dir/validation``, scalars ``epoch_loss``, ``epoch_accuracy`` (and
``epoch_lr`` for training) so training and validation curves share a chart,
``batch_loss``/``batch_accuracy`` with ``update_freq``, and weight histograms
(``conv2d_1/weight/histogram``) every ``histogram_freq`` epochs.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch

from .base import Callback


def _summary_writer_class() -> type:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError("the TensorBoard callback needs the 'tensorboard' package; install it with "
                          f"'pip install tensorboard' ({error})") from None
    return SummaryWriter


class TensorBoard(Callback):
    """Log metrics (and optionally weight histograms and the model graph) for TensorBoard.

    ``update_freq``: ``"epoch"``, ``"batch"`` or a number of batches between
    per-batch scalars (each write reads the batch logs: one device sync).
    """

    def __init__(self, log_dir: str | os.PathLike[str] = "logs", histogram_freq: int = 0, write_graph: bool = False,
                 update_freq: str | int = "epoch") -> None:
        super().__init__()
        self._writer_class = _summary_writer_class()  # fail at once, not after the first epoch
        self.log_dir = Path(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(update_freq, int)
                                       or update_freq < 1):
            raise ValueError(f"update_freq must be 'epoch', 'batch' or a number of batches >= 1, not {update_freq!r}")
        self.update_freq = update_freq
        self._writers: dict[str, Any] = {}
        self._global_batch = 0

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            self._writers[name] = self._writer_class(log_dir=str(self.log_dir / name))
        return self._writers[name]

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._global_batch = 0
        if self.write_graph:
            example = torch.zeros((1, *self.model.input_shape), device=next(self.model.parameters()).device)
            was_training = self.model.training
            try:
                self.model.eval()
                with warnings.catch_warnings():  # torch.jit.trace, which add_graph uses, warns it is deprecated
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self._writer("train").add_graph(self.model, example)
            except Exception as error:  # tracing can fail on exotic graphs; the metrics still matter
                warnings.warn(f"TensorBoard could not write the model graph: {error}", RuntimeWarning, stacklevel=2)
            finally:
                self.model.train(was_training)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.update_freq == "epoch":
            return
        self._global_batch += 1
        if self._global_batch % self.update_freq == 0:
            writer = self._writer("train")
            for key, value in (logs or {}).items():
                writer.add_scalar(f"batch_{key}", float(value), self._global_batch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            split, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(split).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for name, parameter in self.model.named_parameters():
                values = parameter.detach().float().cpu()
                writer.add_histogram(name.replace(".", "/") + "/histogram", values, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._close()

    def on_exception(self, exception: BaseException) -> None:
        self._close()

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
