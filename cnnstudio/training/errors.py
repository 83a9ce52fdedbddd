"""The one error type a training run raises for problems the user can act on."""

from __future__ import annotations


class TrainingError(RuntimeError):
    """A run that cannot start or had to end: data that does not fit the network,
    a loss that became NaN, memory that ran out, an unusable device or backup.

    The message says what happened, where (epoch and batch) and what to try.
    When it comes from ``Trainer.fit``, the model's weights are back where they
    were before the call."""


class DataMismatchError(TrainingError, ValueError):
    """The dataset does not fit the network (input shape or class count): bad input
    the user fixes by changing a layer or the dataset, so the CLI exits 2 for it."""
