"""``HealthCallback``: samples a running training and turns what it sees into findings.

It looks at a few batches only: every one of the first ``DENSE_BATCHES`` (where
a too-high learning rate shows) and then every ``interval``-th, so the checks
cost a few percent of a batch now and then, not a share of every batch.  On a
sampled batch it

* hooks the model's ``taps`` for that one forward pass: non-finite values per
  layer, which units of each ReLU layer fired, and whether the scores reaching
  the loss are already probabilities (a softmax too many);
* reads each weighted layer's weight gradient after the step (the trainer sets
  gradients to ``None`` only before the next backward, so they are still there
  in ``on_train_batch_end``) as its root-mean-square;
* reads the mean loss since the previous sample from the epoch's running sums
  (one device sync for everything).

At each epoch's end the epoch's samples are judged (dead ReLUs, vanishing or
exploding gradients, no progress, over-fitting); class balance is judged once,
from the counts the caller gives.  Each kind of finding is reported once per
layer through ``listeners`` (functions taking a ``Finding``); ``findings`` keeps
them all.  The rules themselves are in ``training.health``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch

from . import health
from .callbacks.base import Callback
from .health import Finding

#: every one of the run's first batches is sampled: a learning rate that is far too high shows there
DENSE_BATCHES = 10
#: afterwards one batch in this many (a sampled batch costs about half a batch more)
SAMPLE_INTERVAL = 25
#: "no progress" is judged at the first epoch end with at least this many batches trained
PROGRESS_BATCHES = 20
#: the layer types and activations whose units can die
RELU_TYPES = ("ReLU", "ReLU6")
RELU_ACTIVATIONS = ("relu", "relu6")


class HealthCallback(Callback):
    """Watches a run for the problems ``training.health`` describes.

    ``class_counts`` (and ``classes``, their names) are the training labels' counts, for
    the class-balance check; ``interval`` is how many batches apart the checks are after
    the first ``DENSE_BATCHES``; ``listeners`` hear each finding as it is made."""

    hook_order = 0  # before History, with the epoch's logs as the trainer made them

    def __init__(self, class_counts: Sequence[int] | None = None, classes: Sequence[str] | None = None,
                 interval: int = SAMPLE_INTERVAL,
                 listeners: Sequence[Callable[[Finding], None]] = ()) -> None:
        super().__init__()
        if interval < 1:
            raise ValueError(f"interval must be at least 1 batch, not {interval}")
        self.class_counts = [int(count) for count in class_counts] if class_counts is not None else None
        self.classes = list(classes) if classes is not None else None
        self.interval = interval
        self.listeners = list(listeners)
        self._reset()

    def _reset(self) -> None:
        """A fresh start for each ``fit`` (a backup's state, if any, is loaded after this)."""
        self.findings: list[Finding] = []
        self._reported: set[tuple[str, str]] = set()
        self._batches = 0                     # training batches seen in this run
        self._handles: list[Any] = []
        self._stats: dict[str, Any] = {}      # the hooked pass's tensors, by (what, layer)
        self._alive: dict[str, torch.Tensor] = {}
        self._gradients: list[dict[str, float]] = []
        self._loss_mark: tuple[int, float, int] = (0, 0.0, 0)   # epoch, loss sum, samples at the last read
        self._start_losses: list[float] = []
        self._start_positions: list[float] = []
        self._probabilities = False
        self._last_loss = math.nan
        self._progress_judged = False
        self._epoch_losses: list[float] = []
        self._val_losses: list[float] = []
        self._epoch = 0

    # ------------------------------------------------------------------ setup
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()
        model = self.trainer.model
        self._layers = [name for name in model.layer_names if name in model.taps._modules]
        self._relus = set(relu_layers(self.trainer.network)) & set(self._layers)
        self._weights = weighted_layers(model)
        self._output = self._layers[-1] if self._layers else None
        self._steps = max(1, int(self.params.get("steps", 1)))
        if self.class_counts is not None:
            self._report(health.class_imbalance(self.class_counts, self.classes))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._alive.clear()
        self._gradients.clear()

    def _sampled(self) -> bool:
        return self._batches < DENSE_BATCHES or self._batches % self.interval == 0

    # ------------------------------------------------------------------ a sampled batch
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self._sampled():
            self._hook()

    def _hook(self) -> None:
        taps = self.trainer.model.taps._modules
        self._stats = {}

        def watch(name: str):
            def hook(_module, _inputs, output):
                if not isinstance(output, torch.Tensor):
                    return
                value = output.detach()
                # one pass: a sum is inf or NaN exactly when a value is (short of 1e38-sized values
                # adding up past float32, which is blowing up too); the values are counted only then
                # (summed in float32: a float16 sum of a large activation overflows on its own)
                self._stats[("bad", name)] = ~torch.isfinite(value.sum(dtype=torch.float32))
                self._stats[("value", name)] = value
                if name in self._relus and value.dim() >= 2:  # a unit is a channel (or a Dense unit)
                    peaks = value.amax(dim=0)
                    self._stats[("alive", name)] = (peaks.flatten(1).amax(dim=1) if peaks.dim() > 1 else peaks) > 0
                if name == self._output and value.dim() == 2:
                    sums = value.float().sum(dim=1)
                    self._stats[("probabilities", name)] = (value.min() >= 0) & ((sums - 1).abs().max() < 1e-3)
            return hook

        self._handles = [taps[name].register_forward_hook(watch(name)) for name in self._layers]

    def _unhook(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        sampled = bool(self._handles)
        self._unhook()
        self._batches += 1
        last = batch + 1 >= self._steps
        if sampled or last:  # the epoch's last batch ends the loss window, for the epoch-end checks
            self._read(batch, sampled)
        self._stats = {}

    def _read(self, batch: int, sampled: bool) -> None:
        totals = self.trainer.position.totals
        stats = self._stats if sampled else {}
        names = [key for key in stats if key[0] in ("bad", "probabilities")]
        gradients = [(name, weight.grad) for name, weight in self._weights if weight.grad is not None] \
            if sampled else []
        scalars = [totals.loss_sum] if totals is not None else []
        scalars += [stats[key] for key in names]
        scalars += [grad.detach().double().pow(2).mean().sqrt() if grad.device.type != "mps"
                    else grad.detach().float().pow(2).mean().sqrt() for _, grad in gradients]
        dtype = torch.float32 if self.trainer.device.type == "mps" else torch.float64
        values = torch.stack([value.to(dtype) for value in scalars]).tolist() if scalars else []
        x = self._epoch + (batch + 1) / self._steps
        loss = self._window_loss(values.pop(0), totals.seen) if totals is not None else None
        read = dict(zip(names, values[:len(names)]))
        rms = dict(zip([name for name, _ in gradients], values[len(names):]))
        if sampled:
            for key, alive in stats.items():
                if key[0] == "alive":
                    seen = self._alive.get(key[1])
                    self._alive[key[1]] = alive if seen is None or seen.shape != alive.shape else seen | alive
            self._probabilities = self._probabilities or bool(read.get(("probabilities", self._output), False))
            self._judge_values(read, rms, batch, x)
            if all(math.isfinite(value) for value in rms.values()):
                self._gradients.append(rms)
        if loss is not None:  # after the layers: a broken layer explains a broken loss, not the other way
            self._judge_loss(loss, x, batch)

    def _window_loss(self, loss_sum: float, seen: int) -> float | None:
        """The mean loss of the batches since the previous read (in this epoch)."""
        epoch, mark_sum, mark_seen = self._loss_mark
        if epoch != self._epoch:
            mark_sum, mark_seen = 0.0, 0
        self._loss_mark = (self._epoch, loss_sum, seen)
        if seen <= mark_seen:
            return None
        return (loss_sum - mark_sum) / (seen - mark_seen)

    # ------------------------------------------------------------------ judging
    def _judge_loss(self, loss: float, x: float, batch: int) -> None:
        self._last_loss = loss
        if self._epoch == 0 or len(self._start_losses) < 3:  # "from the start": the first epoch
            self._start_losses.append(loss)
            self._start_positions.append(x)
            self._report(health.loss_too_high_lr(self._start_losses, self._start_positions,
                                                 self.trainer.learning_rate))
        if not math.isfinite(loss) and not self._reported_kind("non_finite"):
            self._report(health.non_finite(None, "loss", self._epoch, batch, x))

    def _judge_values(self, read: dict, rms: dict[str, float], batch: int, x: float) -> None:
        if self._reported_kind("non_finite"):
            return
        for name in self._layers:  # forward order: the first layer whose output broke
            if read.get(("bad", name)):
                value = self._stats[("value", name)]
                self._report(health.non_finite(name, "output", self._epoch, batch, x,
                                               int((~torch.isfinite(value)).sum()), value.numel()))
                return
        broken = [name for name, value in rms.items() if not math.isfinite(value)]
        if broken:  # backward order: the gradient breaks first near the output
            self._report(health.non_finite(broken[-1], "gradient", self._epoch, batch, x))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        dead = {name: (int((~alive).sum()), int(alive.numel())) for name, alive in self._alive.items()}
        for finding in health.dead_relus({name: dead[name] for name in self._layers if name in dead}, epoch):
            self._report(finding)
        for finding in health.gradient_problems(health.median_by_layer(self._gradients), epoch):
            self._report(finding)
        if not self._progress_judged and self._batches >= PROGRESS_BATCHES and self._start_losses \
                and "accuracy" in logs:  # judged once, at the first epoch end with enough batches behind it
            self._progress_judged = True
            if not self._reported_kind("lr_too_high"):
                self._report(health.no_progress(self._start_losses[0], self._last_loss, float(logs["accuracy"]),
                                                self._chance_accuracy(), self.trainer.learning_rate, epoch,
                                                self._probabilities))
        if "loss" in logs and "val_loss" in logs:
            self._epoch_losses.append(float(logs["loss"]))
            self._val_losses.append(float(logs["val_loss"]))
            self._report(health.overfitting(self._epoch_losses, self._val_losses))

    def _chance_accuracy(self) -> float:
        """What always answering the largest class scores."""
        counts = self.class_counts
        if counts and sum(counts):
            return max(counts) / sum(counts)
        return 1.0 / max(1, int(self.trainer.num_classes))

    def on_train_end(self, logs: dict | None = None) -> None:
        self._unhook()

    def on_exception(self, exception: BaseException) -> None:
        """A run that fails (a NaN loss ended it) still says what was seen; the failing
        batch's loss is read from the epoch's running sums."""
        self._unhook()
        totals = self.trainer.position.totals if self.trainer is not None else None
        if totals is None or totals.seen == 0:
            return
        loss_sum = float(totals.loss_sum)
        if not math.isfinite(loss_sum):
            batch = max(0, self.trainer.position.step - 1)
            self._judge_loss(loss_sum, self._epoch + (batch + 1) / self._steps, batch)

    # ------------------------------------------------------------------ reporting
    def _reported_kind(self, kind: str) -> bool:
        return any(key[0] == kind for key in self._reported)

    def _report(self, finding: Finding | None) -> None:
        if finding is None:
            return
        key = (finding.kind, finding.layer or "")
        if key in self._reported or (not finding.layers and self._reported_kind(finding.kind)):
            return
        self._reported.add(key)
        self.findings.append(finding)
        for listener in self.listeners:
            listener(finding)

    def state_dict(self) -> dict[str, Any]:
        return {"findings": [finding.to_json() for finding in self.findings], "loss": list(self._epoch_losses),
                "val_loss": list(self._val_losses), "start_losses": list(self._start_losses),
                "start_positions": list(self._start_positions), "batches": self._batches,
                "last_loss": self._last_loss, "progress_judged": self._progress_judged}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.findings = [Finding.from_json(data) for data in state.get("findings", [])]
        self._reported = {(finding.kind, finding.layer or "") for finding in self.findings}
        self._epoch_losses = [float(v) for v in state.get("loss", [])]
        self._val_losses = [float(v) for v in state.get("val_loss", [])]
        self._start_losses = [float(v) for v in state.get("start_losses", [])]
        self._start_positions = [float(v) for v in state.get("start_positions", [])]
        self._batches = int(state.get("batches", 0))
        self._last_loss = float(state.get("last_loss", math.nan))
        self._progress_judged = bool(state.get("progress_judged", False))


def relu_layers(network: Any) -> list[str]:
    """The names of the layers whose output passes through a ReLU (a ReLU layer, or a layer
    with ``activation='relu'``), whose units can therefore die."""
    return [node.name for node in network.nodes
            if node.type in RELU_TYPES or (node.params or {}).get("activation") in RELU_ACTIVATIONS]


def weighted_layers(model: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
    """``(layer name, weight)`` of each layer with a weight matrix or kernel, in forward order
    (biases and normalisation scales left out: their gradients are not on the same scale)."""
    found = []
    for name in model.layer_names:
        module = model._modules.get(name)
        if module is None:
            continue
        weight = getattr(module, "weight", None)
        if isinstance(weight, torch.nn.Parameter) and weight.dim() >= 2 and weight.requires_grad:
            found.append((name, weight))
    return found


__all__ = ["DENSE_BATCHES", "HealthCallback", "SAMPLE_INTERVAL", "relu_layers", "weighted_layers"]
