"""Live previews (issue 17): the time from an edit to the blocks showing the new preview, on
the lecture net and on ResNet-sized networks (ResNet-18 and ResNet-50 at 3x224x224, as the
templates open them), and how long the UI thread was held meanwhile.

Run: .venv/bin/python tests/bench/bench_preview.py
Figures per network: edit -> thumbnails shown (includes the DELAY_MS debounce), the
worker's compute time (build + weights + one forward pass), the UI thread's work to show the
thumbnails, and the longest the event loop went without turning during the preview (the
window must never wait on a preview).  Prints figures; asserts nothing.
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
sys.path.insert(0, str(ROOT))


def projects():
    from cnnstudio.core.project import load_project
    from cnnstudio.core.templates import get_template
    yield "lecture net (MNIST 1x28x28)", load_project(ROOT / "projects" / "lecture_mnist.cnnproj")
    for key in ("resnet18", "resnet50"):
        yield f"{key} (3x224x224, sample resized)", get_template(key).project()


def edit_to_preview(app, window, repeats: int) -> dict[str, list[float]]:
    """Edit the classifier's units back and forth (a valid edit in every network; the
    preview rebuilds and runs the whole model whatever the edit)."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from cnnstudio.ui.commands import SetParams

    network = window.document.network
    node_id = [node.id for node in network.nodes if node.type == "Dense"][-1]
    figures: dict[str, list[float]] = {"shown": [], "compute": [], "ui_apply": [], "longest_stall": []}
    views = window.preview_views
    original_refresh = views.refresh
    apply_times: list[float] = []

    def timed_refresh() -> None:
        start = time.perf_counter()
        original_refresh()
        apply_times.append((time.perf_counter() - start) * 1000)

    window.previews.changed.disconnect(views.refresh)
    window.previews.changed.connect(timed_refresh)
    units = network.node(node_id).params["units"]
    for index in range(repeats + 1):  # the first one warms up
        ticks = QElapsedTimer()
        ticks.start()
        stalls = [0]

        def tick() -> None:
            stalls[0] = max(stalls[0], ticks.restart())

        heartbeat = QTimer()
        heartbeat.setInterval(2)
        heartbeat.timeout.connect(tick)
        loop = QEventLoop()
        window.previews.changed.connect(loop.quit)
        start = time.perf_counter()
        window.document.push(SetParams(network, node_id, {"units": units + 1 + index % 2}))
        heartbeat.start()
        QTimer.singleShot(120_000, loop.quit)
        loop.exec()
        shown = (time.perf_counter() - start) * 1000
        heartbeat.stop()
        window.previews.changed.disconnect(loop.quit)
        if index:
            assert window.previews.result.preview.ok, window.previews.result.preview.reason
            figures["shown"].append(shown)
            figures["compute"].append(window.previews.result.preview.seconds * 1000)
            figures["ui_apply"].append(apply_times[-1])
            figures["longest_stall"].append(float(stalls[0]))
        app.processEvents()
    return figures


def main() -> None:
    import torch
    from PySide6.QtWidgets import QApplication

    from cnnstudio.ui.main_window import MainWindow
    from cnnstudio.ui.preview.controller import DELAY_MS

    app = QApplication.instance() or QApplication([])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads, {os.cpu_count()} CPUs; "
          f"debounce {DELAY_MS} ms; median (min-max) of the repeats, ms")
    print(f"{'network':38} {'edit->shown':>18} {'compute':>18} {'UI apply':>14} {'longest UI stall':>17}")
    for title, project in projects():
        window = MainWindow(restore_layout=False)
        window.autosave_timer.stop()
        window.show()
        window.open_project(project)
        deadline = time.perf_counter() + 120
        while window.previews.result is None and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.005)
        repeats = 5 if "lecture" in title else 3
        figures = edit_to_preview(app, window, repeats)

        def cell(values: list[float]) -> str:
            return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"

        print(f"{title:38} {cell(figures['shown']):>18} {cell(figures['compute']):>18} "
              f"{cell(figures['ui_apply']):>14} {cell(figures['longest_stall']):>17}")
        window.document.undo_stack.setClean()
        window.close()
        app.processEvents()


if __name__ == "__main__":
    main()
