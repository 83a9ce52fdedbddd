"""How long analyze() takes on long chains: the editor re-analyses on every edit.

Run: .venv/bin/python tests/bench/bench_analysis.py
Goal (issue #3): under 20 ms for 1000 layers. Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import time

from cnnstudio.core import analyze, sequential


def long_chain(layers: int):
    block = [("Conv2D", {"filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"}),
             ("BatchNorm", {}), ("Dropout", {"rate": 0.1}), ("ReLU", {})]
    body = [block[i % len(block)] for i in range(layers - 3)]
    return sequential([("Input", {"shape": [3, 64, 64]}), *body, ("GlobalAveragePooling2D", {}),
                       ("Dense", {"units": 10, "activation": "softmax"})])


def measure(function, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
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


if __name__ == "__main__":
    main()
