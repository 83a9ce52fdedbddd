"""Looking inside a model: feature maps, first-layer filters, and where it goes wrong.

``FeatureMapProbe`` reads layer outputs through forward hooks on the model's
``taps`` (the identity modules ``core.build`` puts after every layer, so a
layer's output is seen after its activation).  It never copies the model, and
it is cheap enough to call between training batches: hooks exist only during
``capture``, the pass runs under ``torch.no_grad()`` in eval mode, and every
module's train/eval mode is restored afterwards, so training goes on exactly as
before.  Results are float32 NumPy copies on the CPU, safe to hand to another
thread.

The rest is plain NumPy over labels and predictions: per-class accuracy, the
confusion matrix (rows are the true classes, as in scikit-learn), and the
mistakes the model was most sure of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, NamedTuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch


class FeatureMapProbe:
    """Capture chosen layers' outputs of a built model (``core.build.build_model``).

    ``capture(x)`` returns ``{layer name: array}`` with one entry per requested
    layer in the order given: ``(N, C, H, W)`` for image layers (one map per
    channel), ``(N, F)`` for flat ones.  A model wrapped by
    ``DistributedDataParallel`` or ``torch.compile`` is probed through the model
    it wraps.
    """

    def __init__(self, model: "torch.nn.Module", layer_names: Iterable[str]) -> None:
        self.model = _unwrap(model)
        taps = getattr(self.model, "taps", None)
        if taps is None:
            raise TypeError("FeatureMapProbe needs a model from cnnstudio.core.build.build_model (it has taps)")
        self.layer_names = list(dict.fromkeys(layer_names))  # keep order, drop repeats
        known = dict(taps.named_children())
        unknown = [name for name in self.layer_names if name not in known]
        if unknown:
            raise KeyError(f"no layer named {unknown[0]!r} in the model; its layers are: {', '.join(known)}")
        self._taps = [known[name] for name in self.layer_names]

    def capture(self, x: "torch.Tensor | np.ndarray") -> dict[str, np.ndarray]:
        """Run ``x`` (a batch) through the model and return the chosen layers' outputs."""
        import torch

        model = self.model
        parameter = next(model.parameters(), None)
        x = torch.as_tensor(x)
        if parameter is not None:
            x = x.to(parameter.device, parameter.dtype) if x.is_floating_point() else x.to(parameter.device)
        captured: dict[str, np.ndarray] = {}

        def keep(name: str):
            def hook(_module, _inputs, output):
                captured[name] = output.detach().to("cpu", torch.float32).numpy().copy()
            return hook

        modes = [(module, module.training) for module in model.modules()]
        handles = [tap.register_forward_hook(keep(name)) for name, tap in zip(self.layer_names, self._taps)]
        try:
            model.eval()
            with torch.no_grad():
                model(x)
        finally:
            for handle in handles:
                handle.remove()
            for module, training in modes:
                module.training = training
        return {name: captured[name] for name in self.layer_names}


def _unwrap(model: "torch.nn.Module") -> "torch.nn.Module":
    """The model inside ``torch.compile`` (``_orig_mod``) and DDP (``module``) wrappers."""
    while True:
        children = model._modules
        if "_orig_mod" in children:  # checked first: a compiled module forwards attribute lookups
            model = children["_orig_mod"]
        elif "taps" not in children and "module" in children:
            model = children["module"]
        else:
            return model


def first_layer_filters(model: "torch.nn.Module") -> np.ndarray:
    """The first 2-D convolution's kernels as float32 ``(out, in, kh, kw)``.

    "First" follows the layer order of a built model (``model.layer_names``), else
    module registration order.  ``in`` is per group for grouped convolutions.
    Raises ``ValueError`` when the model has no 2-D convolution.
    """
    from torch import nn

    model = _unwrap(model)
    candidates = []
    for name in getattr(model, "layer_names", []):
        layer = getattr(model, name, None)
        if isinstance(layer, nn.Module):
            candidates.append(layer)
    candidates.append(model)
    for candidate in candidates:
        for module in candidate.modules():
            if isinstance(module, nn.Conv2d):
                return module.weight.detach().to("cpu").float().numpy().copy()
    raise ValueError("the model has no Conv2D layer, so it has no filters to show")


# ---------------------------------------------------------------------- predictions (NumPy)

class Mistake(NamedTuple):
    """A wrong prediction: sample ``index``, its ``true`` and ``predicted`` classes, and the
    probability the model gave its prediction."""

    index: int
    true: int
    predicted: int
    confidence: float


def _labels(values, num_classes: int, what: str) -> np.ndarray:
    array = np.asarray(values).reshape(-1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError(f"{what} must be whole class numbers")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        bad = array[(array < 0) | (array >= num_classes)][0]
        raise ValueError(f"{what} holds class {bad}, outside 0..{num_classes - 1}")
    return array


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """``(num_classes, num_classes)`` int64 counts: ``[t, p]`` samples of class ``t``
    predicted as ``p``; rows are the true classes.  It sums to the sample count."""
    if num_classes < 1:
        raise ValueError("num_classes must be at least 1")
    true = _labels(y_true, num_classes, "y_true")
    predicted = _labels(y_pred, num_classes, "y_pred")
    if true.shape != predicted.shape:
        raise ValueError(f"y_true has {true.size} labels but y_pred {predicted.size}")
    counts = np.bincount(true * num_classes + predicted, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def per_class_accuracy(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Float64 ``(num_classes,)``: the share of each class's samples predicted right
    (its recall); NaN for a class with no samples."""
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)


def most_confident_mistakes(probabilities, y_true, k: int) -> list[Mistake]:
    """The ``k`` wrong predictions with the highest predicted probability, most confident
    first (ties: lower index first).  ``probabilities`` is ``(N, classes)``."""
    scores = np.asarray(probabilities, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"probabilities must be (samples, classes), not shape {scores.shape}")
    true = _labels(y_true, scores.shape[1], "y_true")
    if true.size != scores.shape[0]:
        raise ValueError(f"{scores.shape[0]} rows of probabilities but {true.size} labels")
    if k <= 0 or true.size == 0:
        return []
    predicted = scores.argmax(axis=1)
    confidence = scores[np.arange(true.size), predicted]
    wrong = np.flatnonzero(predicted != true)
    order = wrong[np.lexsort((wrong, -confidence[wrong]))][:k]
    return [Mistake(int(i), int(true[i]), int(predicted[i]), float(confidence[i])) for i in order]
