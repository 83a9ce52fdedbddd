"""What a running training session tells whoever watches it, as one JSON object
per line (``python -m cnnstudio train ... --events``).

The studio runs training in a child process and reads these lines from its
standard output; nothing else is written there.  Each event is
``{"event": KIND, ...}``:

============  =====================================================================
``phase``     ``phase`` (loading, building, training, evaluating, saving) and ``text``
``started``   ``params`` (epochs, steps, samples, batch_size, validation), ``run``
              (the run folder), ``threads``, ``device``
``sample``    ``array``: the sample the feature maps are computed for, ``caption``
``batches``   ``points``: ``[[x, {"loss": .., "accuracy": ..}], ...]`` where x is in
              epochs (1.5 = halfway through the second epoch)
``progress``  ``epoch`` (0-based), ``epochs``, ``batch`` (batches done in it), ``steps``,
              ``samples_per_second``, ``eta`` (seconds), ``threads``
``epoch``     ``epoch`` (0-based) and its ``logs`` (loss, accuracy, val_*, lr)
``marker``    ``x`` (in epochs) and ``text``: a callback acted (lr change, checkpoint...)
``health``    ``finding``: a training-health finding (``training.health.Finding.to_json()``:
              kind, severity, title, cause, fix, numbers, layers, epoch, x in epochs)
``maps``      ``layer`` and ``array`` (C, H, W) or (F,): that layer's output for the sample
``filters``   ``array``: the first convolution's kernels (out, in, kh, kw)
``control``   a command arrived: ``command`` (stop, pause, resume) and where the run was
              (``epoch``, ``step``: batches done), or ``training`` false before it trains
``ended``     ``status`` (finished, stopped, failed), ``message``, ``seconds``
============  =====================================================================

Arrays travel as ``{"dtype", "shape", "data": base64}``.  Batch metrics are sent
at most ``BATCH_RATE`` times a second and feature maps ``MAPS_RATE`` times, so a
fast run cannot flood the window.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any, TextIO

import numpy as np

from .callbacks.base import Callback
from .callbacks.progbar import batch_samples
from .progress import Speedometer

BATCH_RATE = 10.0   # batch-metric events per second, at most
MAPS_RATE = 2.0     # feature-map events per second, at most


def encode_array(array: np.ndarray) -> dict[str, Any]:
    array = np.ascontiguousarray(array)
    return {"dtype": str(array.dtype), "shape": list(array.shape),
            "data": base64.b64encode(array.tobytes()).decode("ascii")}


def decode_array(data: dict[str, Any]) -> np.ndarray:
    raw = base64.b64decode(data["data"])
    return np.frombuffer(raw, dtype=np.dtype(data["dtype"])).reshape(data["shape"]).copy()


def parse_event(line: str | bytes) -> dict[str, Any] | None:
    """One event from one line, or ``None`` for a line that is not an event."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


class EventWriter:
    """Writes events as JSON lines to ``stream``; safe to call from any thread."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def emit(self, kind: str, **fields: Any) -> None:
        # NaN and infinity travel as Python's JSON writes them: a loss that blew up shows as nan
        line = json.dumps({"event": kind, **fields})
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the reader has gone (the window closed): training carries on or stops on its own

    def phase(self, phase: str, text: str) -> None:
        self.emit("phase", phase=phase, text=text)


class EventsCallback(Callback):
    """Turns the trainer's hooks into events (see the module docstring).

    ``probe`` is the sample (1, C, H, W) whose feature maps are sent for ``layer``;
    ``set_layer`` may be called from another thread to show another layer."""

    hook_order = 1  # after the configured callbacks, so markers see what they did

    def __init__(self, writer: EventWriter, probe: np.ndarray | None = None, layer: str | None = None,
                 threads: Any = None) -> None:
        super().__init__()
        self.writer = writer
        self.probe = probe
        self.layer = layer
        self.threads = threads      # an object with ``current`` (ThreadTuner) or an int
        self._pending: list[list[Any]] = []
        self._last_batch = 0.0
        self._last_maps = 0.0
        self._speed = Speedometer()
        self._epoch = 0
        self._steps = 1
        self._lr: float | None = None
        self._checkpoint_best: dict[int, Any] = {}
        self._lock = threading.Lock()

    def restart_clock(self) -> None:
        """After a pause: speed and time left count from here, not across the pause."""
        self._speed.start()

    def set_layer(self, layer: str | None) -> None:
        with self._lock:
            self.layer = layer
            self._last_maps = 0.0  # show the new layer at the next batch

    @property
    def thread_count(self) -> int | None:
        current = getattr(self.threads, "current", self.threads)
        return int(current) if current is not None else None

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._steps = max(1, int(self.params.get("steps", 1)))
        self._speed.start()
        self._lr = self.trainer.learning_rate
        params = {key: self.params[key] for key in ("epochs", "steps", "samples", "batch_size", "validation")
                  if key in self.params}
        self.writer.emit("started", params=params, lr=self._lr, threads=self.thread_count,
                         device=str(self.trainer.device))
        self._maps(force=True)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._speed.step(batch_samples(self.params, batch))
        now = time.perf_counter()
        last = batch + 1 >= self._steps
        if now - self._last_batch < 1.0 / BATCH_RATE and not last:
            return
        self._last_batch = now
        logs = logs or {}
        self._pending.append([self._epoch + (batch + 1) / self._steps,
                              {"loss": float(logs["loss"]), "accuracy": float(logs["accuracy"])}])
        self.writer.emit("batches", points=self._pending)
        self._pending = []
        epochs = int(self.params.get("epochs", 1))
        remaining = (epochs - self._epoch - 1) * self._steps + (self._steps - batch - 1)
        reading = self._speed.read(remaining)
        self.writer.emit("progress", epoch=self._epoch, epochs=epochs, batch=batch + 1, steps=self._steps,
                         samples_per_second=reading.samples_per_second, eta=reading.eta,
                         threads=self.thread_count)
        self._maps()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {key: float(value) for key, value in (logs or {}).items()
                if isinstance(value, (int, float))}
        logs.setdefault("lr", self.trainer.learning_rate)
        self.writer.emit("epoch", epoch=epoch, logs=logs)
        for text in self._markers():
            self.writer.emit("marker", x=epoch + 1.0, text=text)
        self._maps(force=True)

    def _markers(self) -> list[str]:
        from .callbacks import ModelCheckpoint

        found = []
        lr = self.trainer.learning_rate
        if self._lr is not None and abs(lr - self._lr) > 1e-12:
            found.append(f"lr {lr:.2g}")
        self._lr = lr
        for callback in self.trainer.callbacks:
            if isinstance(callback, ModelCheckpoint):
                key = id(callback)
                if not callback.save_best_only or self._checkpoint_best.get(key) != callback.best:
                    found.append("checkpoint")
                self._checkpoint_best[key] = callback.best
        if self.trainer.stop_training:
            found.append("early stop")
        return found

    def _maps(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self.probe is None or (not force and now - self._last_maps < 1.0 / MAPS_RATE):
            return
        self._last_maps = now
        from .probes import FeatureMapProbe, first_layer_filters

        model = self.trainer.model
        with self._lock:
            layer = self.layer
        if layer and layer in model.layer_names:
            maps = FeatureMapProbe(model, [layer]).capture(self.probe)
            self.writer.emit("maps", layer=layer, array=encode_array(maps[layer][0].astype(np.float32)))
        try:
            self.writer.emit("filters", array=encode_array(first_layer_filters(model)))
        except ValueError:
            pass  # a network without a convolution has no filters to show


__all__ = ["BATCH_RATE", "EventWriter", "EventsCallback", "MAPS_RATE", "decode_array", "encode_array",
           "parse_event"]
