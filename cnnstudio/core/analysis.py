"""One pure pass over the network: shapes, parameters, cost, memory,
receptive fields and diagnostics.

``analyze(network)`` never raises for a bad graph: every problem becomes a
``Diagnostic`` on the node that causes it, and nodes downstream of a broken one
simply have no shape, so one mistake does not hide the analysis of the rest.
It is cheap (no torch, no string formatting unless asked) so the editor can
run it on every edit.
"""

from __future__ import annotations

import math
from typing import Any
from dataclasses import dataclass, field

from .diagnostics import ERROR, WARNING, Diagnostic
from .gc_pause import paused_gc
from .layers import ParamCount, ReceptiveStep, Shape, ShapeError, spec_for
from .layers.base import Explanation, format_shape
from .network import Network
from .receptive_field import (WHOLE_INPUT, ReceptiveField, coverage, footprints, merge_fields, start_field,
                              step_field)

BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
#: values one sample may produce in one layer (36 PB in float32): beyond it the network is a
#: mistake (a chain of upsamplings), and its numbers would outgrow what floats and text can show
MAX_OUTPUT_VALUES = 2 ** 53
#: values of optimizer state kept per trainable parameter
OPTIMIZER_SLOTS = {"sgd": 0, "sgd_momentum": 1, "rmsprop": 1, "adam": 2, "adamw": 2}
#: how each optimizer is named in words
OPTIMIZER_TITLES = {"sgd": "SGD", "sgd_momentum": "SGD with momentum", "rmsprop": "RMSprop", "adam": "Adam",
                    "adamw": "AdamW"}
#: the optimizer a project trains with when its settings name none (the lecture's, and TrainConfig's default)
DEFAULT_OPTIMIZER = "rmsprop"


def training_optimizer(training: Any) -> str:
    """The ``OPTIMIZER_SLOTS`` key of a project's ``training`` settings (for its memory figures):
    the optimizer it names, SGD counting its momentum buffer when it has one."""
    settings = training if isinstance(training, dict) else {}
    name = settings.get("optimizer", DEFAULT_OPTIMIZER)
    if name not in OPTIMIZER_SLOTS:
        return DEFAULT_OPTIMIZER
    momentum = settings.get("momentum", 0)
    if name == "sgd" and isinstance(momentum, (int, float)) and momentum > 0:
        return "sgd_momentum"
    return name


@dataclass
class NodeAnalysis:
    node_id: str
    name: str
    type: str
    input_shapes: list[Shape] = field(default_factory=list)
    output_shape: Shape | None = None
    params: ParamCount = ParamCount()
    macs: int = 0
    receptive_field: ReceptiveField | None = None
    receptive_step: ReceptiveStep | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.output_shape is not None and not any(d.is_error for d in self.diagnostics)

    @property
    def output_values(self) -> int:
        """Activations one sample produces here."""
        return math.prod(self.output_shape) if self.output_shape else 0


@dataclass(frozen=True)
class FootprintRow:
    node_id: str
    name: str
    layer_size: tuple[int, ...]
    footprint: tuple[int, ...]

    @property
    def area(self) -> int:
        return math.prod(self.footprint)


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes for one batch: the lecture's "CNNs require large memory", in numbers."""

    batch_size: int
    precision: str
    weights: int
    gradients: int
    optimizer_state: int
    activations: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer_state + self.activations


@dataclass
class Analysis:
    nodes: dict[str, NodeAnalysis]
    order: list[str]
    inputs: dict[str, list[str]]
    diagnostics: list[Diagnostic]
    input_id: str | None
    output_id: str | None

    # ------------------------------------------------------------------ totals
    @property
    def trainable_params(self) -> int:
        return sum(n.params.trainable for n in self.nodes.values())

    @property
    def non_trainable_params(self) -> int:
        return sum(n.params.non_trainable for n in self.nodes.values())

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def macs(self) -> int:
        return sum(n.macs for n in self.nodes.values())

    @property
    def activation_values(self) -> int:
        """Values all layers produce for one sample (what training keeps for the backward pass)."""
        return sum(n.output_values for n in self.nodes.values())

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors and self.output_id is not None

    @property
    def input_shape(self) -> Shape | None:
        return self.nodes[self.input_id].output_shape if self.input_id else None

    @property
    def output_shape(self) -> Shape | None:
        return self.nodes[self.output_id].output_shape if self.output_id else None

    def by_name(self, name: str) -> NodeAnalysis:
        for node in self.nodes.values():
            if node.name == name:
                return node
        raise KeyError(name)

    # ------------------------------------------------------------------ memory
    def memory(self, batch_size: int = 1, precision: str = "float32", training: bool = True,
               optimizer: str = "adam") -> MemoryEstimate:
        size = BYTES[precision]
        weights = self.total_params * size
        if not training:
            # inference keeps at most one layer's input and output alive at a time
            peak = max((n.output_values + sum(math.prod(s) for s in n.input_shapes)
                        for n in self.nodes.values()), default=0)
            return MemoryEstimate(batch_size, precision, weights, 0, 0, peak * batch_size * size)
        gradients = self.trainable_params * size
        state = self.trainable_params * OPTIMIZER_SLOTS[optimizer] * size
        return MemoryEstimate(batch_size, precision, weights, gradients, state,
                              self.activation_values * batch_size * size)

    # ------------------------------------------------------------------ receptive fields
    def last_spatial_node(self) -> str | None:
        """The deepest node whose output still has spatial axes (conv2d_3 in the lecture)."""
        for node_id in reversed(self.order):
            node = self.nodes[node_id]
            field_ = node.receptive_field
            if node.ok and field_ is not None and not field_.whole_input and len(node.output_shape) >= 2:
                return node_id
        return None

    def coverage(self, node_id: str) -> float | None:
        """Share of the input one neuron of ``node_id`` sees."""
        field_ = self.nodes[node_id].receptive_field
        shape = self.input_shape
        if field_ is None or shape is None or len(shape) < 2:
            return None
        return coverage(field_, shape[1:])

    def footprint_table(self, target_id: str) -> list[FootprintRow]:
        """The lecture's table read bottom-up: one neuron of ``target_id`` and the
        neurons of every earlier layer it sees, from the input to the target."""
        target = self.nodes[target_id]
        if target.output_shape is None or len(target.output_shape) < 2:
            raise ValueError(f"{target.name} has no spatial output; pick a convolution or pooling layer")
        axes = len(target.output_shape) - 1
        steps = {node_id: n.receptive_step for node_id, n in self.nodes.items()}
        seen = footprints(self.order, self.inputs, steps, target_id, axes)
        rows = []
        for node_id in self.order:
            if node_id in seen and self.nodes[node_id].output_shape is not None:
                node = self.nodes[node_id]
                rows.append(FootprintRow(node_id, node.name, tuple(node.output_shape[1:]), seen[node_id]))
        return rows

    # ------------------------------------------------------------------ explanations
    def explain(self, network: Network, node_id: str) -> Explanation:
        """Plain-words explanation of one node with its numbers (built on demand)."""
        node = network.node(node_id)
        result = self.nodes[node_id]
        spec = spec_for(node.type)
        if result.output_shape is None:
            lines = [spec.summary] + [d.text for d in result.diagnostics]
            if not result.diagnostics:
                lines.append("Its input has no shape yet: fix the layers before it first.")
            return Explanation(lines)
        explanation = spec.explain(node.params, result.input_shapes, result.output_shape)
        if result.receptive_field is not None and not result.receptive_field.whole_input:
            share = self.coverage(node_id)
            extra = f" ({share:.1%} of the input)" if share is not None else ""
            explanation.add(f"Receptive field so far: {result.receptive_field.text()}{extra}")
        return explanation


# ---------------------------------------------------------------------- the pass

def analyze(network: Network, *, num_classes: int | None = None) -> Analysis:
    """Analyse ``network``; ``num_classes`` checks the classifier's last layer."""
    with paused_gc():
        return _analyze(network, num_classes)


def _analyze(network: Network, num_classes: int | None) -> Analysis:
    inputs, outputs = network.adjacency()
    order = network.topological_order()
    diagnostics: list[Diagnostic] = []
    results: dict[str, NodeAnalysis] = {}

    def problem(node, severity: str, message: str, fix: str) -> None:
        item = Diagnostic(node.id if node else None, severity, message, fix, node.name if node else "")
        diagnostics.append(item)
        if node is not None:
            results[node.id].diagnostics.append(item)

    input_nodes = [n for n in network.nodes if spec_for(n.type).max_inputs == 0]
    input_ids = {n.id for n in input_nodes}
    if not input_nodes and len(network):
        problem(None, ERROR, "the network has no Input layer",
                "Drag an Input block from the palette and connect it to the first layer.")

    for node_id in order:
        node = network.node(node_id)
        spec = spec_for(node.type)
        result = results[node_id] = NodeAnalysis(node_id, node.name, node.type)
        sources = inputs[node_id]

        if len(sources) < spec.min_inputs:
            if not sources:
                problem(node, ERROR, "is not connected to any input",
                        "Connect the output of an earlier layer to it, or delete it.")
            else:
                problem(node, ERROR, f"{node.type} needs at least {spec.min_inputs} inputs but has "
                                     f"{len(sources)}", "Connect another branch to it, or delete it.")
            continue
        if spec.max_inputs is not None and len(sources) > spec.max_inputs:
            problem(node, ERROR, f"{node.type} takes one input but {len(sources)} are connected",
                    "Join the branches first with an Add or Concatenate layer.")
            continue

        upstream = [results[s] for s in sources]
        if any(r.output_shape is None for r in upstream):
            continue  # the cause is reported where it happened
        shapes = [r.output_shape for r in upstream]
        result.input_shapes = shapes
        try:
            shape = spec.output_shape(node.params, shapes)
        except ShapeError as error:
            problem(node, ERROR, error.message, error.fix)
            continue
        if any(d < 1 for d in shape):
            problem(node, ERROR, f"its output shape {format_shape(shape)} has an empty axis",
                    "Use padding='same', a smaller kernel or stride, or remove a pooling layer before it.")
            continue
        if math.prod(shape) > MAX_OUTPUT_VALUES:
            problem(node, ERROR, f"its output would hold more than {MAX_OUTPUT_VALUES:,} values per sample",
                    "Use fewer or smaller UpSampling2D layers, fewer filters, or a smaller input.")
            continue
        result.output_shape = shape
        result.params = spec.param_count(node.params, shapes, shape)
        result.macs = spec.macs(node.params, shapes, shape)

        if spec.max_inputs == 0:
            result.receptive_field = start_field(len(shape) - 1) if len(shape) >= 2 else WHOLE_INPUT
            continue
        fields = [r.receptive_field for r in upstream]
        if any(f is None for f in fields):
            continue
        field_ = merge_fields(fields) if len(fields) > 1 else fields[0]
        if spec.global_view:
            result.receptive_field = WHOLE_INPUT
        else:
            result.receptive_step = spec.receptive_step(node.params, shapes)
            result.receptive_field = step_field(field_, result.receptive_step)

    for extra in input_nodes[1:]:
        problem(extra, ERROR, f"the network already has an Input ({input_nodes[0].name})",
                "Delete this Input; CNN Studio networks take one input.")

    output_id = _find_output(order, inputs, outputs, input_nodes)
    for node_id in order:
        node = network.node(node_id)
        connected = inputs[node_id] or node_id in input_ids
        if not outputs[node_id] and node_id != output_id and connected and len(network) > 1:
            problem(node, WARNING, "is a dead end: its output is not used by any layer",
                    "Connect it to a later layer, or delete it.")
        if node_id in input_ids and not outputs[node_id] and len(network) > 1:
            problem(node, WARNING, "is not connected to any layer", "Connect it to the first layer.")

    if num_classes is not None and output_id is not None:
        _check_classifier(network, results[output_id], num_classes, problem)

    input_id = input_nodes[0].id if input_nodes else None
    return Analysis(results, order, inputs, diagnostics, input_id, output_id)


def _find_output(order, inputs, outputs, input_nodes) -> str | None:
    """The network's output: the sink fed by the longest chain from the Input."""
    if not input_nodes:
        return None
    depth = {input_nodes[0].id: 0}
    for node_id in order:
        known = [depth[s] for s in inputs[node_id] if s in depth]
        if known and node_id not in depth:
            depth[node_id] = max(known) + 1
    sinks = [(depth[n], index, n) for index, n in enumerate(order) if not outputs[n] and n in depth]
    return max(sinks)[2] if sinks else None


def _check_classifier(network, result: NodeAnalysis, num_classes: int, problem) -> None:
    shape = result.output_shape
    node = network.node(result.node_id)
    if shape is None:
        return
    if len(shape) != 1:
        problem(node, ERROR, f"the network ends in {format_shape(shape)} but a classifier of {num_classes} "
                             f"classes must end in a vector of {num_classes}",
                "End the network with Flatten and Dense(units={}, activation='softmax').".format(num_classes))
    elif shape[0] != num_classes:
        what = f"its {shape[0]} units" if node.type == "Dense" else f"its {shape[0]} outputs"
        fix = f"Set units to {num_classes}." if node.type == "Dense" else \
            f"End the network with Dense(units={num_classes}, activation='softmax')."
        problem(node, ERROR, f"{what} do not match the dataset's {num_classes} classes", fix)
