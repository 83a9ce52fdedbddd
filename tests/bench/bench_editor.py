"""Editor responsiveness: parameter edit -> repainted canvas and summary, opening a
ResNet-50 project, and the time from `python main.py` to the window shown.

Run: .venv/bin/python tests/bench/bench_editor.py
Goals: an edit under 16 ms (one frame) on the lecture net, on a 300-block network
(issue #4) and on ResNet-50 as it opens (grouped) and with every group expanded
(issue #16); opening a ResNet-50 project under 1 s (#16); startup under 1.5 s (#4).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CNNSTUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="cnnstudio-bench-"))

ROOT = Path(__file__).resolve().parents[2]


def edit_latency(window, app, node_id: str, repeats: int = 30) -> list[float]:
    """Push a parameter edit and wait until canvas and summary have repainted."""
    from cnnstudio.ui.commands import SetParams
    network = window.document.network
    times = []
    for index in range(repeats):
        filters = 16 + (index % 2) * 16
        start = time.perf_counter()
        window.document.push(SetParams(network, node_id, {"filters": filters}))
        app.processEvents()
        window.view.viewport().repaint()
        window.summary.table.viewport().repaint()
        times.append((time.perf_counter() - start) * 1000)
    return times


def big_network(blocks: int):
    from cnnstudio.core.layout import tidy_positions
    from cnnstudio.core.network import sequential
    from cnnstudio.core.project import Project
    body = [("Conv2D", {"filters": 16, "padding": "same", "activation": "relu"}), ("BatchNorm", {}),
            ("ReLU", {})]
    network = sequential([("Input", {"shape": [3, 64, 64]}), *[body[i % 3] for i in range(blocks - 3)],
                          ("GlobalAveragePooling2D", {}), ("Dense", {"units": 10})])
    network.move(tidy_positions(network))
    return Project(network)


def resnet50(expanded: bool):
    """ResNet-50 as File > New from Template opens it (stages collapsed), or with every group open."""
    from cnnstudio.core.group_layout import expand_moves
    from cnnstudio.core.templates import get_template
    project = get_template("resnet50").project()
    network = project.network
    if expanded:
        opened = True
        while opened:  # outer groups first, so each opens into the room its parent made
            opened = False
            for group in network.groups:
                if group.collapsed and network.groups.group_hidden_in(group.id) is None:
                    network.move(expand_moves(network, group.id))
                    network.set_groups(network.groups.with_collapsed(group.id, False))
                    opened = True
                    break
    return project


def open_times(window, app, path: Path, repeats: int = 5) -> list[float]:
    """File > Open of ``path`` until the canvas and summary have painted."""
    times = []
    for _ in range(repeats):
        window.new_project()
        app.processEvents()
        start = time.perf_counter()
        window.open_path(path, ask=False)
        app.processEvents()
        window.view.viewport().repaint()
        window.summary.table.viewport().repaint()
        times.append((time.perf_counter() - start) * 1000)
    return times


def startup_times(runs: int = 3, project: Path | None = None) -> list[float]:
    env = dict(os.environ, CNNSTUDIO_EXIT_AFTER_SHOW="1")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *([str(project)] if project else [])],
                                   env=env, stdout=subprocess.PIPE, text=True)
        line = process.stdout.readline()
        shown = time.perf_counter()
        process.wait(timeout=60)
        if "window shown" in line:
            times.append((shown - start) * 1000)
    return times


def main() -> None:
    from cnnstudio.core.project import load_project
    from cnnstudio.ui.app import make_application
    from cnnstudio.ui.main_window import MainWindow

    app = make_application()
    window = MainWindow(restore_layout=False)
    window.resize(1600, 1000)
    window.show()
    cases = [("lecture net (9 blocks)", load_project(ROOT / "projects" / "lecture_mnist.cnnproj")),
             ("300-block chain", big_network(300)),
             ("ResNet-50 grouped", resnet50(expanded=False)),
             ("ResNet-50 expanded", resnet50(expanded=True))]
    print(f"{'network':<24} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}  (edit -> repainted canvas + summary)")
    for label, project in cases:
        window.document.replace_project(project, None)
        window.view.show_network()
        app.processEvents()
        conv = next(n.id for n in project.network.nodes if n.type == "Conv2D")
        times = sorted(edit_latency(window, app, conv))
        print(f"{label:<24} {statistics.median(times):>10.2f} {times[int(len(times) * 0.9)]:>8.2f} "
              f"{times[-1]:>8.2f}   goal 16 ms -> {statistics.median(times) / 16:.2f} of a frame")
    folder = Path(tempfile.mkdtemp(prefix="cnnstudio-bench-r50-"))
    from cnnstudio.core.project import save_project
    for label, expanded in (("grouped", False), ("expanded", True)):
        path = folder / f"resnet50_{label}.cnnproj"
        save_project(resnet50(expanded), path)
        window.document.undo_stack.setClean()
        times = sorted(open_times(window, app, path))
        print(f"open ResNet-50 ({label}, {path.stat().st_size // 1024} KB) -> painted: median "
              f"{statistics.median(times):.0f} ms, max {times[-1]:.0f} ms (goal 1000 ms)")
    window.document.undo_stack.setClean()
    window.close()
    times = startup_times()
    if times:
        print(f"python main.py -> window shown: median {statistics.median(times):.0f} ms over {len(times)} runs "
              f"(goal 1500 ms); torch imported at startup: {torch_imported_at_startup()}")
    times = startup_times(project=folder / "resnet50_grouped.cnnproj")
    if times:
        print(f"python main.py resnet50.cnnproj -> window shown with it open: median "
              f"{statistics.median(times):.0f} ms over {len(times)} runs")


def torch_imported_at_startup() -> bool:
    code = ("import os; os.environ['QT_QPA_PLATFORM']='offscreen'; import sys; "
            "from cnnstudio.ui.app import make_application; app = make_application(); "
            "from cnnstudio.ui.main_window import MainWindow; w = MainWindow(restore_layout=False); w.show(); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return out.stdout.strip().endswith("True")


if __name__ == "__main__":
    main()
