"""The window's own torch work stays small: one thread.

Training runs in a child process with a thread policy of its own
(``cnnstudio.training.threads``).  What the window runs with torch is a single
sample at a time (feature maps of a finished run, a drawn digit), and a team of
as many threads as cores would only compete with a training process for them.
OpenMP teams belong to the thread that calls torch, so this is called on the UI
thread, the first time it is about to run a model."""

from __future__ import annotations

_done = False


def use_one_thread_here() -> None:
    global _done
    if not _done:
        import torch
        torch.set_num_threads(1)
        _done = True
