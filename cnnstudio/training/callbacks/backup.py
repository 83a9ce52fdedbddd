"""``BackupAndRestore``: survive a crash or a Ctrl+C and carry on where the run stopped.

A backup is ``Trainer.training_state()``: weights, optimizer, the position in
the run (epoch, batch, this epoch's shuffled order and partial sums), every
random generator and the callbacks' own state.  Restored, the rest of the run
is the same computation as if it had never stopped: with a seed, it ends with
the very weights of an uninterrupted run.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from ..errors import TrainingError
from ..weights import save_state
from .base import Callback

BACKUP_FILE = "backup.pt"
PREVIOUS_FILE = "backup.previous.pt"


class BackupAndRestore(Callback):
    """Save the run into ``backup_dir`` at each epoch's end (or every ``save_freq``
    batches) and, when a run starts with a backup there, carry on from it.

    A run that completes deletes the backup (``delete_checkpoint``).  One
    stopped by ``Trainer.request_stop()`` saves its exact position and keeps it;
    one that fails keeps the last backup.  ``double_checkpoint`` keeps the
    previous backup too and falls back to it when the newest cannot be read.
    Backups are written atomically and read with ``weights_only=True``.
    """

    hook_order = 2  # after every other callback (History included), so the backup sees their epoch end

    def __init__(self, backup_dir: str | os.PathLike[str], save_freq: str | int = "epoch",
                 double_checkpoint: bool = False, delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq!r}. "
                             "Expected either 'epoch' or a whole number of batches >= 1")
        self.backup_dir = Path(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self.restored_from: Path | None = None
        self._batches_seen = 0

    @property
    def backup_path(self) -> Path:
        return self.backup_dir / BACKUP_FILE

    @property
    def previous_path(self) -> Path:
        return self.backup_dir / PREVIOUS_FILE

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.restored_from = None
        self._batches_seen = 0
        candidates = [self.backup_path] + ([self.previous_path] if self.double_checkpoint else [])
        problems = []
        for path in candidates:
            if not path.exists():
                continue
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError... by damage
                problems.append(f"{path}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
                continue
            try:
                self.trainer.load_training_state(state)
            except TrainingError as error:
                raise TrainingError(f"{path}: {error}") from None
            self.restored_from = path
            if problems:
                warnings.warn(f"BackupAndRestore: the newest backup could not be read ({problems[0]}); "
                              f"carrying on from {path}", RuntimeWarning, stacklevel=2)
            return
        if problems:
            raise TrainingError(f"the training backup cannot be read ({problems[0]}); delete {self.backup_dir} "
                                "to start afresh")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen >= self.save_freq:
            self._batches_seen = 0
            self.save()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self.save()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.trainer.interrupted:
            self.save()  # stopped on request: keep the exact position to carry on from
        elif self.delete_checkpoint:
            self.delete()

    def save(self) -> Path:
        """Write the trainer's state now (between two batches)."""
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        if self.double_checkpoint and self.backup_path.exists():
            os.replace(self.backup_path, self.previous_path)
        return save_state(self.trainer.training_state(), self.backup_path)

    def delete(self) -> None:
        for path in (self.backup_path, self.previous_path):
            path.unlink(missing_ok=True)
        try:
            self.backup_dir.rmdir()  # only if nothing else lives there
        except OSError:
            pass
