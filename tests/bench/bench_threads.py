"""Does the thread policy hold up when the machine is not idle?

The lecture net trains on the built-in MNIST through the training session
(``python -m cnnstudio train``, threads ``auto``) and through a plain PyTorch
loop at one thread and at every thread, each in a process of its own, first with
one core kept busy by another process (a spinning Python), then with the
machine idle.  Goals (issue 10): under load, the session at least 0.9 of the
better plain loop; idle, at least 0.97 of torch's default (the session with the
default team size fixed, and the plain loop at every thread, are both shown).
Variants alternate within each round; the median of the rounds is printed.

Run: .venv/bin/python tests/bench/bench_threads.py [samples] [rounds]
Prints; asserts nothing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "projects" / "lecture_mnist.cnnproj"
BATCH = 64


def plain_loop(samples: int, threads: int) -> float:
    """A careful hand-written loop: samples per second over one epoch."""
    import torch
    from torch import nn

    from cnnstudio.core.build import build_model
    from cnnstudio.core.project import load_project
    from cnnstudio.data.builtin import load_mnist

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = load_mnist("train", subset=samples, seed=0)
    x, y = torch.from_numpy(data.x), torch.from_numpy(data.y)
    model = build_model(load_project(PROJECT).network)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(samples)
    start = time.perf_counter()
    for first in range(0, samples, BATCH):
        index = order[first:first + BATCH]
        loss = loss_fn(model.logits(x[index]), y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return samples / (time.perf_counter() - start)


def session_run(samples: int, threads: str, folder: Path, environment: dict) -> float:
    from cnnstudio.training.run_folder import read_record

    subprocess.run([sys.executable, "-m", "cnnstudio", "train", str(PROJECT), "--subset", str(samples),
                    "--validation-split", "0", "--epochs", "1", "--seed", "0", "--threads", threads,
                    "--out", str(folder)], capture_output=True, text=True, check=True, timeout=900,
                   env=environment)
    return read_record(folder).timing["samples_per_second"]


def in_child(samples: int, threads: int, environment: dict) -> float:
    done = subprocess.run([sys.executable, __file__, "--plain", str(samples), str(threads)], capture_output=True,
                          text=True, check=True, timeout=900, env=environment)
    return float(done.stdout.strip().splitlines()[-1])


def busy_core() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 6400
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    from cnnstudio.training.threads import machine_threads
    cores = machine_threads()
    scratch = Path(tempfile.mkdtemp(prefix="cnnstudio-bench-threads-"))
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    passive = {**environment, "OMP_WAIT_POLICY": "PASSIVE"}
    print(f"lecture net, {samples:,} samples, batch {BATCH}, 1 epoch, {cores} cores, {rounds} rounds")
    results: dict[str, dict[str, list[float]]] = {"busy core": {}, "idle": {}}
    counter = 0
    for _ in range(rounds):
        for load in ("busy core", "idle"):
            spinner = busy_core() if load == "busy core" else None
            try:
                time.sleep(0.5)
                variants = {
                    "session auto": lambda: session_run(samples, "auto", scratch / f"r{counter}a", environment),
                    "session auto, OMP passive": lambda: session_run(samples, "auto", scratch / f"r{counter}p",
                                                                     passive),
                    f"session fixed {cores} (torch default)": lambda: session_run(samples, str(cores),
                                                                                  scratch / f"r{counter}f",
                                                                                  environment),
                    "plain loop, 1 thread": lambda: in_child(samples, 1, environment),
                    f"plain loop, {cores} threads": lambda: in_child(samples, cores, environment),
                }
                for name, run in variants.items():
                    results[load].setdefault(name, []).append(run())
                counter += 1
            finally:
                if spinner is not None:
                    spinner.kill()
                    spinner.wait()
    medians = {load: {name: statistics.median(values) for name, values in table.items()}
               for load, table in results.items()}
    for load, table in medians.items():
        print(f"\n{load}:")
        for name, value in table.items():
            rounds_text = ", ".join(f"{v:,.0f}" for v in results[load][name])
            print(f"  {name:<40} {value:8,.0f} samples/s  ({rounds_text})")
    busy, idle = medians["busy core"], medians["idle"]
    best_plain = max(busy["plain loop, 1 thread"], busy[f"plain loop, {cores} threads"])
    print(f"\nbusy core: session auto / better plain loop = {busy['session auto'] / best_plain:.3f} (goal >= 0.9); "
          f"with OMP passive {busy['session auto, OMP passive'] / best_plain:.3f}")
    print(f"idle: session auto / session at torch's default = "
          f"{idle['session auto'] / idle[f'session fixed {cores} (torch default)']:.3f} (goal >= 0.97); "
          f"/ plain loop at {cores} threads = {idle['session auto'] / idle[f'plain loop, {cores} threads']:.3f}")
    print(json.dumps({"medians": medians}, indent=None))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--plain"]:
        print(plain_loop(int(sys.argv[2]), int(sys.argv[3])))
    else:
        main()
