"""Speed and time left, computed one way for the terminal's progress bar and the
studio's status line.

``Speedometer`` counts samples since a start (the run's, or an epoch's) and
turns them into samples per second and an ETA.  A resumed epoch starts part-way:
only the batches this process trained count towards the speed, so a resumed
epoch never reports ``32/32 - 4s 793ms/step`` for the two batches it ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


def format_duration(seconds: float) -> str:
    """``0:42``, ``12:05``, ``1:02:09``."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@dataclass
class Reading:
    """One look at the speedometer."""

    elapsed: float              # seconds since start
    steps: int                  # steps (batches) run since start
    samples_per_second: float
    seconds_per_step: float
    eta: float                  # seconds until ``remaining_steps`` more steps are done


class Speedometer:
    """``start()``, then ``step(samples)`` after each batch, ``read(remaining)`` when needed.

    ``clock`` is replaceable so tests can script time."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.started = clock()
        self.steps = 0
        self.samples = 0

    def start(self) -> None:
        self.started = self.clock()
        self.steps = 0
        self.samples = 0

    def step(self, samples: int) -> None:
        self.steps += 1
        self.samples += samples

    def read(self, remaining_steps: int = 0) -> Reading:
        elapsed = max(self.clock() - self.started, 1e-9)
        per_step = elapsed / self.steps if self.steps else 0.0
        return Reading(elapsed=elapsed, steps=self.steps, samples_per_second=self.samples / elapsed,
                       seconds_per_step=per_step, eta=per_step * max(remaining_steps, 0))


__all__ = ["Reading", "Speedometer", "format_duration"]
