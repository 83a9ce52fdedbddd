"""What do the training-health checks cost?  The lecture's network trained with
Trainer.fit, with a HealthCallback and without, side by side: same data, batch
size, steps and seed; runs alternate so drift in the machine's speed hits both.

Run: .venv/bin/python tests/bench/bench_health.py [epochs] [device]
Goal (issue #17): with the checks on, at least 0.97 of the samples/s with them
off.  The checks sample every one of the first 10 batches and then one batch in
25, so a short run pays relatively more than a long one; the figures per epoch
of 6,400 samples (100 batches) are printed.  Prints; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from cnnstudio.core.project import load_project
from cnnstudio.data.registry import load_dataset
from cnnstudio.training.config import TrainConfig
from cnnstudio.training.callbacks import Callback
from cnnstudio.training.health_monitor import DENSE_BATCHES, SAMPLE_INTERVAL, HealthCallback
from cnnstudio.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
NETWORK = load_project(ROOT / "projects" / "lecture_mnist.cnnproj").network
SAMPLES = 6400
BATCH = 64
ROUNDS = 5
FULL_MNIST_STEPS = 844  # 54,000 training samples (a 0.1 validation split) in batches of 64


class BatchClock(Callback):
    """Each batch's time, from its start to the next one's, and whether the health checks
    sampled it: both kinds come from the same run, so a busy machine slows both alike."""

    def __init__(self) -> None:
        super().__init__()
        self.seen, self.last, self.sampled, self.plain = 0, None, [], []

    def on_train_batch_begin(self, batch, logs=None) -> None:
        now = time.perf_counter()
        if self.last is not None:
            index = self.seen - 1
            kind = self.sampled if index < DENSE_BATCHES or index % SAMPLE_INTERVAL == 0 else self.plain
            kind.append(now - self.last)
        self.last = now
        self.seen += 1

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.last = None  # validation and epoch-end work are not a batch's


CLOCKS: list[BatchClock] = []


def samples_per_second(x, y, epochs: int, device: str, health: bool) -> tuple[float, int]:
    clock = BatchClock()
    callbacks = [clock, HealthCallback(np.bincount(y, minlength=10).tolist())] if health else []
    trainer = Trainer(NETWORK, TrainConfig(seed=0, epochs=epochs, batch_size=BATCH, device=device,
                                           optimizer="rmsprop", learning_rate=1e-3), callbacks)
    trainer.fit(x[:BATCH * 2], y[:BATCH * 2], epochs=1, verbose=0)  # warm up kernels and allocator
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    trainer.fit(x, y, verbose=0)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    findings = len(callbacks[1].findings) if health else 0
    CLOCKS.append(clock)
    return SAMPLES * epochs / seconds, findings


def main() -> None:
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    device = sys.argv[2] if len(sys.argv) > 2 else "cpu"
    data = load_dataset("mnist", split="train", subset=SAMPLES, seed=0)
    x, y = data.x, data.y.astype(np.int64)
    print(f"lecture MNIST net, {SAMPLES:,} samples x {epochs} epochs, batch {BATCH}, {device}, "
          f"{torch.get_num_threads()} threads, {ROUNDS} rounds (alternating)")
    off, on, found = [], [], 0
    for round_number in range(ROUNDS):
        order = (False, True) if round_number % 2 == 0 else (True, False)
        for health in order:
            speed, findings = samples_per_second(x, y, epochs, device, health)
            (on if health else off).append(speed)
            found = max(found, findings)
    median_off, median_on = statistics.median(off), statistics.median(on)
    print(f"{'health checks':<16}{'samples/s (median)':>20}{'runs':>40}")
    print(f"{'off':<16}{median_off:>20,.0f}{'  '.join(f'{v:,.0f}' for v in off):>40}")
    print(f"{'on':<16}{median_on:>20,.0f}{'  '.join(f'{v:,.0f}' for v in on):>40}")
    print(f"ratio on/off: {median_on / median_off:.3f} (goal >= 0.97); findings in the healthy run: {found}")
    sampled = statistics.median(t for clock in CLOCKS for t in clock.sampled)
    plain = statistics.median(t for clock in CLOCKS for t in clock.plain)
    print(f"per batch, within the same runs: {plain * 1e3:.1f} ms plain, {sampled * 1e3:.1f} ms sampled "
          f"(+{(sampled / plain - 1):.0%})")
    for steps, what in ((SAMPLES // BATCH * epochs, f"this run ({SAMPLES // BATCH * epochs} batches)"),
                        (FULL_MNIST_STEPS, "one epoch of full MNIST (844 batches)")):
        checked = sum(1 for i in range(steps) if i < DENSE_BATCHES or i % SAMPLE_INTERVAL == 0)
        expected = steps * plain / (steps * plain + checked * (sampled - plain))
        print(f"expected ratio from the per-batch times, {what}: {expected:.3f}")


if __name__ == "__main__":
    main()
