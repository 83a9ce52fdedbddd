"""Does a dataset fit a network? If not, which layer to change and to what.

Two facts must agree: the images' shape ``(C, H, W)`` with the Input layer's ``shape``, and the
number of classes with the width of the network's output, which is set by the last Dense
(``units``) or convolution (``filters``) before any activation, dropout, normalisation or
global pooling. Each disagreement becomes a ``Mismatch`` whose message names the layer and the
new value, and whose ``node_id``/``param``/``value`` let the editor offer the fix as one edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..core.analysis import Analysis, NodeAnalysis, analyze
from ..core.layers import format_shape, spec_for
from ..core.network import Network
from .dataset import ArrayDataset

#: parameters that set a layer's output width directly, in the order they are looked for
WIDTH_PARAMS = ("units", "filters")


@dataclass(frozen=True)
class Mismatch:
    """One way the dataset does not fit; ``param`` is None when no single setting fixes it."""

    message: str
    node_id: str | None = None
    node_name: str = ""
    param: str | None = None
    value: Any = None

    def __str__(self) -> str:
        return self.message


def _width_param(type_name: str) -> str | None:
    names = {p.name for p in spec_for(type_name).params}
    return next((name for name in WIDTH_PARAMS if name in names), None)


def _width_setter(analysis: Analysis, node_id: str) -> tuple[NodeAnalysis, str] | None:
    """The layer (and its parameter) whose setting decides the output width of ``node_id``.

    Walks back through single-input layers that keep the channel count (activations, Dropout,
    BatchNorm, pooling, global pooling) until a layer with ``units`` or ``filters``.
    """
    seen = set()
    while node_id not in seen:
        seen.add(node_id)
        node = analysis.nodes[node_id]
        param = _width_param(node.type)
        if param is not None:
            return node, param
        sources = analysis.inputs.get(node_id, [])
        if len(sources) != 1 or not node.input_shapes or node.output_shape is None:
            return None
        if node.input_shapes[0][0] != node.output_shape[0]:
            return None
        node_id = sources[0]
    return None


def check_compatibility(analysis: Analysis, dataset_shape: Sequence[int], num_classes: int | None) -> list[Mismatch]:
    """What must change in the network for images of ``dataset_shape`` and ``num_classes`` classes.

    An empty list means the dataset fits. ``num_classes=None`` checks the input only.
    """
    shape = tuple(int(d) for d in dataset_shape)
    wanted = list(shape)
    found: list[Mismatch] = []
    if analysis.input_id is None:
        found.append(Mismatch(f"The network has no Input layer. Add an Input layer with shape {wanted}.",
                              param="shape", value=wanted))
    else:
        node = analysis.nodes[analysis.input_id]
        if node.output_shape is not None and tuple(node.output_shape) != shape:
            found.append(Mismatch(
                f"The dataset's images are {format_shape(shape)} but {node.name} expects "
                f"{format_shape(node.output_shape)}. Set {node.name}'s shape to {wanted}.",
                node.node_id, node.name, "shape", wanted))
    if num_classes is not None and analysis.output_id is not None:
        mismatch = _check_classes(analysis, num_classes)
        if mismatch is not None:
            found.append(mismatch)
    return found


def _check_classes(analysis: Analysis, num_classes: int) -> Mismatch | None:
    output = analysis.nodes[analysis.output_id]
    shape = output.output_shape
    if shape is None or tuple(shape) == (num_classes,):
        return None  # no shape: the analysis already reports the broken layer upstream
    if len(shape) != 1:
        return Mismatch(f"The dataset has {num_classes} classes but the network ends in {format_shape(shape)} "
                        f"at {output.name}. End the network with Flatten and Dense(units={num_classes}).",
                        output.node_id, output.name)
    setter = _width_setter(analysis, output.node_id)
    if setter is None:
        return Mismatch(f"The dataset has {num_classes} classes but the network's output {output.name} gives "
                        f"{shape[0]} values. End the network with Dense(units={num_classes}).",
                        output.node_id, output.name)
    node, param = setter
    has = f"{shape[0]} {param if shape[0] != 1 else param[:-1]}"
    return Mismatch(f"The dataset has {num_classes} classes but {node.name} has {has}. "
                    f"Set {node.name}'s {param} to {num_classes}.", node.node_id, node.name, param, num_classes)


def check_network(network: Network, dataset: ArrayDataset) -> list[Mismatch]:
    """``check_compatibility`` for a network document and a loaded dataset."""
    return check_compatibility(analyze(network), dataset.sample_shape, dataset.num_classes)
