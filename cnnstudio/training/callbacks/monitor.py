"""What the monitoring callbacks share: reading a metric from the logs and
deciding which way is better (``mode``: ``min``, ``max`` or ``auto``)."""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping

MODES = ("auto", "min", "max")


def check_mode(mode: str, who: str) -> str:
    """Keras warns about an unknown mode and falls back to ``auto``; so do we."""
    if mode not in MODES:
        warnings.warn(f"{who}: mode {mode!r} is unknown, falling back to 'auto'", RuntimeWarning, stacklevel=3)
        return "auto"
    return mode


def metric_direction(monitor: str) -> str | None:
    """``min`` for losses, ``max`` for accuracies, ``None`` for a metric we do not know."""
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return "min"
    if name in ("accuracy", "acc") or name.endswith("_accuracy"):
        return "max"
    return None


def monitored(logs: Mapping[str, Any] | None, monitor: str, who: str) -> float | None:
    """The monitored value as a float, or ``None`` (with Keras's warning) when the logs lack it."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(f"{who} is conditioned on metric `{monitor}` which is not available. "
                      f"Available metrics are: {','.join(logs.keys())}", RuntimeWarning, stacklevel=3)
        return None
    return float(value)


def worst(direction: str) -> float:
    return math.inf if direction == "min" else -math.inf
