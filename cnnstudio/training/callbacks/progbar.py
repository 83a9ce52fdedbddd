"""``ProgbarLogger``: a text progress bar for the terminal, like Keras's ``verbose=1``.

::

    Epoch 2/5
     37/94 [===========>..................]  39% - ETA: 0:01 - 6040 samples/s - loss: 0.8123 - accuracy: 0.7002

On a terminal the line is redrawn in place at most ``updates_per_second``
times a second (reading the batch logs syncs the device, so a bar that
redrew every batch would slow training); to a file or pipe only each epoch's
final line is written.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from ..progress import Speedometer, format_duration
from .base import Callback


def batch_samples(params: dict[str, Any], batch: int) -> int:
    """How many samples batch number ``batch`` of an epoch holds (the last one may be short)."""
    batch_size = int(params.get("batch_size", 1))
    samples = int(params.get("samples", 0)) or batch_size * (batch + 1)
    return max(0, min(batch_size, samples - batch * batch_size))


def _value(key: str, value: Any) -> str:
    if isinstance(value, (int, float)):
        if key == "lr" or (value != 0 and abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:.4f}"
    return str(value)


class ProgbarLogger(Callback):
    """Print progress to ``stream`` (standard output by default).

    ``interactive`` (default: whether the stream is a terminal) redraws one line
    per epoch; otherwise a line per epoch is written when it ends.
    """

    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None, width: int = 30,
                 updates_per_second: float = 10.0) -> None:
        super().__init__()
        self.stream = stream
        self.interactive = interactive
        self.width = width
        self.interval = 1.0 / updates_per_second if updates_per_second > 0 else 0.0
        self.updates = 0  # lines drawn mid-epoch (for tests and curiosity)
        self._in_fit = False
        self._line_open = False
        self._last_length = 0
        self._last_draw = 0.0
        self._speed = Speedometer(time.monotonic)
        self._epoch = 0
        self._steps_done = 0

    @property
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _is_interactive(self) -> bool:
        if self.interactive is not None:
            return self.interactive
        isatty = getattr(self._out, "isatty", None)
        return bool(isatty and isatty())

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._in_fit = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._speed.start()
        self._last_draw = self._speed.started
        self._steps_done = 0
        self._write(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}\n")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._steps_done = batch + 1  # a resumed epoch starts part-way: the bar shows where it is
        self._speed.step(batch_samples(self.params, batch))
        if not self._is_interactive():
            return
        now = time.monotonic()
        if now - self._last_draw < self.interval and self._steps_done < self.params.get("steps", 0):
            return
        self._last_draw = now
        self.updates += 1
        self._draw(logs or {}, final=False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._draw(logs or {}, final=True)
        self._write("\n")
        self._line_open = False
        self._last_length = 0

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._line_open:
            self._write("\n")
            self._line_open = False
        if self.trainer is not None and self.trainer.interrupted:
            self._write(f"Stopped at epoch {self._epoch + 1}, batch {self._steps_done}.\n")
        self._in_fit = False

    def on_exception(self, exception: BaseException) -> None:
        if self._line_open:
            self._write("\n")
            self._line_open = False
        self._in_fit = False

    def on_test_end(self, logs: dict | None = None) -> None:
        if not self._in_fit:  # a standalone evaluate()
            parts = " - ".join(f"{key}: {_value(key, value)}" for key, value in (logs or {}).items())
            self._write(f"{self.params.get('steps', '?')}/{self.params.get('steps', '?')} - {parts}\n")

    # ------------------------------------------------------------------ drawing
    def _draw(self, logs: dict, final: bool) -> None:
        steps = int(self.params.get("steps", 0)) or 1
        done = self._steps_done if not final else steps
        reading = self._speed.read(remaining_steps=steps - done)
        digits = len(str(steps))
        if done >= steps:
            bar = "=" * self.width
        else:
            filled = self.width * done // steps
            bar = "=" * filled + ">" + "." * (self.width - filled - 1)
        head = f"{done:>{digits}}/{steps} [{bar}]"
        rate = f"{reading.samples_per_second:.0f} samples/s"
        if final:
            took = f"{reading.elapsed:.0f}s" if reading.elapsed < 60 else format_duration(reading.elapsed)
            timing = f"{took} {reading.seconds_per_step * 1000:.0f}ms/step - {rate}"
        else:
            timing = f"{100 * done // steps:3d}% - ETA: {format_duration(reading.eta)} - {rate}"
        values = " - ".join(f"{key}: {_value(key, logs[key])}" for key in list(logs))
        line = f"{head}{' - ' if final else ' '}{timing}" + (f" - {values}" if values else "")
        if self._is_interactive():
            padding = " " * max(self._last_length - len(line), 0)  # blank out a longer previous line
            self._write("\r" + line + padding)
            self._last_length = len(line)
            self._line_open = True
        else:
            self._write(line)
