"""Will the network fit? Predicted training memory against what the device has.

The analysis already predicts, from shapes alone, the bytes one training step
keeps: weights, gradients, optimizer state and every layer's activations for the
batch (``Analysis.memory``).  Before a model is built, ``check_training_memory``
compares that with the memory the device has free and refuses a network that
cannot fit, with both figures and the lecture's advice ("reduce the size of the
(mini-)batch; reduce dimensionality by using stride = 2 or larger; remove a few
layers; use float16 rather than float32") made concrete where it can be: the
largest batch that would fit, and whether float16 would.

The prediction leaves out what the framework adds (the input batch, workspaces,
allocator slack), so it errs low: a refusal is certain, a pass is not a promise,
and a real out-of-memory error is still the trainer's to report.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.analysis import BYTES, OPTIMIZER_SLOTS, Analysis, MemoryEstimate
from ..core.summary import human_bytes


class NotEnoughMemoryError(ValueError):
    """The predicted training memory exceeds what the device has; bad input (the network
    or the settings), so the CLI exits 2. ``str()`` is one line with both figures and the advice."""

    def __init__(self, message: str, estimate: MemoryEstimate, available: int, device: str,
                 largest_batch: int) -> None:
        super().__init__(message)
        self.estimate = estimate
        self.predicted = estimate.total
        self.available = available
        self.device = device
        #: the largest batch size that would fit (0: not even one sample)
        self.largest_batch = largest_batch


@dataclass(frozen=True)
class MemoryFit:
    """A check that passed: the prediction and what the device had (None: unknown, not checked)."""

    estimate: MemoryEstimate
    available: int | None
    device: str


def available_memory(device: str) -> int | None:
    """Bytes free for training on ``device`` (``'cpu'``, ``'cuda'``, ``'cuda:N'``, ``'mps'``),
    or None when this machine cannot tell (no such GPU).  The CPU and Apple's MPS, whose
    memory is the machine's, report the RAM available now; CUDA reports the GPU's free memory."""
    kind, _, index = str(device).partition(":")
    if kind in ("cpu", "mps"):
        import psutil

        return int(psutil.virtual_memory().available)
    if kind == "cuda":
        import torch

        if not torch.cuda.is_available():
            return None
        number = int(index) if index else torch.cuda.current_device()
        if not 0 <= number < torch.cuda.device_count():
            return None
        free, _total = torch.cuda.mem_get_info(number)
        return int(free)
    raise ValueError(f"unknown device {device!r}: expected 'cpu', 'cuda', 'cuda:N' or 'mps' "
                     "(resolve 'auto' to one of them first)")


def check_training_memory(analysis: Analysis, batch_size: int, precision: str, device: str, *,
                          optimizer: str = "adam", available: int | None = None) -> MemoryFit:
    """Refuse (``NotEnoughMemoryError``) a training step that cannot fit ``device``.

    ``optimizer`` is a key of ``OPTIMIZER_SLOTS`` (``sgd``, ``sgd_momentum``, ``rmsprop``,
    ``adam``, ``adamw``); ``available`` overrides the measured free bytes (tests, or a
    budget the user sets)."""
    if batch_size < 1:
        raise ValueError(f"the batch size must be at least 1, got {batch_size}")
    if precision not in BYTES:
        raise ValueError(f"unknown precision {precision!r}; known: {', '.join(BYTES)}")
    if optimizer not in OPTIMIZER_SLOTS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZER_SLOTS)}")
    device = str(device)
    estimate = analysis.memory(batch_size, precision, training=True, optimizer=optimizer)
    if available is None:
        available = available_memory(device)
    if available is None or estimate.total <= available:
        return MemoryFit(estimate, available, device)
    largest = _largest_batch(analysis, precision, optimizer, available)
    message = (f"training needs about {human_bytes(estimate.total)} ({_parts(estimate)}; batch {batch_size}, "
               f"{precision}) but {_device_words(device)} has {human_bytes(available)} free. "
               f"{_advice(analysis, batch_size, precision, optimizer, available, device, largest)}")
    raise NotEnoughMemoryError(message, estimate, available, device, largest)


def _largest_batch(analysis: Analysis, precision: str, optimizer: str, available: int) -> int:
    """Activations grow with the batch; weights, gradients and optimizer state do not."""
    one = analysis.memory(1, precision, training=True, optimizer=optimizer)
    fixed = one.total - one.activations
    if fixed > available:
        return 0
    return (available - fixed) // one.activations if one.activations else 1 << 62


def _parts(estimate: MemoryEstimate) -> str:
    fixed = estimate.weights + estimate.gradients + estimate.optimizer_state
    return f"weights, gradients and optimizer state {human_bytes(fixed)}, activations {human_bytes(estimate.activations)}"


def _device_words(device: str) -> str:
    return "the CPU" if device == "cpu" else f"the device {device}"


def _advice(analysis: Analysis, batch_size: int, precision: str, optimizer: str, available: int, device: str,
            largest: int) -> str:
    """The lecture's advice, with the numbers that apply to this network."""
    if largest >= 1:
        options = [f"a smaller batch (at most {largest:,} fits)"]
    else:
        fixed = analysis.memory(1, precision, training=True, optimizer=optimizer)
        options = [f"no batch size fits, as the weights, gradients and optimizer state alone need "
                   f"{human_bytes(fixed.total - fixed.activations)}"]
    options += ["stride 2 or larger in a convolution (smaller feature maps)", "fewer filters or layers"]
    if BYTES[precision] > BYTES["float16"]:
        half = "float16" if device != "cpu" else "bfloat16 (float16 needs a GPU)"
        lower = analysis.memory(batch_size, "float16", training=True, optimizer=optimizer).total
        fits = ", which fits" if lower <= available else ""
        options.append(f"{half} instead of {precision} (about {human_bytes(lower)}{fits})")
    return f"Reduce the memory: {'; '.join(options)}."
