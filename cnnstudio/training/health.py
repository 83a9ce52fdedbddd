"""Training-health findings: what went wrong in a run, in the lecture's words.

A ``Finding`` names what it concerns (layers, an epoch), shows the numbers it
was judged on, explains the cause and suggests a fix.  The detectors here are
pure functions over numbers that ``health_monitor.HealthCallback`` samples
while the trainer runs (activations, gradient norms, losses), so each rule can
be tested from a handful of figures and reads top-down:

=======================  ==========================================================
``non_finite``           a layer's output (or gradient, or the loss) became inf/NaN
``dead_relu``            most units of a ReLU layer output 0 for every sample
``vanishing_gradients``  the gradient reaching a layer is tiny next to the output's
``exploding_gradients``  ... or huge
``lr_too_high``          the loss rises or jumps around from the start
``no_progress``          the loss does not fall at all in the first epoch
``overfitting``          validation loss rises while training loss falls
``class_imbalance``      the training set's classes are very unbalanced
=======================  ==========================================================

The thresholds are deliberately far from what a healthy run shows (the
lecture's network trained normally produces no finding), so a finding is worth
reading when it appears.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

ERROR, WARNING = "error", "warning"

#: largest class / smallest class at or above which the data count as very unbalanced
IMBALANCE_RATIO = 5.0
#: share of a ReLU layer's units that never fire at or above which the layer is reported
DEAD_SHARE = 0.5
#: a layer's RMS weight gradient below this fraction of the output layer's is vanishing
VANISHING_RATIO = 1e-3
#: ... above this multiple of it, exploding
EXPLODING_RATIO = 1e3
#: a loss this many times its first value (in the first epoch) has risen, not fallen
RISE_FACTOR = 2.0
#: loss swings (up and down) of at least this share of the first loss count as oscillation
SWING_SHARE = 0.3
#: the first epoch's loss must fall by at least this share of its first value
PROGRESS_SHARE = 0.05
#: over-fitting: validation loss this share above its best, for OVERFIT_EPOCHS epochs in a row
OVERFIT_RISE = 0.05
OVERFIT_EPOCHS = 2


@dataclass(frozen=True)
class Finding:
    """One problem seen in a run.

    ``layers`` are the layer names concerned (first the one to look at), ``epoch``
    the 0-based epoch where it began or was seen, ``x`` its place on the plots in
    epochs (1.5: halfway through the second), ``numbers`` the figures it was
    judged on."""

    kind: str
    severity: str
    title: str
    cause: str
    fix: str
    numbers: dict[str, Any] = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    epoch: int | None = None
    x: float | None = None

    @property
    def layer(self) -> str | None:
        return self.layers[0] if self.layers else None

    def numbers_text(self) -> str:
        return ", ".join(f"{key.replace('_', ' ')} {_number(value)}" for key, value in self.numbers.items())

    def text(self) -> str:
        """The whole finding in a few sentences (the CLI's and the Problems list's words)."""
        numbers = self.numbers_text()
        return f"{self.title}" + (f" ({numbers})" if numbers else "") + f". {self.cause} Fix: {self.fix}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["layers"] = list(self.layers)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Finding":
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        known["layers"] = tuple(str(name) for name in known.get("layers", ()))
        known["numbers"] = dict(known.get("numbers") or {})
        return cls(**known)


def _number(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.2e}"
        return f"{value:.4g}"
    return str(value)


def _epoch_words(epoch: int) -> str:
    return f"epoch {epoch + 1}"


# ============================================================================ data

def class_imbalance(counts: Sequence[int], classes: Sequence[str] | None = None) -> Finding | None:
    """The training labels' class counts: very unbalanced when the largest class has at least
    ``IMBALANCE_RATIO`` times the samples of the smallest (or a class has none)."""
    if len(counts) < 2 or sum(counts) == 0:
        return None
    names = list(classes) if classes is not None and len(classes) == len(counts) else [str(i) for i in
                                                                                         range(len(counts))]
    largest = max(range(len(counts)), key=lambda i: counts[i])
    smallest = min(range(len(counts)), key=lambda i: counts[i])
    ratio = counts[largest] / counts[smallest] if counts[smallest] else math.inf
    if ratio < IMBALANCE_RATIO:
        return None
    share = counts[largest] / sum(counts)
    return Finding(
        "class_imbalance", WARNING, "The training classes are very unbalanced",
        f"Class {names[largest]!r} has {counts[largest]:,} samples and class {names[smallest]!r} only "
        f"{counts[smallest]:,}. A network that always answers {names[largest]!r} is already right "
        f"{share:.0%} of the time, so the loss pushes it towards the large classes and the accuracy hides "
        "how badly it does on the small ones.",
        "collect more samples of the rare classes or train on a class-balanced subset (the subset setting), "
        "and judge the run by its per-class accuracy and confusion matrix, not the accuracy alone.",
        {"largest_class": counts[largest], "smallest_class": counts[smallest],
         "ratio": ratio if math.isfinite(ratio) else "no samples"},
        epoch=0, x=0.0)


# ============================================================================ values

def non_finite(layer: str | None, where: str, epoch: int, batch: int, x: float,
               count: int | None = None, total: int | None = None) -> Finding:
    """Infinite or NaN values first appeared in ``where`` (``output``, ``gradient`` or
    ``loss``) of ``layer`` at ``epoch``/``batch`` (0-based)."""
    subject = f"the {where} of layer {layer}" if layer else f"the {where}"
    numbers: dict[str, Any] = {"epoch": epoch + 1, "batch": batch + 1}
    if count is not None and total:
        numbers["non-finite values"] = f"{count:,} of {total:,}"
    return Finding(
        "non_finite", ERROR, f"Infinite or NaN values first appeared in {subject}",
        "A value grew past what a 32-bit float holds (about 3.4e38) and became inf; inf - inf or 0 * inf then "
        "gives NaN, which spreads to every layer after it and to the loss, so the weights are ruined.",
        "lower the learning rate (divide it by 10), scale the inputs to 0..1, add BatchNormalization after "
        "the layer named, and check the data for NaN values.",
        numbers, (layer,) if layer else (), epoch, x)


def dead_relus(dead: Mapping[str, tuple[int, int]], epoch: int) -> list[Finding]:
    """``dead[layer] = (units that never fired, units)`` over the sampled batches of ``epoch``:
    a finding for each ReLU layer where at least ``DEAD_SHARE`` of the units are dead."""
    found = []
    for layer, (silent, units) in dead.items():
        if units and silent / units >= DEAD_SHARE:
            found.append(Finding(
                "dead_relu", WARNING, f"Dead ReLUs in layer {layer}",
                f"{silent} of its {units} units output 0 for every sample checked in {_epoch_words(epoch)}. A ReLU "
                "whose input is negative for every sample outputs 0 and passes no gradient back, so its weights "
                "never change again: the unit is dead and the layer works with fewer units than it has.",
                "lower the learning rate, start the biases at 0 (not negative), use He initialisation, or use "
                "LeakyReLU (a small slope for negative inputs keeps a gradient); BatchNormalization before the "
                "ReLU also helps.",
                {"dead_units": silent, "units": units, "dead_share": f"{silent / units:.0%}"},
                (layer,), epoch, epoch + 1.0))
    return found


def gradient_problems(rms: Mapping[str, float], epoch: int) -> list[Finding]:
    """``rms[layer]``: the root-mean-square gradient of each weighted layer's weights, in
    forward order, the output layer last.  Compared with the output layer's, where the
    gradient starts its way back: a finding for the layers far below (vanishing) and for
    those far above (exploding)."""
    layers = [name for name, value in rms.items() if math.isfinite(value)]
    if len(layers) < 2 or rms[layers[-1]] <= 0:
        return []
    output = layers[-1]
    reference = rms[output]
    ratios = {name: rms[name] / reference for name in layers[:-1]}
    # exactly 0 is no gradient at all, not a small one: ReLUs after the layer are dead (reported as such)
    vanishing = [name for name, ratio in ratios.items() if 0 < ratio < VANISHING_RATIO]
    exploding = [name for name, ratio in ratios.items() if ratio > EXPLODING_RATIO]

    def finding(kind: str, severity: str, concerned: list[str], title_end: str, cause: str, fix: str) -> Finding:
        first = concerned[0]
        more = f" and {len(concerned) - 1} more" if len(concerned) > 1 else ""
        measured = (f"The gradient reaching {first} is {ratios[first]:.1e} times the one at the output layer "
                    f"{output}. ")
        return Finding(kind, severity, f"{kind.split('_')[0].capitalize()} gradients: layer {first}{more}{title_end}",
                       measured + cause, fix,
                       {"layer_gradient": rms[first], "output_gradient": reference, "ratio": ratios[first],
                        "layers_concerned": len(concerned)},
                       tuple(concerned), epoch, epoch + 1.0)

    found = []
    if vanishing:
        found.append(finding(
            "vanishing_gradients", WARNING, vanishing, " hardly learn",
            "On its way back the gradient is multiplied by each layer's derivative; sigmoid's is at most 0.25 "
            "(tanh's at most 1), so after many such layers almost nothing is left and the first layers stop "
            "learning.",
            "use ReLU instead of sigmoid or tanh in the hidden layers, add BatchNormalization, use fewer layers "
            "or residual (Add) connections, and He or Glorot initialisation."))
    if exploding:
        found.append(finding(
            "exploding_gradients", ERROR, exploding, "",
            "On its way back the gradient is multiplied by each layer's weights and derivatives; when these are "
            "larger than 1 it grows layer by layer, and the steps on the first layers become huge.",
            "lower the learning rate, add BatchNormalization, use a smaller initialisation, or clip the "
            "gradient norm."))
    return found


def median_by_layer(samples: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Each layer's median over sampled batches (a single odd batch does not decide), in the
    layer order of the first sample."""
    if not samples:
        return {}
    return {name: statistics.median(sample[name] for sample in samples if name in sample) for name in samples[0]}


# ============================================================================ the loss

def loss_too_high_lr(losses: Sequence[float], positions: Sequence[float], learning_rate: float) -> Finding | None:
    """The sampled losses from the start of the run (each the mean since the previous sample)
    at their places on the plot: too high a learning rate when the loss becomes inf/NaN, rises to
    ``RISE_FACTOR`` times its first value, or jumps up and down by ``SWING_SHARE`` of it
    without falling overall."""
    if len(losses) < 3:
        return None
    first = losses[0]
    if not math.isfinite(first) or first <= 0:
        return None
    numbers: dict[str, Any] = {"learning_rate": learning_rate, "first_loss": first}
    broken = next((i for i, value in enumerate(losses) if not math.isfinite(value)), None)
    peak = max(range(len(losses)), key=lambda i: losses[i] if math.isfinite(losses[i]) else -math.inf)
    swings = _swings(losses, SWING_SHARE * first)
    if broken is not None:
        what, at = f"became {losses[broken]}", broken
        numbers["loss"] = losses[broken]
    elif losses[peak] >= RISE_FACTOR * first:
        what, at = f"rose to {losses[peak]:.4g}", peak
        numbers["highest_loss"] = losses[peak]
    elif swings >= 3 and losses[-1] >= (1.0 - PROGRESS_SHARE) * first:
        what, at = f"jumped up and down {swings} times without falling", len(losses) - 1
        numbers["last_loss"] = losses[-1]
    else:
        return None
    epoch = max(math.ceil(positions[at]) - 1, 0)  # x = 1.0 is the end of the first epoch
    return Finding(
        "lr_too_high", ERROR, f"The learning rate {learning_rate:g} is too high",
        f"From the start the loss {what} instead of falling. Each step moves the weights too far: it jumps "
        "across the valley of the loss and lands higher on the other side, again and again.",
        "divide the learning rate by 10 (the Keras defaults are 0.001 for Adam and RMSprop, 0.01 for SGD) "
        "and train again.",
        numbers, (), epoch, positions[at])


def _swings(values: Sequence[float], least: float) -> int:
    """How often the sequence turns between rising and falling by at least ``least``."""
    turns, direction = 0, 0
    for before, after in zip(values, values[1:]):
        step = after - before
        if abs(step) < least:
            continue
        sign = 1 if step > 0 else -1
        if direction and sign != direction:
            turns += 1
        direction = sign
    return turns


def no_progress(first_loss: float, last_loss: float, accuracy: float, chance_accuracy: float,
                learning_rate: float, epoch: int, scores_are_probabilities: bool = False) -> Finding | None:
    """After the first epoch (with enough batches): the loss fell by less than ``PROGRESS_SHARE`` of its first value
    and the accuracy is no better than twice chance.  ``scores_are_probabilities``: what
    reached the loss already summed to 1 per sample (a softmax before the loss's own)."""
    if not (math.isfinite(first_loss) and math.isfinite(last_loss)) or first_loss <= 0:
        return None
    drop = (first_loss - last_loss) / first_loss
    if drop >= PROGRESS_SHARE or accuracy > 2.0 * chance_accuracy:
        return None
    if scores_are_probabilities:
        cause = ("The scores reaching the loss already sum to 1 for every sample: they went through a softmax "
                 "before the loss applies its own. Squashed twice, every answer looks almost equally likely and "
                 "the gradient is tiny.")
        fix = ("let only the last layer have the softmax (Dense with activation 'softmax'), with no Softmax "
               "layer or softmax activation before it.")
    else:
        cause = ("The loss did not fall and the accuracy stayed near guessing. With too low a learning rate each "
                 "step moves the weights so little that nothing changes; a bug in the network or the data (a "
                 "softmax applied twice, labels that do not match the images) looks the same.")
        fix = ("multiply the learning rate by 10 and train again; if nothing changes, check that only the last "
               "layer has a softmax and that the labels fit the images.")
    return Finding(
        "no_progress", WARNING, f"No progress in {_epoch_words(epoch)}", cause, fix,
        {"learning_rate": learning_rate, "first_loss": first_loss, "last_loss": last_loss,
         "accuracy": accuracy, "chance_accuracy": chance_accuracy},
        (), epoch, epoch + 1.0)


def overfitting(loss: Sequence[float], val_loss: Sequence[float]) -> Finding | None:
    """Per-epoch training and validation losses: over-fitting when the validation loss has
    been at least ``OVERFIT_RISE`` above its best for ``OVERFIT_EPOCHS`` epochs in a row while
    the training loss kept falling.  The finding's epoch is where it began (the one after the
    best validation loss)."""
    count = min(len(loss), len(val_loss))
    if count < OVERFIT_EPOCHS + 1:
        return None
    loss, val_loss = list(loss[:count]), list(val_loss[:count])
    if not all(math.isfinite(v) for v in [*loss, *val_loss]):
        return None
    best = min(range(count), key=lambda i: val_loss[i])
    after = range(best + 1, count)
    if len(after) < OVERFIT_EPOCHS:
        return None
    rising = all(val_loss[i] >= val_loss[best] * (1.0 + OVERFIT_RISE) for i in list(after)[-OVERFIT_EPOCHS:])
    falling = loss[-1] < loss[best]
    if not (rising and falling):
        return None
    began = best + 1
    return Finding(
        "overfitting", WARNING, f"Over-fitting from {_epoch_words(began)}",
        f"The validation loss was lowest after {_epoch_words(best)} ({val_loss[best]:.4f}) and has risen since "
        f"(to {val_loss[-1]:.4f}), while the training loss kept falling ({loss[best]:.4f} to {loss[-1]:.4f}). "
        "The network is learning the training samples by heart instead of what the classes have in common.",
        "use more training data or data augmentation, add Dropout, use fewer parameters, or stop at the best "
        "epoch (EarlyStopping on val_loss with restore_best_weights).",
        {"best_epoch": best + 1, "best_val_loss": val_loss[best], "val_loss_now": val_loss[-1],
         "loss_at_best": loss[best], "loss_now": loss[-1]},
        (), began, float(began))


__all__ = ["DEAD_SHARE", "ERROR", "EXPLODING_RATIO", "Finding", "IMBALANCE_RATIO", "VANISHING_RATIO", "WARNING",
           "class_imbalance", "dead_relus", "gradient_problems", "loss_too_high_lr", "median_by_layer",
           "no_progress", "non_finite", "overfitting"]
