"""How long loading and analysing take as networks grow: the editor re-analyses on
every edit, and a project of thousands of layers must open in seconds.

Run: .venv/bin/python tests/bench/bench_analysis.py [--quick]
Goals: analyze() under 20 ms for 1000 layers (issue #3); load + analyse of 10,000
nodes within about 10x (at most 15x) of 1,000 nodes, for a chain and for one wide
merge (issue #12). Prints figures; asserts nothing.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cnnstudio.core import Network, analyze, sequential
from cnnstudio.core.project import Project, ProjectError, dumps, load_project, save_project


def long_chain(layers: int) -> Network:
    block = [("Conv2D", {"filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"}),
             ("BatchNorm", {}), ("Dropout", {"rate": 0.1}), ("ReLU", {})]
    body = [block[i % len(block)] for i in range(layers - 3)]
    return sequential([("Input", {"shape": [3, 64, 64]}), *body, ("GlobalAveragePooling2D", {}),
                       ("Dense", {"units": 10, "activation": "softmax"})])


def wide_merge(nodes: int, merge: str = "Add") -> Network:
    """Input -> (nodes - 2) parallel 1x1 convolutions -> one Add (or Concatenate) of all of them."""
    network = Network()
    source = network.add_node("Input", {"shape": [8, 16, 16]})
    branches = [network.add_node("Conv2D", {"filters": 8, "kernel_size": 1}, position=(i * 10.0, 110.0))
                for i in range(nodes - 2)]
    joint = network.add_node(merge, position=(0.0, 220.0))
    for branch in branches:
        network.connect(source.id, branch.id)
        network.connect(branch.id, joint.id)
    return network


def measure(function, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def analyse_chains() -> None:
    print(f"{'layers':>7} {'median ms':>10} {'min ms':>8} {'max ms':>8}  (analyze(), {20} runs each)")
    for layers in (10, 100, 300, 1000, 3000):
        network = long_chain(layers)
        assert len(network) == layers
        analysis = analyze(network)
        assert analysis.ok, analysis.errors[:1]
        times = measure(lambda: analyze(network), 20)
        print(f"{layers:>7} {statistics.median(times):>10.2f} {min(times):>8.2f} {max(times):>8.2f}")
    network = long_chain(1000)
    analysis = analyze(network)
    rows = measure(lambda: analysis.footprint_table(analysis.last_spatial_node()), 5)
    print(f"footprint table of a 1000-layer chain: median {statistics.median(rows):.2f} ms")
    median_1000 = statistics.median(measure(lambda: analyze(network), 20))
    print(f"goal: 1000 layers under 20 ms -> {median_1000:.2f} ms ({median_1000 / 20:.2f} of the budget)")


def without_names(text: str) -> str:
    """The same project with every layer name left out: the loader makes them up."""
    document = json.loads(text)
    for node in document["network"]["nodes"]:
        del node["name"]
    return json.dumps(document)


def load_and_analyse(folder: Path, sizes: tuple[int, ...], repeats: int) -> None:
    shapes = {"chain": long_chain, "chain, unnamed": long_chain, "Add of all": wide_merge,
              "Concatenate of all": lambda n: wide_merge(n, "Concatenate")}
    print(f"\nload_project + analyze: fastest of {repeats} (ms; wall clock, and this process's CPU time,")
    print("which other processes on a shared machine disturb less); save_project (ms)")
    print(f"{'shape':<20} {'nodes':>6} {'build':>7} {'save':>7} {'load':>7} {'analyse':>8} "
          f"{'load+an.':>9} {'CPU':>7}")
    totals: dict[str, dict[int, tuple[float, float]]] = {}
    for label, make in shapes.items():
        for size in sizes:
            start = time.perf_counter()
            network = make(size)
            build = (time.perf_counter() - start) * 1000  # edit by edit, as the editor does
            path = folder / f"{label.replace(' ', '_').replace(',', '')}_{size}.cnnproj"
            save = min(measure(lambda: save_project(Project(network), path), repeats))
            if "unnamed" in label:
                path.write_text(without_names(dumps(Project(network))), encoding="utf-8")
            runs = []
            for _ in range(repeats):
                wall, cpu = time.perf_counter(), time.process_time()
                project = load_project(path)
                middle = time.perf_counter()
                analysis = analyze(project.network)
                end = time.perf_counter()
                runs.append(((middle - wall) * 1000, (end - middle) * 1000, (time.process_time() - cpu) * 1000))
            assert analysis.ok, analysis.errors[:1]
            load, analyse, _ = min(runs, key=lambda run: run[0] + run[1])
            cpu = min(run[2] for run in runs)
            totals.setdefault(label, {})[size] = (load + analyse, cpu)
            print(f"{label:<20} {size:>6} {build:>7.0f} {save:>7.0f} {load:>7.0f} {analyse:>8.0f} "
                  f"{load + analyse:>9.0f} {cpu:>7.0f}")
    low, high = min(sizes), max(sizes)
    print(f"\nratio load+analyse {high:,} / {low:,} nodes (linear: {high / low:.0f}; goal under 15): wall, CPU")
    for label, by_size in totals.items():
        print(f"  {label:<20} {by_size[high][0] / by_size[low][0]:6.1f} {by_size[high][1] / by_size[low][1]:6.1f}")


def cycle_refusal(folder: Path, size: int) -> None:
    """A file whose last edge closes a cycle through the whole chain."""
    document = json.loads(dumps(Project(long_chain(size))))
    nodes = document["network"]["nodes"]
    document["network"]["edges"].append({"source": nodes[-2]["id"], "target": nodes[1]["id"]})
    path = folder / "cycle.cnnproj"
    path.write_text(json.dumps(document), encoding="utf-8")
    start = time.perf_counter()
    try:
        load_project(path)
        outcome = "loaded (wrong!)"
    except ProjectError as error:
        outcome = error.problem[:90]
    print(f"\n{size:,}-node chain whose last edge closes a cycle: refused in "
          f"{(time.perf_counter() - start) * 1000:.0f} ms: {outcome}")


def main() -> None:
    quick = "--quick" in sys.argv
    if hasattr(os, "getloadavg"):
        print(f"load average of this machine: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    analyse_chains()
    with tempfile.TemporaryDirectory() as folder:
        load_and_analyse(Path(folder), (1000, 2000) if quick else (1000, 4000, 10000), 1 if quick else 3)
        cycle_refusal(Path(folder), 2000 if quick else 10000)


if __name__ == "__main__":
    main()
