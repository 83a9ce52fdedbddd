"""``CSVLogger``: one row per epoch in a CSV file, like Keras's."""

from __future__ import annotations

import collections.abc
import csv
import os
from pathlib import Path
from typing import Any

from .base import Callback


class CSVLogger(Callback):
    """Write ``epoch`` (from 0) and every log value to ``filename`` after each epoch.

    Columns are the log names in sorted order; when the logs have no ``val_``
    values, ``val_`` columns are added anyway (filled with ``NA``) so a later
    epoch with validation still fits the header.  ``append=True`` adds to an
    existing file (a resumed run) and reuses its header's columns.  The file
    is flushed every epoch, so it can be watched while training runs.
    """

    def __init__(self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename = Path(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self.writer: csv.DictWriter | None = None
        self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.keys, self.writer = None, None
        self.append_header = True
        if self.append and self.filename.exists():
            with open(self.filename, newline="", encoding="utf-8") as existing:
                header = existing.readline()
            if header.strip():
                self.append_header = False
                columns = next(csv.reader([header], delimiter=self.sep))
                self.keys = [column for column in columns if column != "epoch"]
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if not any(key.startswith("val_") for key in self.keys):
                self.keys.extend(f"val_{key}" for key in list(self.keys) if key != "lr")
        if self.writer is None:
            class Dialect(csv.excel):
                delimiter = self.sep
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys], dialect=Dialect,
                                         extrasaction="ignore")
            if self.append_header:
                self.writer.writeheader()
        row: dict[str, Any] = {"epoch": epoch}
        row.update((key, _cell(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._close()

    def on_exception(self, exception: BaseException) -> None:
        self._close()

    def _close(self) -> None:
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file, self.writer = None, None


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable):
        return f'"[{", ".join(map(str, value))}]"'
    return value
