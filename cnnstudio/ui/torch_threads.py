"""Who gets torch's CPU threads in the studio.

Each thread that runs torch operators gets its own OpenMP team. When the UI
thread runs even a small inference (a drawn digit, feature maps after a run)
with the default team size, its team competes with the training thread's for
the cores and later runs train about 20% slower (measured with
tests/bench/bench_ui_latency.py). So the UI thread runs torch on one thread,
and training threads get all of them."""

from __future__ import annotations

_training_threads: int | None = None


def reserve_threads_for_training() -> int:
    """Call on the UI thread before it first runs torch; returns the training thread count."""
    global _training_threads
    import torch
    if _training_threads is None:
        _training_threads = torch.get_num_threads()  # torch's default: the machine's cores
        torch.set_num_threads(1)
    return _training_threads


def use_training_threads() -> None:
    """Call on a training thread: it inherits the UI thread's single thread otherwise."""
    import torch
    if _training_threads is not None:
        torch.set_num_threads(_training_threads)
