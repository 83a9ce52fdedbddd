"""The lecture's MNIST experiment through the engine: the lecture net, RMSprop
with Keras's defaults, batch 64, 5 epochs on the built-in MNIST, then the test
accuracy (the lecture reports 0.9908), beside a plain PyTorch loop on the same work.

Run: .venv/bin/python tests/bench/bench_lecture_mnist.py [epochs] [device]
About 10 minutes on 2 CPU cores for both runs. Prints; asserts nothing.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import torch
from torch import nn

from cnnstudio.core.build import build_model
from cnnstudio.core.project import load_project
from cnnstudio.data.builtin import load_mnist
from cnnstudio.training.config import TrainConfig
from cnnstudio.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
NETWORK = load_project(ROOT / "projects" / "lecture_mnist.cnnproj").network


def plain_loop(train, test, epochs: int, device: torch.device) -> tuple[float, float]:
    torch.manual_seed(0)
    model = build_model(NETWORK).to(device)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.from_numpy(train.x).to(device), torch.from_numpy(train.y).to(device)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), device=device)
        for step in range(math.ceil(len(x) / 64)):
            index = order[step * 64:(step + 1) * 64]
            loss = loss_fn(model.logits(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        tx, ty = torch.from_numpy(test.x).to(device), torch.from_numpy(test.y).to(device)
        correct = sum(int((model.logits(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum())
                      for i in range(0, len(tx), 1000))
    return correct / len(tx), seconds


def main() -> None:
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    device = torch.device(sys.argv[2] if len(sys.argv) > 2 else ("cuda" if torch.cuda.is_available() else "cpu"))
    train, test = load_mnist("train"), load_mnist("test")
    samples = epochs * len(train)
    print(f"lecture net on built-in MNIST ({len(train):,} train / {len(test):,} test), RMSprop lr 0.001 rho 0.9, "
          f"batch 64, {epochs} epochs, {device}, torch threads {torch.get_num_threads()}")
    trainer = Trainer(NETWORK, TrainConfig(optimizer="rmsprop", learning_rate=0.001, batch_size=64, epochs=epochs,
                                           seed=0, device=device.type))
    start = time.perf_counter()
    trainer.fit(train.x, train.y)
    seconds = time.perf_counter() - start
    result = trainer.evaluate(test.x, test.y)
    print(f"Trainer.fit : test accuracy {result['accuracy']:.4f} (lecture 0.9908, goal >= 0.990), "
          f"test loss {result['loss']:.4f}, {seconds:.0f} s, {samples / seconds:.0f} samples/s")
    accuracy, plain_seconds = plain_loop(train, test, epochs, device)
    print(f"plain loop  : test accuracy {accuracy:.4f}, {plain_seconds:.0f} s, {samples / plain_seconds:.0f} samples/s")
    print(f"speed ratio Trainer / plain: {plain_seconds / seconds:.3f}")


if __name__ == "__main__":
    main()
