"""Does the window stay responsive while it trains, and does training in the
window run as fast as the engine alone?

While the studio trains the lecture net on the built-in MNIST, a 10 ms timer
on the UI thread records how late it fires (the event loop's delay): p50 and
p99 (goal p99 under 30 ms). Then the same work (samples, batch, epochs) runs
through Trainer.fit with no window; samples/s of both and their ratio (goal
at least 0.9).

Run: .venv/bin/python tests/bench/bench_ui_latency.py [samples]
Prints; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CNNSTUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="cnnstudio-bench-"))

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "projects" / "lecture_mnist.cnnproj"
TICK_MS = 10


def train_in_window(samples: int) -> tuple[list[float], float, int]:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from cnnstudio.ui.app import make_application
    from cnnstudio.ui.main_window import MainWindow
    from cnnstudio.ui.screenshot import _NoDialogs

    app = make_application()
    window = MainWindow(restore_layout=False)
    window.prompter = _NoDialogs()
    window.resize(1600, 1000)
    window.show()
    window.open_path(PROJECT, ask=False, as_copy=True)
    view = window.show_training()
    view.dataset_box.validation.setValue(0)
    view.dataset_box.subset.setValue(samples)
    view.settings_box.epochs.setValue(1)
    view.settings_box.seed.setValue(0)
    for _ in range(10):
        app.processEvents()

    lateness: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(TICK_MS)
    last = [0.0]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        if last[0]:
            lateness.append(max(0.0, now - last[0] - TICK_MS))
        last[0] = now

    timer.timeout.connect(tick)
    loop = QEventLoop()
    view.runFinished.connect(lambda _status: loop.quit())
    clock.start()
    timer.start()
    view.start()
    loop.exec()
    timer.stop()
    seconds = view.outcome.seconds if view.outcome else float("nan")
    window.document.undo_stack.setClean()
    window.close()
    return lateness, samples / seconds, len(lateness)


def train_alone(samples: int) -> float:
    """The same work through Trainer.fit in a fresh process, as the CLI trains: running it in this
    process would leave a second torch thread team behind that slows the window's later runs."""
    import subprocess
    done = subprocess.run([sys.executable, __file__, "--alone", str(samples)], capture_output=True, text=True,
                          check=True, timeout=600)
    return float(done.stdout.strip().splitlines()[-1])


def _alone(samples: int) -> None:
    from cnnstudio.core.project import load_project
    from cnnstudio.data.builtin import load_mnist
    from cnnstudio.training.config import TrainConfig
    from cnnstudio.training.trainer import Trainer

    data = load_mnist("train", subset=samples, seed=0)
    trainer = Trainer(load_project(PROJECT).network, TrainConfig(epochs=1, seed=0))
    start = time.perf_counter()
    trainer.fit(data.x, data.y)
    print(samples / (time.perf_counter() - start))


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 12800
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(f"lecture net, {samples:,} built-in MNIST samples, batch 64, 1 epoch, {rounds} alternating rounds")
    lateness: list[float] = []
    ratios, in_window, alone = [], [], []
    for _ in range(rounds):  # alternate, so drift in the machine's speed hits both sides
        delays, window_rate, _ticks = train_in_window(samples)
        engine_rate = train_alone(samples)
        lateness += delays
        in_window.append(window_rate)
        alone.append(engine_rate)
        ratios.append(window_rate / engine_rate)
    ordered = sorted(lateness)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"UI event-loop delay of a {TICK_MS} ms timer over {len(ordered)} ticks: p50 {p50:.1f} ms, "
          f"p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms (goal p99 < 30 ms)")
    print(f"training in the window: {', '.join(f'{r:,.0f}' for r in in_window)} samples/s; engine alone: "
          f"{', '.join(f'{r:,.0f}' for r in alone)} samples/s")
    print(f"ratio window / engine: median {statistics.median(ratios):.3f} "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}; goal >= 0.9)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--alone"]:
        _alone(int(sys.argv[2]))
    else:
        main()
