"""Memory per layer, and the lecture's out-of-memory advice tried on the network.

"If your training process crashes due to out-of-memory error, try: reduce the size of
the (mini-)batch; reduce dimensionality by using stride = 2 or larger; remove a few
layers; use float16 rather than float32; distribute training over multiple GPUs."
``memory_table`` splits ``Analysis.memory`` into layers; ``out_of_memory_advice`` applies
each piece of advice to a copy of the network (or to the settings) and reports the new
figures, so the saving is a number rather than a promise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.analysis import BYTES, OPTIMIZER_SLOTS, Analysis, MemoryEstimate, analyze
from ..core.layers import spec_for
from ..core.network import Network, NetworkError
from ..core.summary import human_bytes

PRECISIONS = ("float32", "float16")
CONVOLUTIONS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")
#: layers that belong to the convolution before them when a block is removed
BLOCK_FOLLOWERS = ("MaxPool2D", "AvgPool2D", "BatchNorm", "Dropout", "ZeroPadding2D")


# ---------------------------------------------------------------------- per layer

@dataclass(frozen=True)
class LayerBytes:
    """Bytes one layer needs for one batch in one precision."""

    activations: int
    weights: int
    gradients: int
    optimizer_state: int

    @property
    def total(self) -> int:
        return self.activations + self.weights + self.gradients + self.optimizer_state


@dataclass(frozen=True)
class LayerMemory:
    """One layer's row: its output size and its bytes in float32 and float16."""

    name: str
    type: str
    output_shape: tuple[int, ...]
    activation_values: int  # per sample
    params: int
    trainable_params: int
    float32: LayerBytes
    float16: LayerBytes

    def in_precision(self, precision: str) -> LayerBytes:
        return {"float32": self.float32, "float16": self.float16}[precision]


@dataclass(frozen=True)
class MemoryTable:
    """Every layer's memory for ``batch_size`` samples while training with ``optimizer``;
    ``totals`` are ``Analysis.memory`` for each precision, and the rows add up to them."""

    batch_size: int
    optimizer: str
    rows: list[LayerMemory]
    totals: dict[str, MemoryEstimate]


def _checked_analysis(network: Network) -> Analysis:
    analysis = analyze(network)
    if not analysis.ok:
        problems = "; ".join(d.text for d in analysis.errors) or "it has no output"
        raise ValueError(f"the network cannot be analysed: {problems}")
    return analysis


def _check_settings(batch_size: int, optimizer: str) -> None:
    if batch_size < 1:
        raise ValueError(f"the batch size must be at least 1, got {batch_size}")
    if optimizer not in OPTIMIZER_SLOTS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZER_SLOTS)}")


def memory_table(network: Network, batch_size: int = 64, optimizer: str = "adam") -> MemoryTable:
    """Activations, weights, gradients and optimizer state per layer, in float32 and float16."""
    _check_settings(batch_size, optimizer)
    analysis = _checked_analysis(network)
    rows = []
    for node_id in analysis.order:
        node = analysis.nodes[node_id]
        by_precision = {}
        for precision in PRECISIONS:
            size = BYTES[precision]
            trainable = node.params.trainable
            by_precision[precision] = LayerBytes(node.output_values * batch_size * size, node.params.total * size,
                                                 trainable * size, trainable * OPTIMIZER_SLOTS[optimizer] * size)
        rows.append(LayerMemory(node.name, node.type, tuple(node.output_shape or ()), node.output_values,
                                node.params.total, node.params.trainable, **by_precision))
    totals = {p: analysis.memory(batch_size, p, optimizer=optimizer) for p in PRECISIONS}
    return MemoryTable(batch_size, optimizer, rows, totals)


# ---------------------------------------------------------------------- the advice

@dataclass(frozen=True)
class Advice:
    """One piece of the lecture's advice, applied.

    ``figure`` names what it reduces (``"activations"`` or ``"total"``); ``before`` and
    ``after`` are the full estimates (``after`` is per GPU for the several-GPUs advice,
    and ``None`` when the advice cannot be applied to this network); ``sentence`` says
    what was changed and what it saved, in numbers.
    """

    key: str
    title: str
    figure: str
    before: MemoryEstimate
    after: MemoryEstimate | None
    sentence: str

    @property
    def applicable(self) -> bool:
        return self.after is not None

    def value(self, estimate: MemoryEstimate) -> int:
        return estimate.total if self.figure == "total" else estimate.activations

    @property
    def saving(self) -> int:
        """Bytes of ``figure`` saved (0 when not applicable; negative when it costs more)."""
        return self.value(self.before) - self.value(self.after) if self.after is not None else 0

    @property
    def helps(self) -> bool:
        return self.saving > 0


def _change(before: int, after: int) -> str:
    """``12.25 MB -> 6.12 MB (-50%)``"""
    share = f" ({100 * (after - before) / before:+.0f}%)" if before else ""
    return f"{human_bytes(before)} -> {human_bytes(after)}{share}"


def _smaller_batch(analysis: Analysis, batch: int, precision: str, optimizer: str) -> Advice:
    before = analysis.memory(batch, precision, optimizer=optimizer)
    title = "Reduce the size of the (mini-)batch"
    if batch == 1:
        return Advice("batch", title, "activations", before, None,
                      "The batch already holds a single sample; it cannot be made smaller.")
    half = batch // 2
    after = analysis.memory(half, precision, optimizer=optimizer)
    return Advice("batch", title, "activations", before, after,
                  f"Batch {batch} -> {half}: activations {_change(before.activations, after.activations)}; "
                  f"weights, gradients and optimizer state do not depend on the batch.")


def _analysis_or_problem(network: Network) -> tuple[Analysis | None, str]:
    analysis = analyze(network)
    if analysis.ok:
        return analysis, ""
    if not analysis.errors:
        return None, "the network has no output"
    error = analysis.errors[0]
    return None, f"{error.node_name}: {error.message}" if error.node_name else error.message


def _with_stride_2(network: Network, analysis: Analysis, batch: int, precision: str, optimizer: str) -> Advice:
    before = analysis.memory(batch, precision, optimizer=optimizer)
    title = "Reduce dimensionality by using stride = 2 or larger"
    problems = []
    for node_id in analysis.order:
        node = network.node(node_id)
        if node.type not in CONVOLUTIONS or list(node.params["strides"]) != [1, 1]:
            continue
        changed = network.copy()
        try:
            changed.set_params(node_id, {"strides": [2, 2]})
        except NetworkError as error:
            problems.append(f"{node.name} cannot take it: {error}")
            continue
        result, problem = _analysis_or_problem(changed)
        if result is None:
            problems.append(f"on {node.name} it breaks {problem}")
            continue
        after = result.memory(batch, precision, optimizer=optimizer)
        tried = f" ({'; '.join(problems)})" if problems else ""
        return Advice("stride", title, "activations", before, after,
                      f"Stride 2 on {node.name}{tried}: activations {_change(before.activations, after.activations)}, "
                      f"total {_change(before.total, after.total)}.")
    reason = "; ".join(problems) if problems else "no convolution has stride 1"
    return Advice("stride", title, "activations", before, None, f"Stride 2 does not fit this network: {reason}.")


def _last_block(network: Network, analysis: Analysis) -> list[str]:
    """The last convolution and the pooling/normalisation/dropout layers right after it."""
    convolutions = [n for n in analysis.order if network.node(n).type in CONVOLUTIONS]
    if len(convolutions) < 2:
        return []
    block = [convolutions[-1]]
    while True:
        followers = network.outputs_of(block[-1])
        if len(followers) != 1:
            break
        follower = network.node(followers[0])
        kind = follower.type
        if len(network.inputs_of(follower.id)) != 1 or not (
                kind in BLOCK_FOLLOWERS or spec_for(kind).family == "Activation"):
            break
        block.append(follower.id)
    return block


def _without(network: Network, block: list[str]) -> Network:
    """A copy of ``network`` with the chain ``block`` cut out and its ends joined."""
    data = network.to_dict()
    doomed = set(block)
    (source,) = network.inputs_of(block[0])
    edges = []
    for edge in data["edges"]:
        if edge["source"] == block[-1]:
            edges.append({"source": source, "target": edge["target"]})
        elif edge["source"] not in doomed and edge["target"] not in doomed:
            edges.append(edge)
    nodes = [n for n in data["nodes"] if n["id"] not in doomed]
    return Network.from_dict({"nodes": nodes, "edges": edges})


def _fewer_layers(network: Network, analysis: Analysis, batch: int, precision: str, optimizer: str) -> Advice:
    before = analysis.memory(batch, precision, optimizer=optimizer)
    title = "Remove a few layers"
    block = _last_block(network, analysis)
    if not block or len(network.inputs_of(block[0])) != 1:
        return Advice("layers", title, "activations", before, None,
                      "There is no convolution block that can be removed: the network has fewer than two "
                      "convolutions, or the last one has several inputs.")
    names = ", ".join(network.node(n).name for n in block)
    try:
        result, problem = _analysis_or_problem(_without(network, block))
    except NetworkError as error:
        result, problem = None, str(error)
    if result is None:
        return Advice("layers", title, "activations", before, None, f"Removing {names} breaks the network: {problem}.")
    after = result.memory(batch, precision, optimizer=optimizer)
    sentence = (f"Without {names}: activations {_change(before.activations, after.activations)}, parameters "
                f"{analysis.total_params:,} -> {result.total_params:,}, total {_change(before.total, after.total)}.")
    if after.activations > before.activations:
        sentence += " Here the activations grow: the removed layers shrank the map that the later layers receive."
    if result.total_params > analysis.total_params:
        sentence += (" The parameters grow: the layer after the block (a Dense after Flatten) now receives a larger "
                     "input and needs more weights than the block had.")
    return Advice("layers", title, "activations", before, after, sentence)


def _float16(analysis: Analysis, batch: int, precision: str, optimizer: str) -> Advice:
    before = analysis.memory(batch, precision, optimizer=optimizer)
    title = "Use float16 rather than float32"
    if BYTES[precision] <= BYTES["float16"]:
        return Advice("float16", title, "total", before, None, f"The values are already {precision}.")
    after = analysis.memory(batch, "float16", optimizer=optimizer)
    return Advice("float16", title, "total", before, after,
                  f"float16 stores every value in 2 bytes instead of {BYTES[precision]}: weights "
                  f"{_change(before.weights, after.weights)}, activations "
                  f"{_change(before.activations, after.activations)}, total {_change(before.total, after.total)}.")


def _several_gpus(analysis: Analysis, batch: int, precision: str, optimizer: str, gpus: int) -> Advice:
    before = analysis.memory(batch, precision, optimizer=optimizer)
    title = "Distribute training over multiple GPUs"
    if gpus < 2 or batch < 2:
        return Advice("gpus", title, "activations", before, None,
                      "Splitting needs at least two GPUs and two samples in the batch.")
    share = math.ceil(batch / gpus)
    after = analysis.memory(share, precision, optimizer=optimizer)
    model = after.weights + after.gradients + after.optimizer_state
    return Advice("gpus", title, "activations", before, after,
                  f"{gpus} GPUs each take {share} of the {batch} samples: activations per GPU "
                  f"{_change(before.activations, after.activations)}; every GPU still keeps its own copy of "
                  f"the weights, gradients and optimizer state ({human_bytes(model)}).")


def out_of_memory_advice(network: Network, batch_size: int = 64, precision: str = "float32", optimizer: str = "adam",
                         gpus: int = 2) -> list[Advice]:
    """The lecture's five remedies, in its order, each applied to ``network`` with its saving."""
    _check_settings(batch_size, optimizer)
    if precision not in BYTES:
        raise ValueError(f"unknown precision {precision!r}; known: {', '.join(BYTES)}")
    analysis = _checked_analysis(network)
    return [
        _smaller_batch(analysis, batch_size, precision, optimizer),
        _with_stride_2(network, analysis, batch_size, precision, optimizer),
        _fewer_layers(network, analysis, batch_size, precision, optimizer),
        _float16(analysis, batch_size, precision, optimizer),
        _several_gpus(analysis, batch_size, precision, optimizer, gpus),
    ]
