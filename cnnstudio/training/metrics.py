"""Running loss and accuracy without stalling the device.

Reading a number off a GPU (``.item()``) waits for all queued work, so a loop
that does it every batch runs slower than the device could.  ``Totals`` keeps
its sums as tensors on the device and turns them into Python numbers only when
asked: once per epoch, or when a callback actually reads a batch's logs.
``LazyLogs`` is the dict Keras would pass to ``on_train_batch_end``, with
values computed on first read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import torch

METRICS = ("loss", "accuracy")


class Totals:
    """Sums over the batches of one epoch (or one evaluation).

    The loss is summed weighted by batch size, so ``loss`` is the mean over
    samples, like Keras's.  Each update makes new tensors rather than adding in
    place, so logs handed out earlier keep the values of their own batch.
    """

    def __init__(self, device: torch.device | str = "cpu") -> None:
        device = torch.device(device)
        # float64 keeps long sums exact enough; Apple's MPS has no float64
        self.dtype = torch.float32 if device.type == "mps" else torch.float64
        self.loss_sum = torch.zeros((), dtype=self.dtype, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.seen = 0

    def update(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Add one batch: ``loss`` is its mean loss; ``logits`` its scores (N, K)."""
        count = labels.shape[0]
        self.loss_sum = self.loss_sum + loss.detach().to(self.dtype) * count
        self.correct = self.correct + (logits.detach().argmax(dim=1) == labels).sum()
        self.seen += count

    def result(self) -> dict[str, float]:
        """Mean loss and accuracy so far, as floats (one device sync)."""
        return _means(self.loss_sum, self.correct, self.seen)

    def logs(self) -> "LazyLogs":
        """This moment's means as a logs dict that syncs only if read."""
        loss_sum, correct, seen = self.loss_sum, self.correct, self.seen
        cache: dict[str, float] = {}

        def value(name: str) -> Callable[[], float]:
            def compute() -> float:
                if not cache:
                    cache.update(_means(loss_sum, correct, seen))
                return cache[name]
            return compute

        return LazyLogs({name: value(name) for name in METRICS})

    def state_dict(self) -> dict[str, Any]:
        return {"loss_sum": self.loss_sum.detach().cpu(), "correct": self.correct.detach().cpu(), "seen": self.seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        device = self.loss_sum.device
        self.loss_sum = state["loss_sum"].to(device=device, dtype=self.dtype)
        self.correct = state["correct"].to(device=device, dtype=torch.int64)
        self.seen = int(state["seen"])


def _means(loss_sum: torch.Tensor, correct: torch.Tensor, seen: int) -> dict[str, float]:
    if seen == 0:
        return {"loss": float("nan"), "accuracy": float("nan")}
    total_loss, total_correct = torch.stack([loss_sum, correct.to(loss_sum.dtype)]).tolist()
    return {"loss": total_loss / seen, "accuracy": total_correct / seen}


class _Pending:
    """A value not computed yet."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute


class LazyLogs(MutableMapping):
    """A dict whose values may be functions, called (once) on first read.

    Callbacks use it like the plain dict Keras passes: read, write, iterate,
    ``dict(logs)``.  Writing a key replaces any pending value.
    """

    def __init__(self, pending: dict[str, Callable[[], Any]] | None = None) -> None:
        self._items: dict[str, Any] = {key: _Pending(fn) for key, fn in (pending or {}).items()}

    def __getitem__(self, key: str) -> Any:
        value = self._items[key]
        if isinstance(value, _Pending):
            value = self._items[key] = value.compute()
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._items[key] = value

    def __delitem__(self, key: str) -> None:
        del self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        shown = {key: ("<pending>" if isinstance(value, _Pending) else value) for key, value in self._items.items()}
        return f"LazyLogs({shown})"
