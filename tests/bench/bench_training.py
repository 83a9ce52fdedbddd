"""Does the engine add anything a careful loop would not?  Trainer.fit (with
CSVLogger, ModelCheckpoint and a feature-map probe every 50 batches) against a
minimal hand-written PyTorch loop: same network, data, batch size and steps.

Run: .venv/bin/python tests/bench/bench_training.py [steps] [device]
Goal (issue #5): Trainer at least 0.95 of the plain loop's samples/s. Runs
alternate so drift in the machine's speed hits both. Prints; asserts nothing.
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from cnnstudio.core.build import build_model
from cnnstudio.core.project import load_project
from cnnstudio.training.callbacks import Callback, CSVLogger, ModelCheckpoint
from cnnstudio.training.config import TrainConfig
from cnnstudio.training.probes import FeatureMapProbe
from cnnstudio.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
NETWORK = load_project(ROOT / "projects" / "lecture_mnist.cnnproj").network
BATCH = 64
ROUNDS = 6


class ProbeEvery(Callback):
    """What the studio does while training: sample feature maps every N batches."""

    def __init__(self, every: int, sample: torch.Tensor) -> None:
        super().__init__()
        self.every, self.sample, self.captures = every, sample, 0

    def on_train_batch_end(self, batch, logs=None) -> None:
        if batch % self.every == 0:
            FeatureMapProbe(self.model, ["conv2d_1", "conv2d_2"]).capture(self.sample)
            self.captures += 1


def plain_loop(x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    torch.manual_seed(0)
    model = build_model(NETWORK).to(device)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    x, y = x.to(device), y.to(device)
    model.train()
    start = time.perf_counter()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0)).to(device)
    for step in range(math.ceil(len(x) / BATCH)):
        index = order[step * BATCH:(step + 1) * BATCH]
        loss = loss_fn(model.logits(x[index]), y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(x) / (time.perf_counter() - start)


def engine(x: torch.Tensor, y: torch.Tensor, device: torch.device, folder: Path) -> float:
    callbacks = [CSVLogger(folder / "log.csv"), ModelCheckpoint(folder / "ckpt-{epoch:02d}.pt", monitor="loss"),
                 ProbeEvery(50, x[:8])]
    trainer = Trainer(NETWORK, TrainConfig(seed=0, epochs=1, batch_size=BATCH, device=device.type), callbacks)
    start = time.perf_counter()
    trainer.fit(x, y)
    return len(x) / (time.perf_counter() - start)


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    device = torch.device(sys.argv[2] if len(sys.argv) > 2 else ("cuda" if torch.cuda.is_available() else "cpu"))
    generator = torch.Generator().manual_seed(1)
    x = torch.rand((steps * BATCH, 1, 28, 28), generator=generator)
    y = torch.randint(0, 10, (steps * BATCH,), generator=generator)
    print(f"lecture net, {steps} steps of batch {BATCH} on {device}, torch threads {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as folder:
        plain_loop(x[:BATCH * 20], y[:BATCH * 20], device)  # warm up kernels and allocators
        engine(x[:BATCH * 20], y[:BATCH * 20], device, Path(folder))
        plain, ours = [], []
        for round_ in range(ROUNDS):  # alternate the order too, so neither side always runs second
            pair = [lambda: plain.append(plain_loop(x, y, device)),
                    lambda: ours.append(engine(x, y, device, Path(folder)))]
            for run in (pair if round_ % 2 == 0 else pair[::-1]):
                run()
    p, o = statistics.median(plain), statistics.median(ours)
    paired = statistics.median(b / a for a, b in zip(plain, ours))
    print(f"plain PyTorch loop        {p:8.0f} samples/s  (runs: {', '.join(f'{v:.0f}' for v in plain)})")
    print(f"Trainer.fit + callbacks   {o:8.0f} samples/s  (runs: {', '.join(f'{v:.0f}' for v in ours)})")
    print(f"ratio Trainer / plain: {o / p:.3f} of the medians, {paired:.3f} median of paired rounds "
          "(goal >= 0.95)")


if __name__ == "__main__":
    main()
