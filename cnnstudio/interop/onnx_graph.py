"""Walking an ONNX graph: which values are data, which are constants, in what order.

Exporters surround the real layers with bookkeeping: ``Constant`` and
``Identity`` nodes, weights transposed or cast by nodes of their own, and
``Shape -> Gather -> Unsqueeze -> Concat`` chains that compute the target of a
``Reshape`` from the batch size.  The walker folds all of it into plain numpy
constants before any layer is mapped:

* a node whose inputs are all constants is evaluated on the spot with
  ``onnx.reference`` (so every op and opset the reference knows folds);
* ``Shape`` of a data tensor is known except for the batch axis, so it is
  evaluated twice, with two probe batch sizes; a folded value that differs
  between the two probes depends on the batch, and ``batch_axis`` tells whether
  it is exactly the batch size (as ``x.view(x.size(0), -1)`` needs).

Only nodes that the graph's output depends on are visited, in the file's
(topological) order; each data node goes to a handler of ``onnx_ops``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from cnnstudio.core.layers.base import Shape, format_shape

from .assembly import NetworkAssembler, Origin, Tensor
from .model_import import InputShapeNeeded, ModelImportError

#: two batch sizes to tell batch-dependent values from constants (a dynamic batch axis)
BATCH_PROBES = (2, 3)
FLOAT_TYPES = (1, 10, 11, 16)  # float, float16, double, bfloat16


@dataclass(frozen=True)
class Known:
    """A constant value, once per batch probe when it depends on the batch size."""

    values: tuple[np.ndarray, ...]

    @property
    def value(self) -> np.ndarray:
        return self.values[0]

    @property
    def depends_on_batch(self) -> bool:
        return len(self.values) > 1 and any(not np.array_equal(self.values[0], v) for v in self.values[1:])


class OnnxWalker:
    """Visits the nodes an ONNX model's output depends on and keeps the table of
    what each tensor name is: a ``Known`` constant or a data ``Tensor``."""

    def __init__(self, model: Any, label: str, input_shape: Sequence[int] | None,
                 handlers: dict[str, Callable[["OnnxWalker", Any, Origin], None]]) -> None:
        from onnx import numpy_helper

        self.model, self.label, self.handlers = model, label, handlers
        self.assembler = NetworkAssembler()
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        graph = model.graph
        self.known: dict[str, Known] = {}
        for init in graph.initializer:
            self.known[init.name] = Known((numpy_helper.to_array(init),))
        self.values: dict[str, Tensor] = {}
        #: tensors padded by a Pad node whose consumer may take the padding into its own window
        self.pending_pads: dict[str, tuple[Tensor, Any, float]] = {}
        self.probes = BATCH_PROBES
        self._read_input(graph, input_shape)
        if len(graph.output) != 1:
            names = ", ".join(repr(o.name) for o in graph.output)
            raise ModelImportError(f"{label}: the model has {len(graph.output)} outputs ({names}); CNN Studio "
                                   "networks have one")
        self.output_name = graph.output[0].name
        self.nodes = self._needed_nodes(graph)
        self.uses: dict[str, int] = {self.output_name: 1}
        for node in self.nodes:
            for name in node.input:
                self.uses[name] = self.uses.get(name, 0) + 1

    # ------------------------------------------------------------------ the input
    def _read_input(self, graph: Any, input_shape: Sequence[int] | None) -> None:
        inputs = [i for i in graph.input if i.name not in self.known]
        if len(inputs) != 1:
            names = ", ".join(repr(i.name) for i in inputs) or "none"
            raise ModelImportError(f"{self.label}: the model takes {len(inputs)} inputs ({names}); CNN Studio "
                                   "networks take one")
        entry = inputs[0]
        tensor_type = entry.type.tensor_type
        if tensor_type.elem_type not in FLOAT_TYPES:
            raise ModelImportError(f"{self.label}: the input {entry.name!r} holds non-float values; CNN Studio "
                                   "networks read float images or vectors")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
        if dims and dims[0] is not None and dims[0] > 0:
            self.probes = (dims[0],)  # a fixed batch size: values computed from it are plain constants
        stored = dims[1:]
        if input_shape is not None:
            given = tuple(int(d) for d in input_shape)
            if stored and (len(stored) != len(given) or any(s not in (None, 0, g) for s, g in zip(stored, given))):
                raise ModelImportError(f"{self.label}: --input-shape {format_shape(given)} does not match the "
                                       f"model's input ({', '.join(str(d or '?') for d in stored)})")
            shape = given
        elif stored and all(d for d in stored):
            shape = tuple(stored)
        else:
            raise InputShapeNeeded(f"{self.label}: the model's input size is not fixed "
                                   f"({', '.join(str(d or '?') for d in dims) or 'no shape'}); "
                                   "give it with --input-shape C,H,W")
        self.input_name = entry.name
        self.values[entry.name] = self.assembler.input(shape, hint=None)

    def _needed_nodes(self, graph: Any) -> list[Any]:
        producer = {name: node for node in graph.node for name in node.output if name}
        needed: set[int] = set()
        stack = [self.output_name]
        seen: set[str] = set()
        while stack:
            name = stack.pop()
            if name in seen or name not in producer:
                continue
            seen.add(name)
            node = producer[name]
            needed.add(id(node))
            stack.extend(n for n in node.input if n)
        return [node for node in graph.node if id(node) in needed]

    # ------------------------------------------------------------------ the walk
    def run(self) -> tuple[Any, dict]:
        count = len(self.nodes)
        for index, node in enumerate(self.nodes, start=1):
            origin = Origin(node.name or f"{node.op_type}_{index}", node.op_type, self._place(node, index, count))
            inputs = [name for name in node.input if name]
            missing = [name for name in inputs if name not in self.known and name not in self.values
                       and name not in self.pending_pads]
            if missing:
                raise ModelImportError(f"{self.label}: node {origin.node!r} reads {missing[0]!r}, which no earlier "
                                       "node computes (the file's nodes are out of order or incomplete)")
            if node.domain not in ("", "ai.onnx"):
                raise origin.refuse(f"it comes from the {node.domain!r} operator set, not standard ONNX; the "
                                    "catalog maps standard ONNX operators only")
            if all(name in self.known for name in inputs):
                self._fold(node, origin)
            elif node.op_type in ("Shape", "Size"):
                self._shape(node)
            else:
                handler = self.handlers.get(node.op_type)
                if handler is None:
                    raise origin.refuse(missing_op_need(node.op_type))
                handler(self, node, origin)
        if self.output_name not in self.values and self.output_name not in self.pending_pads:
            raise ModelImportError(f"{self.label}: the model's output does not depend on its input")
        return self.assembler.finish(self.tensor(self.output_name, None), self.label)

    def _place(self, node: Any, index: int, count: int) -> str:
        reads = []
        for name in node.input:
            tensor = self.values.get(name) or (self.pending_pads[name][0] if name in self.pending_pads else None)
            if tensor is not None:
                reads.append(f"{name!r} {format_shape(tensor.shape)}")
        return f"at node {index} of {count}" + (f", reading {', '.join(reads)}" if reads else "")

    def _fold(self, node: Any, origin: Origin) -> None:
        from onnx.reference import ReferenceEvaluator

        inputs = [self.known[name] if name else None for name in node.input]
        rounds = max((len(k.values) for k in inputs if k is not None), default=1)
        try:
            evaluator = ReferenceEvaluator(node, opsets={"": self.opset})
            results = []
            for probe in range(rounds):
                feeds = {name: known.values[min(probe, len(known.values) - 1)]
                         for name, known in zip(node.input, inputs) if known is not None}
                results.append(evaluator.run(None, feeds))
        except Exception as error:  # the reference raises many types for ops it cannot run
            raise origin.refuse(f"its inputs are constants but it cannot be folded ({error}); CNN Studio "
                                "would need to evaluate this operator") from None
        for position, name in enumerate(node.output):
            if name:
                self.known[name] = Known(tuple(np.asarray(result[position]) for result in results))

    def _shape(self, node: Any) -> None:
        tensor = self.tensor(node.input[0], None)
        values = []
        for batch in self.probes:
            full = np.array((batch, *tensor.shape), dtype=np.int64)
            if node.op_type == "Size":
                values.append(np.array(np.prod(full), dtype=np.int64))
            else:
                start, end = self.attr(node, "start", 0), self.attr(node, "end", None)
                values.append(full[start:end])
        self.known[node.output[0]] = Known(tuple(values))

    # ------------------------------------------------------------------ for the handlers
    def tensor(self, name: str, origin: Origin | None) -> Tensor:
        """The data tensor ``name``; padding left pending by a Pad node is added now."""
        if name in self.pending_pads:
            source, pads, fill = self.pending_pads.pop(name)
            if fill != 0.0:
                where = origin or Origin(name, "Pad", "")
                raise where.refuse(f"it pads with the value {fill:g}; the catalog's ZeroPadding2D pads with zeros")
            self.values[name] = self.assembler.zero_pad(source, pads, origin or Origin(name, "Pad", ""))
        return self.values[name]

    def constant(self, name: str, origin: Origin, what: str) -> np.ndarray:
        """The constant ``name`` (a weight, an axis list...), which must not depend on the batch."""
        known = self.known.get(name)
        if known is None:
            raise origin.refuse(f"its {what} is computed from the input; the catalog needs it to be a constant")
        if known.depends_on_batch:
            raise origin.refuse(f"its {what} depends on the batch size; the catalog needs it to be fixed")
        return known.value

    def optional_constant(self, node: Any, position: int, origin: Origin, what: str) -> np.ndarray | None:
        if len(node.input) <= position or not node.input[position]:
            return None
        return self.constant(node.input[position], origin, what)

    def is_data(self, name: str) -> bool:
        return name in self.values or name in self.pending_pads

    def sole_use(self, name: str) -> bool:
        """Whether ``name`` is read by one node only and is not the model's output."""
        return self.uses.get(name, 0) == 1 and name != self.output_name

    def per_sample(self, known: Known, origin: Origin, what: str) -> Shape:
        """A full shape (batch first) computed by the graph, as a per-sample shape; the first
        entry must be exactly the batch size."""
        shapes = {tuple(int(d) for d in value) for value in known.values}
        firsts = [int(value[0]) if len(value) else None for value in known.values]
        if firsts != list(self.probes) or len({shape[1:] for shape in shapes}) != 1:
            raise origin.refuse(f"its {what} mixes the batch axis with the others; the catalog keeps each sample "
                                "apart")
        return next(iter(shapes))[1:]

    def set(self, name: str, tensor: Tensor) -> None:
        self.values[name] = tensor

    @staticmethod
    def attr(node: Any, name: str, default: Any = None) -> Any:
        from onnx import helper

        for attribute in node.attribute:
            if attribute.name == name:
                value = helper.get_attribute_value(attribute)
                return value.decode() if isinstance(value, bytes) else value
        return default


def missing_op_need(op: str) -> str:
    """What the catalog would need to import ``op``, in words."""
    if op in ("LSTM", "GRU", "RNN"):
        return f"the catalog has no recurrent layers; CNN Studio would need an {op} layer"
    if op == "Einsum":
        return "the catalog has no general tensor contraction; CNN Studio would need an Einsum layer"
    if op == "ConvTranspose":
        return "the catalog has no transposed convolution; CNN Studio would need a Conv2DTranspose layer"
    if op == "Erf":
        return ("an exact GELU written out with Erf; export with opset 20 or later (one Gelu node), or the catalog "
                "would need an Erf layer")
    return f"the catalog has no layer that computes ONNX {op}"


def load_onnx(path: Path) -> Any:
    """The ONNX model at ``path`` with its model-local functions inlined (never runs code)."""
    import onnx

    try:
        model = onnx.load(str(path))
    except Exception as error:  # protobuf's DecodeError, missing external data, ...
        raise ModelImportError(f"{path}: not a readable ONNX file ({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None
    if model.functions:
        from onnx import inliner
        model = inliner.inline_local_functions(model)
    return model
