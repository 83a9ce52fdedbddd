"""How many CPU threads torch trains with, and why it is measured rather than fixed.

torch's default is one intra-op thread per core.  That is the fastest team when
every core is free, but a desktop is rarely idle: the studio's own window, a
browser, another run.  When another process keeps one core busy, a team of as
many threads as cores waits at every parallel region for the member that lost
its core, and on this project's 2-core machines the lecture network then trained
at 740 samples/s against 1,500 with a single thread (2026-12-01).  Load comes and
goes during a run, so no count chosen up front is right.

So the default policy, ``auto``, is measured: ``ThreadTuner`` times a short window
of batches at each of a few team sizes, trains with the fastest, and measures
again every ``interval`` seconds.  A probe costs little: a window is a fraction of
a second, and only one in each round runs at a worse size.  A fixed count
(``training.threads`` = N, ``--threads N``) is used as given, and deterministic
runs keep one fixed count (the machine's cores unless given), because a
different team size can change the order of floating-point sums.  On a GPU the
CPU team hardly matters and is left alone.

``tests/bench/bench_threads.py`` measures the policy against plain loops at one
thread and at every thread, with and without a busy core.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from .callbacks.base import Callback

AUTO = "auto"


def parse_threads(value: object) -> str | int:
    """``"auto"`` or a whole number >= 1 (``ValueError`` otherwise)."""
    if value is None or value == AUTO:
        return AUTO
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"threads must be 'auto' or a whole number >= 1, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"threads must be 'auto' or a whole number >= 1, not {value!r}") from None
    if number != float(value) or number < 1:
        raise ValueError(f"threads must be 'auto' or a whole number >= 1, not {value!r}")
    return number


def machine_threads() -> int:
    """torch's default team size: one thread per physical core this process may use.
    Computed from the machine, not read from torch, which another caller may have changed."""
    import os

    import psutil

    physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not every platform has CPU affinity
        usable = os.cpu_count() or 1
    return max(1, min(physical, usable))


def candidate_sizes(cores: int) -> list[int]:
    """Team sizes worth trying, largest first: all cores, one fewer, half, one."""
    return sorted({cores, max(1, cores - 1), max(1, cores // 2), 1}, reverse=True)


@dataclass
class ThreadChoice:
    """What the run uses; ``describe()`` goes into the run record and the status line."""

    policy: str | int
    threads: int
    reason: str

    def describe(self) -> str:
        return f"{self.threads} ({self.reason})"


def initial_choice(policy: str | int, device_type: str, deterministic: bool) -> ThreadChoice:
    """The team size to start with, and whether it will be tuned (``reason == 'auto'``)."""
    cores = machine_threads()
    if policy != AUTO:
        return ThreadChoice(policy, int(policy), "as set")
    if device_type != "cpu":
        return ThreadChoice(policy, cores, f"torch's default; training runs on {device_type}")
    if deterministic:
        return ThreadChoice(policy, cores, "fixed for a deterministic run")
    if cores == 1:
        return ThreadChoice(policy, 1, "one core")
    return ThreadChoice(policy, cores, "auto")


class ThreadTuner(Callback):
    """Keeps training at the fastest team size (see the module docstring).

    ``set_threads`` and ``clock`` are replaceable so the search can be tested with a
    scripted machine.  ``on_change(threads)`` hears each switch of size.
    """

    def __init__(self, sizes: list[int], *, interval: float = 20.0, window: float = 0.3, min_batches: int = 3,
                 settle_batches: int = 1, prefer_more_within: float = 0.03,
                 set_threads: Callable[[int], None] | None = None, clock: Callable[[], float] = time.perf_counter,
                 on_change: Callable[[int], None] | None = None) -> None:
        super().__init__()
        if not sizes:
            raise ValueError("ThreadTuner needs at least one team size")
        self.sizes = sorted(set(sizes), reverse=True)
        self.interval = interval
        self.window = window
        self.min_batches = min_batches
        self.settle_batches = settle_batches
        self.prefer_more_within = prefer_more_within
        self._set = set_threads or _torch_set_threads
        self.clock = clock
        self.on_change = on_change
        self.current = self.sizes[0]
        self.measured: dict[int, float] = {}   # seconds per sample at each size, from the last round
        self.rounds = 0
        self._queue: list[int] = []
        self._times: list[float] = []
        self._settle = 0
        self._began = 0.0
        self._window_start = 0.0
        self._next_round = 0.0

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._set(self.current)  # whatever the process used before, the search starts from here
        self._start_round()

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._began = self.clock()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        now = self.clock()
        if not self._queue:
            if len(self.sizes) > 1 and now >= self._next_round:
                self._start_round()
            return
        if self._settle > 0:  # the first batches after a switch pay for waking the new team
            self._settle -= 1
            self._window_start = now
            return
        size = self._batch_size(batch)
        self._times.append((now - self._began) / max(size, 1))
        if len(self._times) >= self.min_batches and now - self._window_start >= self.window:
            self.measured[self._queue.pop(0)] = statistics.median(self._times)
            if self._queue:
                self._switch(self._queue[0])
            else:
                self._finish_round(now)

    # ------------------------------------------------------------------ the search
    def _start_round(self) -> None:
        self._queue = list(self.sizes) if len(self.sizes) > 1 else []
        self.measured = {}
        if self._queue:
            self._switch(self._queue[0])
        else:
            self._switch(self.sizes[0])

    def _finish_round(self, now: float) -> None:
        fastest = min(self.measured.values())
        # a bigger team within a few percent of the fastest wins: it has headroom when load drops
        best = max(size for size, seconds in self.measured.items()
                   if seconds <= fastest * (1 + self.prefer_more_within))
        self.rounds += 1
        self._switch(best)
        self._next_round = now + self.interval

    def _switch(self, size: int) -> None:
        self._times = []
        self._settle = self.settle_batches
        self._window_start = self.clock()
        if size != self.current:
            self._set(size)
            self.current = size
            if self.on_change is not None:
                self.on_change(size)

    def _batch_size(self, batch: int) -> int:
        from .callbacks.progbar import batch_samples
        return batch_samples(self.params, batch) or int(self.params.get("batch_size", 1))


def _torch_set_threads(size: int) -> None:
    import torch
    torch.set_num_threads(size)


def apply_threads(threads: int) -> None:
    _torch_set_threads(threads)


__all__ = ["AUTO", "ThreadChoice", "ThreadTuner", "apply_threads", "candidate_sizes", "initial_choice",
           "machine_threads", "parse_threads"]
