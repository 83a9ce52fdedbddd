"""Live previews: one real sample through the network as it is now, every layer's output
and its activation statistics (issue 17).

``preview_network`` builds the model (random weights from a fixed seed, or trained weights),
runs one sample through it in eval mode and reads every layer's output from the model's
``taps`` (the identity modules ``core.build`` puts after each layer, so an output is seen
after its activation and the last one after a final softmax).  The result is plain NumPy,
safe to hand from a worker thread to the window.

A network that cannot be built (a shape error while the user is still editing) gives a
preview with no layers and a ``reason``, never an exception: it is the normal state of a
network half-way through an edit.  ``should_stop`` is asked after every layer, so a preview
made stale by the next edit ends early with ``PreviewCancelled``.

The small helpers at the end (``channel_mosaic``, ``bar_values``) turn a layer's output into
what a thumbnail draws; the window only colours them.  Torch is imported inside functions.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from cnnstudio.core.analysis import Analysis
from cnnstudio.core.network import Network

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEFAULT_SEED = 0


class PreviewCancelled(Exception):
    """The preview was no longer wanted (``should_stop`` said so) and ended early."""


@dataclass(frozen=True)
class ActivationStats:
    """What one layer's output looks like in numbers: mean, standard deviation (of the
    population, ``ddof=0``), the share of exact zeros (dead ReLUs), minimum and maximum."""

    mean: float
    std: float
    zero_share: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, values: np.ndarray) -> ActivationStats:
        array = np.asarray(values)
        if not array.size:
            nan = float("nan")
            return cls(nan, nan, nan, nan, nan)
        # float64 sums over the float32 values: exact enough without a float64 copy of every map
        return cls(float(array.mean(dtype=np.float64)), float(array.std(dtype=np.float64)),
                   float(np.count_nonzero(array == 0) / array.size), float(array.min()), float(array.max()))

    def text(self) -> str:
        """``mean 0.123 ± 0.456 · zeros 41% · [-1.2, 3.4]``"""
        return (f"mean {self.mean:.3g} ± {self.std:.3g} · zeros {self.zero_share:.0%} · "
                f"[{self.minimum:.3g}, {self.maximum:.3g}]")

    def to_json(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std, "zero_share": self.zero_share, "min": self.minimum,
                "max": self.maximum}


@dataclass(frozen=True)
class LayerPreview:
    """One layer's output for the sample: ``values`` is float32 without the batch axis,
    ``(C, H, W)`` for image layers, ``(F,)`` for flat ones."""

    name: str
    values: np.ndarray
    stats: ActivationStats

    @property
    def is_flat(self) -> bool:
        return self.values.ndim <= 1

    def maps(self) -> np.ndarray:
        """The output as ``(channels, H, W)`` maps (a 2-D output is ``(C, 1, L)``)."""
        if self.values.ndim == 2:
            return self.values[:, None, :]
        return self.values.reshape(-1, *self.values.shape[-2:])


@dataclass(frozen=True)
class NetworkPreview:
    """Every layer's output for one sample, by layer name in the network's order.

    ``reason`` says why there are no layers (the network cannot be built, the sample does
    not fit); ``notes`` say what was adapted (the sample resized, layers whose trained
    weights no longer fit); ``weights`` names where the weights came from."""

    layers: dict[str, LayerPreview] = field(default_factory=dict)
    sample: np.ndarray | None = None
    weights: str = ""
    reason: str = ""
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.reason

    def layer(self, name: str) -> LayerPreview | None:
        return self.layers.get(name)


def preview_network(network: Network, sample: np.ndarray, weights: Any = None, *, seed: int = DEFAULT_SEED,
                    partial: bool = False, analysis: Analysis | None = None,
                    should_stop: Callable[[], bool] | None = None) -> NetworkPreview:
    """Run ``sample`` (one ``(C, H, W)`` image in [0, 1]) through ``network``.

    ``weights``: None for random weights initialised from ``seed`` (the same seed gives the
    same weights, and torch's global random state is left as it was), else a weights file
    path, a state_dict or a module.  With ``partial=False`` weights that do not fit the
    network raise ``WeightsError``; with ``partial=True`` (the editor, where the network
    changes after training) the entries that still fit are used and the other layers keep
    random weights, listed in ``notes``.  A sample of another size or channel count is
    resized to the network's input (noted).  Raises ``PreviewCancelled`` when
    ``should_stop()`` turns true.
    """
    import torch

    from cnnstudio.core.build import BuildError, build_model

    started = time.perf_counter()
    stop = should_stop or (lambda: False)
    source = f"random (seed {seed})" if weights is None else _describe(weights)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build_model(network, analysis)
    except BuildError as error:
        return NetworkPreview(weights=source, reason=_build_problem(error))
    if stop():
        raise PreviewCancelled
    notes: list[str] = []
    if weights is not None:
        kept_random = _load(model, weights, partial)
        if kept_random:
            notes.append("random weights for " + ", ".join(kept_random) + " (they do not fit the weights given)")
    x, fit_note = fit_sample(sample, model.input_shape)
    if x is None:
        return NetworkPreview(weights=source, reason=fit_note)
    if fit_note:
        notes.append(fit_note)
    outputs = _capture(model, x, stop)
    layers = {name: LayerPreview(name, values, ActivationStats.of(values)) for name, values in outputs.items()}
    return NetworkPreview(layers, x, source, "", tuple(notes), time.perf_counter() - started)


def _build_problem(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    first = errors[0].text if errors else str(error).splitlines()[0]
    return f"no preview: {first}"


def _load(model: "torch.nn.Module", weights: Any, partial: bool) -> list[str]:
    """Put ``weights`` into ``model``; returns the layers left with random weights."""
    from cnnstudio.training.export_weights import load_checked, resolve_weights

    if not partial:
        load_checked(model, weights)
        return []
    given, _ = resolve_weights(weights)
    own = model.state_dict()
    fitting = {key: value for key, value in (given or {}).items()
               if key in own and tuple(own[key].shape) == tuple(value.shape)}
    model.load_state_dict(fitting, strict=False)
    left = dict.fromkeys(key.split(".", 1)[0] for key in own if key not in fitting)
    return list(left)


def _describe(weights: Any) -> str:
    import os

    return f"trained ({os.fspath(weights)})" if isinstance(weights, (str, os.PathLike)) else "trained"


def fit_sample(sample: np.ndarray, input_shape: tuple[int, ...]) -> tuple[np.ndarray | None, str]:
    """``(the sample as a batch of one for input_shape, a note)``; ``(None, reason)`` when it
    cannot be fitted.  Grey becomes colour by repeating the channel, colour becomes grey by
    averaging, and the picture is resized (bilinear) to the input's height and width."""
    image = np.asarray(sample, dtype=np.float32)
    target = tuple(int(d) for d in input_shape)
    if image.shape == target:
        return image[None].copy(), ""
    given = "x".join(str(d) for d in image.shape)
    wanted = "x".join(str(d) for d in target)
    if len(target) != 3 or image.ndim != 3:
        if image.size == math.prod(target):
            return image.reshape(1, *target).copy(), f"sample {given} reshaped to the input {wanted}"
        return None, f"no preview: a {given} sample does not fit the input {wanted}"
    import torch
    import torch.nn.functional as F

    channels = target[0]
    if image.shape[0] == channels:
        fitted = image
    elif image.shape[0] == 1:
        fitted = np.repeat(image, channels, axis=0)
    elif channels == 1:
        fitted = image.mean(axis=0, keepdims=True)
    else:
        fitted = np.resize(image, (channels, *image.shape[1:]))  # the channels again, cyclically
    batch = torch.from_numpy(np.ascontiguousarray(fitted))[None]
    if tuple(batch.shape[-2:]) != target[1:]:
        batch = F.interpolate(batch, size=target[1:], mode="bilinear", align_corners=False)
    return batch.numpy().copy(), f"sample {given} resized to the input {wanted}"


def _capture(model: "torch.nn.Module", x: np.ndarray, stop: Callable[[], bool]) -> dict[str, np.ndarray]:
    """Every tap's output for the one sample ``x``, in eval mode, asking ``stop`` after each."""
    import torch

    captured: dict[str, np.ndarray] = {}

    def keep(name: str):
        def hook(_module, _inputs, output):
            captured[name] = output.detach()[0].to("cpu", torch.float32).numpy().copy()
            if stop():
                raise PreviewCancelled
        return hook

    handles = [tap.register_forward_hook(keep(name)) for name, tap in model.taps.named_children()]
    try:
        model.eval()
        with torch.no_grad():
            model(torch.from_numpy(x))
    finally:
        for handle in handles:
            handle.remove()
    return {name: captured[name] for name in model.layer_names}


# ---------------------------------------------------------------------- what a thumbnail draws

def channel_mosaic(maps: np.ndarray, max_channels: int = 16, gap: int = 1) -> np.ndarray:
    """The first ``max_channels`` maps of ``(C, H, W)`` tiled in a square-ish grid, as one
    float64 ``(rows*H + gaps, columns*W + gaps)`` array with NaN in the gaps and empty tiles."""
    shown = np.asarray(maps, dtype=np.float64)[:max_channels]
    count, height, width = shown.shape
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan)
    for index, tile in enumerate(shown):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        mosaic[top:top + height, left:left + width] = tile
    return mosaic


def bar_values(values: np.ndarray, max_bars: int = 48) -> np.ndarray:
    """At most ``max_bars`` values to draw as bars: all of them when few, else the value of
    largest magnitude in each of ``max_bars`` equal runs (so a spike is never averaged away)."""
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    if flat.size <= max_bars:
        return flat
    runs = np.array_split(flat, max_bars)
    return np.array([run[np.argmax(np.abs(run))] for run in runs])
