"""Which pixels one neuron sees: on every earlier layer, on the input, and in the lecture's table.

"Why pooling is a must": with pooling, one neuron of the lecture's last convolution
sees 18x18 = 324 input pixels (41.3% of 784); without it, 7x7 = 49 (6.25%).
``footprint_of`` gives the exact rectangle a chosen neuron sees on each earlier layer,
walking back through each layer's ``ReceptiveStep`` (kernel, stride, dilation and
padding, from the layer catalog); ``lecture_table`` rebuilds the lecture's table from
the two example projects; ``most_activating_region`` finds the input crops that excite
one channel of a trained model most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..core.analysis import Analysis, analyze
from ..core.layers import ReceptiveStep, spec_for
from ..core.network import Network
from ..core.project import load_project
from ..paths import EXAMPLE_PROJECTS

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: ``(top, left, bottom, right)``, inclusive
Box = tuple[int, int, int, int]

LECTURE_PROJECT = EXAMPLE_PROJECTS / "lecture_mnist.cnnproj"
LECTURE_PROJECT_NO_POOLING = EXAMPLE_PROJECTS / "lecture_mnist_no_pooling.cnnproj"


# ---------------------------------------------------------------------- footprints

def _checked_target(analysis: Analysis, layer_name: str, row: int, col: int) -> str:
    try:
        node = analysis.by_name(layer_name)
    except KeyError:
        names = ", ".join(n.name for n in analysis.nodes.values())
        raise ValueError(f"there is no layer named {layer_name!r}; the layers are: {names}") from None
    if not node.ok:
        raise ValueError(f"{layer_name} has no valid output: fix the network first")
    shape = node.output_shape
    if len(shape) != 3:
        raise ValueError(f"{layer_name} outputs {shape}, not an image (C, H, W): pick a convolution or pooling layer")
    if not (0 <= row < shape[1] and 0 <= col < shape[2]):
        raise ValueError(f"neuron ({row}, {col}) is outside {layer_name}'s {shape[1]}x{shape[2]} map")
    return node.node_id


def _step_back(box: Box, step: ReceptiveStep | None) -> Box:
    """The rectangle of the layer's input that the rectangle ``box`` of its output reads."""
    if step is None:
        return box
    top, left, bottom, right = box
    if step.upsample:
        fh, fw = step.upsample
        return top // fh, left // fw, bottom // fh, right // fw
    pads = step.pad_before or (0, 0)
    (sh, sw), (kh, kw) = step.stride, (step.effective_kernel(0), step.effective_kernel(1))
    return (top * sh - pads[0], left * sw - pads[1],
            bottom * sh - pads[0] + kh - 1, right * sw - pads[1] + kw - 1)


def _clip(box: Box, shape: Sequence[int]) -> Box | None:
    """``box`` cut to a ``(C, H, W)`` map; ``None`` when it holds nothing but padding."""
    top, left = max(box[0], 0), max(box[1], 0)
    bottom, right = min(box[2], shape[1] - 1), min(box[3], shape[2] - 1)
    return (top, left, bottom, right) if top <= bottom and left <= right else None


def _union(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _footprints(analysis: Analysis, target_id: str, row: int, col: int, clip: bool) -> dict[str, Box]:
    boxes: dict[str, Box] = {target_id: (row, col, row, col)}
    mixed: set[str] = set()  # flat nodes before the target: all of their inputs count
    order = analysis.order[: analysis.order.index(target_id) + 1]
    for node_id in reversed(order):
        node = analysis.nodes[node_id]
        if node_id in mixed or (node_id in boxes and spec_for(node.type).global_view):
            seen = None  # every source value reaches every output (Flatten, Dense, Reshape, global pooling)
        elif node_id in boxes:
            seen = _step_back(boxes[node_id], node.receptive_step)
        else:
            continue
        for source in analysis.inputs[node_id]:
            shape = analysis.nodes[source].output_shape
            if len(shape) != 3:
                mixed.add(source)  # a vector has no rows and columns: it passes "everything" on
                continue
            box = seen if seen is not None else (0, 0, shape[1] - 1, shape[2] - 1)
            if clip:
                box = _clip(box, shape)
                if box is None:
                    continue  # the window lies in the padding: this source does not reach it
            boxes[source] = _union(boxes.get(source), box)
    return {analysis.nodes[n].name: boxes[n] for n in analysis.order if n in boxes}


def footprint_of(network: Network, layer_name: str, row: int, col: int, *, clip: bool = True) -> dict[str, Box]:
    """What neuron ``(row, col)`` of ``layer_name`` sees on every layer up to the input.

    ``{layer name: (top, left, bottom, right)}`` (inclusive), from the input to the
    layer itself, in the network's order.  With ``clip=True`` the rectangles hold only
    existing neurons (padding removed, layer by layer); with ``clip=False`` they are the
    full geometric windows, which may reach into the padding (negative or past the
    edge) and whose sizes are the lecture's footprint table
    (``Analysis.footprint_table``).  A layer the neuron does not reach at all (its
    window lies wholly in the padding after that layer) is left out when clipping.
    """
    analysis = analyze(network)
    target = _checked_target(analysis, layer_name, row, col)
    return _footprints(analysis, target, row, col, clip)


def box_size(box: Box) -> tuple[int, int]:
    """``(height, width)`` of a rectangle."""
    return box[2] - box[0] + 1, box[3] - box[1] + 1


# ---------------------------------------------------------------------- the lecture's table

@dataclass(frozen=True)
class TableRow:
    """One line of the table: a layer's size and how many of its neurons one last-layer neuron sees."""

    layer: str
    layer_size: tuple[int, int]
    footprint: tuple[int, int]

    @property
    def area(self) -> int:
        return math.prod(self.footprint)

    def footprint_text(self) -> str:
        h, w = self.footprint
        return "1" if self.area == 1 else f"{h}x{w}"


@dataclass(frozen=True)
class ReceptiveTable:
    """The footprint of one neuron of ``target`` on every layer before it, input first."""

    title: str
    target: str
    rows: list[TableRow]

    @property
    def input_row(self) -> TableRow:
        return self.rows[0]

    @property
    def input_pixels(self) -> int:
        return math.prod(self.input_row.layer_size)

    @property
    def coverage(self) -> float:
        """Share of the input pixels one neuron of ``target`` feels."""
        return self.input_row.area / self.input_pixels

    def coverage_text(self) -> str:
        h, w = self.input_row.footprint
        return f"{h}x{w} = {self.input_row.area} = {100 * self.coverage:.3g}% of {self.input_pixels}"


def receptive_table(network: Network, target: str | None = None, title: str = "") -> ReceptiveTable:
    """The table for one network; ``target`` defaults to its last layer with a spatial output."""
    analysis = analyze(network)
    target_id = analysis.by_name(target).node_id if target else analysis.last_spatial_node()
    if target_id is None:
        raise ValueError("the network has no convolution or pooling layer to start from")
    rows = [TableRow(r.name, tuple(r.layer_size), tuple(r.footprint))  # type: ignore[arg-type]
            for r in analysis.footprint_table(target_id)]
    return ReceptiveTable(title, analysis.nodes[target_id].name, rows)


@dataclass(frozen=True)
class LectureTable:
    """The lecture's "why pooling is a must" table: the same network with and without pooling."""

    with_pooling: ReceptiveTable
    without_pooling: ReceptiveTable

    def lines(self) -> list[str]:
        lines = []
        for table in (self.with_pooling, self.without_pooling):
            lines.append(f"{table.title}: one neuron of {table.target} feels {table.coverage_text()} input pixels")
            for row in table.rows:
                size = "x".join(str(v) for v in row.layer_size)
                lines.append(f"  {row.layer:<16} {size:<8} {row.footprint_text()}")
        return lines


def lecture_table() -> LectureTable:
    """Built from ``projects/lecture_mnist.cnnproj`` and ``projects/lecture_mnist_no_pooling.cnnproj``."""
    return LectureTable(
        receptive_table(load_project(LECTURE_PROJECT).network, title="With pooling"),
        receptive_table(load_project(LECTURE_PROJECT_NO_POOLING).network, title="Without pooling"),
    )


# ---------------------------------------------------------------------- a trained model

@dataclass(frozen=True)
class ActivatingRegion:
    """One input that excites the chosen channel: where its strongest neuron sits, how strong
    it is, and ``crop``, the ``(C, h, w)`` input pixels that neuron sees (``box`` on the input;
    ``None``, with an empty crop, for a neuron whose window lies wholly in padding)."""

    image_index: int
    row: int
    col: int
    value: float
    box: Box | None
    crop: np.ndarray


def most_activating_region(model: "torch.nn.Module", layer_name: str, channel: int, images: np.ndarray,
                           k: int = 9, *, network: Network, batch_size: int = 256) -> list[ActivatingRegion]:
    """The ``k`` images whose strongest neuron of ``channel`` in ``layer_name`` fires most,
    each cropped to what that neuron sees; strongest first.

    ``model`` is built from ``network`` (``core.build.build_model``): the model runs the
    images, the network says where each neuron looks.  ``images`` is ``(N, C, H, W)``
    (or ``(N, H, W)`` for one channel), already scaled as the model was trained.
    """
    from ..training.probes import FeatureMapProbe

    analysis = analyze(network)
    target = _checked_target(analysis, layer_name, 0, 0)
    channels = analysis.nodes[target].output_shape[0]
    if not 0 <= channel < channels:
        raise ValueError(f"{layer_name} has channels 0 to {channels - 1}, not {channel}")
    pixels = np.asarray(images, dtype=np.float32)
    if pixels.ndim == 3:
        pixels = pixels[:, None]
    if pixels.ndim != 4 or tuple(pixels.shape[1:]) != tuple(analysis.input_shape):
        raise ValueError(f"images must be (N, {', '.join(map(str, analysis.input_shape))}), got {np.shape(images)}")
    probe = FeatureMapProbe(model, [layer_name])
    maps = np.concatenate([probe.capture(pixels[i:i + batch_size])[layer_name][:, channel]
                           for i in range(0, len(pixels), batch_size)])
    flat = maps.reshape(len(maps), -1)
    best = flat.argmax(axis=1)
    values = flat[np.arange(len(flat)), best]
    input_name = analysis.nodes[analysis.input_id].name
    regions = []
    for index in np.argsort(-values, kind="stable")[:k]:
        row, col = divmod(int(best[index]), maps.shape[2])
        box = _footprints(analysis, target, row, col, clip=True).get(input_name)
        crop = pixels[index, :, box[0]:box[2] + 1, box[1]:box[3] + 1].copy() if box else pixels[index, :, :0, :0]
        regions.append(ActivatingRegion(int(index), row, col, float(values[index]), box, crop))
    return regions
