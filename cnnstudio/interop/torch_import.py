"""PyTorch modules onto the canvas, traced with ``torch.fx``.

``import_module(module, input_shape)`` is the Python API (any ``nn.Module``
object); ``import_torch_file(path, class_name=..., class_args=..., input_shape=...,
weights=...)`` is registered for ``.py`` files and RUNS the file's code to build
the module (see ``torch_source``): the CLI does so because the user named the
file, the studio only after the user confirms.

The module is traced symbolically, then run once on a zero batch of the given
input shape with every intermediate value kept, so each node's real output shape
is known.  Nodes that compute no tensor from the input (``x.size(0)``, constants)
are bookkeeping; every other node goes to a handler of ``torch_ops``, and its
result is checked against the shape torch computed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from cnnstudio.core.layers.base import format_shape

from .assembly import NetworkAssembler, Origin, Tensor
from .model_import import ImportedModel, InputShapeNeeded, ModelImportError, register_importer
from .torch_source import first_line

if TYPE_CHECKING:  # pragma: no cover
    from torch import fx, nn

#: the batch the module is run with while tracing (2, not 1, so the batch axis shows)
TRACE_BATCH = 2
#: tensor methods that answer a question about the tensor rather than compute one
SIZE_QUESTIONS = ("size", "dim", "numel", "type", "__len__")


def import_module(module: "nn.Module", input_shape: Sequence[int], *, source: str = "",
                  name: str = "") -> ImportedModel:
    """The network and weights of ``module`` (put in eval mode) for inputs of ``input_shape``
    (C, H, W, without the batch axis)."""
    from .torch_ops import FUNCTION_HANDLERS, METHOD_HANDLERS, MODULE_HANDLERS

    label = source or f"the {type(module).__name__} module"
    if not input_shape:
        raise InputShapeNeeded(f"{label}: a PyTorch module needs its input shape (--input-shape C,H,W)")
    walker = FxWalker(module, tuple(int(d) for d in input_shape), label)
    network, state_dict = walker.run(MODULE_HANDLERS, FUNCTION_HANDLERS, METHOD_HANDLERS)
    return ImportedModel(network, state_dict, source or type(module).__name__, "pytorch",
                         name=name or type(module).__name__, notes=walker.assembler.notes)


def import_torch_file(path: str | os.PathLike[str], *, class_name: str | None = None, class_args: Any = None,
                      input_shape: Sequence[int] | None = None, weights: str | os.PathLike[str] | None = None
                      ) -> ImportedModel:
    """Run the ``.py`` file at ``path``, build ``class_name(*class_args)`` and import it,
    with the state_dict file ``weights`` loaded first when given."""
    from .torch_source import instantiate_module, load_module_weights

    file = Path(path)
    if not input_shape:
        raise InputShapeNeeded(f"{file.name}: a PyTorch module needs its input shape (--input-shape C,H,W)")
    module = instantiate_module(file, class_name, class_args)
    if weights is not None:
        load_module_weights(module, weights)
    return import_module(module, input_shape, source=str(file), name=type(module).__name__)


class FxWalker:
    """Visits a traced module's nodes; ``values`` maps each data node to its ``Tensor``."""

    def __init__(self, module: "nn.Module", input_shape: tuple[int, ...], label: str) -> None:
        self.module, self.input_shape, self.label = module, input_shape, label
        self.assembler = NetworkAssembler()
        self.values: dict[Any, Tensor] = {}
        self.recorded: dict[Any, Any] = {}
        self.called_modules: set[str] = set()

    def _trace(self) -> "fx.GraphModule":
        import torch
        import torch.fx

        self.module.eval()
        try:
            traced = torch.fx.symbolic_trace(self.module)
        except Exception as error:
            raise ModelImportError(f"{self.label}: torch.fx cannot trace it ({first_line(error)}); CNN Studio "
                                   "imports modules whose forward() does not branch on tensor values") from None
        interpreter = torch.fx.Interpreter(traced, garbage_collect_values=False)
        example = torch.zeros(TRACE_BATCH, *self.input_shape)
        try:
            with torch.no_grad():
                interpreter.run(example)
        except Exception as error:
            raise ModelImportError(f"{self.label}: running it on an input of {format_shape(self.input_shape)} "
                                   f"failed ({type(error).__name__}: {first_line(error)})") from None
        self.recorded = interpreter.env
        return traced

    def run(self, module_handlers: dict, function_handlers: dict, method_handlers: dict):
        traced = self._trace()
        self.root = traced
        nodes = [node for node in traced.graph.nodes if node.op not in ("output",)]
        inputs = [node for node in nodes if node.op == "placeholder"]
        required = [node for node in inputs if not node.args]  # placeholders without default values
        if len(required) != 1:
            raise ModelImportError(f"{self.label}: forward() takes {len(required)} inputs; CNN Studio networks "
                                   "take one")
        self.values[required[0]] = self.assembler.input(self.input_shape)
        count = len(nodes)
        for index, node in enumerate(nodes, start=1):
            if node.op == "placeholder" or not self._computes_data(node):
                continue
            origin = Origin(node.name, self._op_text(node), self._place(node, index, count))
            handler = self._handler(node, module_handlers, function_handlers, method_handlers, origin)
            result = handler(self, node, origin)
            expected = tuple(self.recorded[node].shape[1:])
            if result.shape != expected:
                raise origin.refuse(f"the catalog's layers give {format_shape(result.shape)} where torch gives "
                                    f"{format_shape(expected)}; CNN Studio would need a layer that matches it")
            self.values[node] = result
        output = next(node for node in traced.graph.nodes if node.op == "output")
        result = output.args[0]
        if not hasattr(result, "op") or result not in self.values:
            raise ModelImportError(f"{self.label}: forward() must return one tensor computed from its input")
        return self.assembler.finish(self.values[result], self.label)

    def _computes_data(self, node: Any) -> bool:
        """Whether ``node`` is a layer to map: it reads data and is no mere question about its
        size (``x.size(0)``, ``x.shape``), which only feeds reshapes."""
        import torch

        reads_data = any(self.is_data(arg) for arg in _flat(node.args) + _flat(list(node.kwargs.values())))
        if not reads_data:
            return False
        if isinstance(self.recorded.get(node), torch.Tensor):
            return True
        asks_size = (node.op == "call_method" and node.target in SIZE_QUESTIONS) or (
            node.op == "call_function" and getattr(node.target, "__name__", "") in ("getattr", "len"))
        return not asks_size

    def _handler(self, node: Any, module_handlers: dict, function_handlers: dict, method_handlers: dict,
                 origin: Origin):
        if node.op == "call_module":
            module = self.root.get_submodule(node.target)
            if node.target in self.called_modules and any(True for _ in module.parameters()):
                raise origin.refuse("it calls a layer with weights a second time (shared weights); the catalog "
                                    "gives every layer its own weights")
            self.called_modules.add(node.target)
            handler = module_handlers.get(type(module))
            if handler is None:
                raise origin.refuse(f"the catalog has no layer for torch.nn.{type(module).__name__}")
            return handler
        if node.op == "call_function":
            handler = function_handlers.get(node.target)
        elif node.op == "call_method":
            handler = method_handlers.get(node.target)
        else:
            handler = None
        if handler is None:
            raise origin.refuse(f"the catalog has no layer for {self._op_text(node)}")
        return handler

    @staticmethod
    def _op_text(node: Any) -> str:
        if node.op == "call_module":
            return f"module {node.target}"
        if node.op == "call_method":
            return f"Tensor.{node.target}"
        target = node.target
        module = getattr(target, "__module__", "") or ""
        name = getattr(target, "__name__", str(target))
        prefix = {"torch.nn.functional": "F", "_operator": "operator"}.get(module, "torch")
        return f"{prefix}.{name}"

    def _place(self, node: Any, index: int, count: int) -> str:
        reads = [f"{arg.name!r} {format_shape(self.values[arg].shape)}" for arg in _flat(node.args)
                 if self.is_data(arg)]
        return f"at node {index} of {count}" + (f", reading {', '.join(reads)}" if reads else "")

    # ------------------------------------------------------------------ for the handlers
    def is_data(self, arg: Any) -> bool:
        return hasattr(arg, "op") and arg in self.values

    def tensor(self, arg: Any, origin: Origin) -> Tensor:
        if not self.is_data(arg):
            raise origin.refuse("it works on a constant where the catalog needs a layer's output")
        return self.values[arg]

    def value(self, arg: Any) -> Any:
        """A constant argument's value (a recorded node's result, or the literal itself)."""
        return self.recorded[arg] if hasattr(arg, "op") else arg

    def submodule(self, node: Any) -> "nn.Module":
        return self.root.get_submodule(node.target)

    def sole_use(self, node: Any, arg: Any) -> bool:
        users = list(arg.users)
        return len(users) == 1 and users[0] is node

    def recorded_shape(self, node: Any, origin: Origin) -> tuple[int, ...]:
        """The per-sample shape of ``node``'s output as torch computed it."""
        shape = tuple(self.recorded[node].shape)
        if not shape or shape[0] != TRACE_BATCH:
            raise origin.refuse("it mixes the batch axis with the others; the catalog keeps each sample apart")
        return shape[1:]


def _flat(items: Any) -> list:
    out: list = []
    for item in items if isinstance(items, (list, tuple)) else [items]:
        if isinstance(item, (list, tuple)):
            out.extend(_flat(item))
        elif isinstance(item, dict):
            out.extend(_flat(list(item.values())))
        else:
            out.append(item)
    return out


register_importer(".py", import_torch_file)

__all__ = ["import_module", "import_torch_file"]
