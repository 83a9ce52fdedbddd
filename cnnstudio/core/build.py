"""Network -> ``torch.nn.Module``, straight from the layer specs' torch recipes.

The work is split in two so that the builder and the code generator can never
disagree:

* ``plan_network`` (pure Python, no torch) checks the analysis and lists, in
  topological order, the nodes the output depends on with each node's
  ``TorchRecipe``, input names and output shape.  ``core.codegen`` prints this
  same plan as source code.
* ``build_model`` turns the plan into a ``BuiltNetwork`` module.

What a layer becomes in torch is decided by its ``LayerSpec.torch_recipe`` and
nowhere here; this module only knows how to run a recipe: the ``before`` steps,
the module, the ``after`` steps, and the two merges (``add``: the sum of the
inputs in wire order; ``concat``: ``torch.cat`` along the channel axis, 1).

The final-softmax rule
----------------------
When the output node's recipe ends with a softmax step (a Dense with
``activation='softmax'``, or a Softmax layer last), the model has
``final_softmax = True``: ``forward(x)`` returns probabilities, like the Keras
model the lecture builds, and ``logits(x)`` returns the scores just before that
last softmax.  Trainers feed ``logits(x)`` to ``nn.CrossEntropyLoss``, which
applies a numerically stable log-softmax itself.  Without a final softmax,
``logits(x)`` equals ``forward(x)``.

Torch is imported inside functions only, so importing ``cnnstudio.core`` stays
fast; ``BuiltNetwork`` and ``LayerTap`` are created on first use and are still
importable by name (``from cnnstudio.core.build import BuiltNetwork``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from .analysis import Analysis, analyze
from .diagnostics import Diagnostic
from .layers import ParamCount, Shape, spec_for
from .layers.activation import is_softmax
from .layers.base import FunctionCall, ModuleCall, TorchRecipe
from .network import Network

if TYPE_CHECKING:  # pragma: no cover
    import torch


class BuildError(ValueError):
    """The network cannot become a model; ``errors`` are the analysis's diagnostics."""

    def __init__(self, message: str, errors: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [])


# ---------------------------------------------------------------------- the plan (no torch)

@dataclass(frozen=True)
class NodeStep:
    """One node of the plan: what it computes and from which earlier nodes."""

    node_id: str
    name: str
    type: str
    inputs: tuple[str, ...]  # names of the nodes feeding it, in wire order; () for the Input
    recipe: TorchRecipe
    output_shape: Shape
    params: ParamCount

    @property
    def is_input(self) -> bool:
        return not self.inputs


@dataclass(frozen=True)
class BuildPlan:
    """Everything ``build_model`` and ``generate_code`` need, in topological order."""

    steps: tuple[NodeStep, ...]
    input_shape: Shape
    output_shape: Shape
    final_softmax: bool
    trainable_params: int
    non_trainable_params: int

    @property
    def output(self) -> NodeStep:
        return self.steps[-1]

    @property
    def layer_names(self) -> list[str]:
        return [step.name for step in self.steps]

    def logit_steps(self, step: NodeStep) -> tuple[FunctionCall, ...]:
        """The ``after`` steps of ``step`` that ``logits(x)`` runs: all of them,
        except the final softmax on the output node."""
        if self.final_softmax and step is self.output:
            return step.recipe.after[:-1]
        return step.recipe.after

    @property
    def final_call(self) -> FunctionCall | None:
        """The softmax that turns ``logits(x)`` into ``forward(x)``, if any."""
        return self.output.recipe.after[-1] if self.final_softmax else None


def plan_network(network: Network, analysis: Analysis | None = None) -> BuildPlan:
    """Check ``network`` and list the nodes its output depends on, with their recipes.

    Raises ``BuildError`` naming every analysis error (``conv2d_3: its 3x3 kernel
    does not fit the 2x2 input...``) or when there is no output.  Dead ends
    (layers whose result reaches no output) are left out.  ``analysis`` must be
    the analysis of ``network`` as it is now; it is computed when not given.
    """
    if analysis is None:
        analysis = analyze(network)
    errors = analysis.errors
    if errors:
        lines = "\n".join(f"  {error.text}" for error in errors)
        raise BuildError(f"cannot build the network; fix these first:\n{lines}", errors)
    if analysis.output_id is None or analysis.input_id is None:
        raise BuildError("cannot build the network: it is empty; add an Input layer and connect layers to it")

    needed = _feeding(analysis.output_id, analysis.inputs)
    steps = []
    for node_id in analysis.order:
        if node_id not in needed:
            continue
        node = network.node(node_id)
        result = analysis.nodes[node_id]
        recipe = spec_for(node.type).torch_recipe(node.params, result.input_shapes, result.output_shape)
        inputs = tuple(network.node(source).name for source in analysis.inputs[node_id])
        steps.append(NodeStep(node_id, node.name, node.type, inputs, recipe, tuple(result.output_shape),
                              result.params))
    # the output comes last: it depends on every other needed node
    assert steps[-1].node_id == analysis.output_id

    after = steps[-1].recipe.after
    return BuildPlan(
        steps=tuple(steps),
        input_shape=tuple(analysis.input_shape),
        output_shape=tuple(analysis.output_shape),
        final_softmax=bool(after) and is_softmax(after[-1]),
        trainable_params=sum(step.params.trainable for step in steps),
        non_trainable_params=sum(step.params.non_trainable for step in steps),
    )


#: what built and generated models add to ``nn.Module``; a layer may not be named like these
MODEL_ATTRIBUTES = frozenset({"forward", "logits", "run", "taps", "layer_names", "input_shape",
                              "output_shape", "final_softmax"})


def check_layer_names(plan: BuildPlan) -> None:
    """Refuse layer names that would hide a model attribute.

    ``name_problem`` already reserves them; this also catches attributes that a
    newer torch adds to ``nn.Module``, which would silently shadow a layer.
    """
    from torch import nn

    for step in plan.steps:
        if step.name in MODEL_ATTRIBUTES or hasattr(nn.Module, step.name):
            raise BuildError(f"cannot build the network: the layer name {step.name!r} is also an attribute "
                             "of torch modules; rename the layer")


def _feeding(output_id: str, inputs: dict[str, list[str]]) -> set[str]:
    """``output_id`` and every node with a path to it."""
    seen: set[str] = set()
    stack = [output_id]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(inputs[current])
    return seen


# ---------------------------------------------------------------------- the model (torch)

def build_model(network: Network, analysis: Analysis | None = None) -> "torch.nn.Module":
    """Build ``network`` as a ``BuiltNetwork`` (a ``torch.nn.Module``) in training mode.

    Every node with a module is a submodule named after the layer (``model.conv2d_1``),
    so ``state_dict`` keys are ``conv2d_1.weight``... exactly as in the code that
    ``core.codegen.generate_code`` writes, and weights move between the two with
    ``load_state_dict``.  Raises ``BuildError`` when the analysis has errors.
    """
    plan = plan_network(network, analysis)
    check_layer_names(plan)
    return _classes()["BuiltNetwork"](plan)


def layer_outputs(model: "torch.nn.Module", x: "torch.Tensor") -> dict[str, "torch.Tensor"]:
    """Run ``model(x)`` once and return every layer's output by name, in topological order.

    The values are each node's final result (after its activation), the Input
    included; the output node's value is ``forward``'s (after a final softmax).
    The model's mode (train/eval) is used as it is, and gradients flow as usual.
    """
    record: dict[str, Any] = {}
    model.run(x, record=record)
    return record


def instantiate(call: ModuleCall) -> "torch.nn.Module":
    """``nn.<cls>(*children, *args, **kwargs)`` for one recipe module."""
    from torch import nn

    children = [instantiate(child) for child in call.children]
    return getattr(nn, call.cls)(*children, *call.args, **dict(call.kwargs))


def _function(call: FunctionCall):
    """The torch function of a recipe step, with its keyword arguments bound."""
    import torch.nn.functional as F

    return functools.partial(getattr(F, call.name), **dict(call.kwargs))


@functools.cache
def _classes() -> dict[str, type]:
    """Define the torch classes on first use (torch loads lazily)."""
    import torch
    from torch import nn

    class LayerTap(nn.Identity):
        """A probe point: returns its input unchanged, so a forward hook on
        ``model.taps.<layer name>`` sees that layer's final output."""

    class BuiltNetwork(nn.Module):
        """A network built from the canvas.

        Attributes: ``layer_names`` (topological order, dead ends left out),
        ``input_shape`` and ``output_shape`` (one sample, PyTorch order),
        ``final_softmax`` (see the module docstring of ``cnnstudio.core.build``).

        Layer modules are submodules named after their layers; state-free
        ``LayerTap``s under ``model.taps`` mark every layer's output (activation
        included, which a hook on ``model.conv2d_1`` itself would miss), for
        feature-map probes.  During ``logits(x)`` the output layer's tap sees the
        scores before the final softmax.

        ``forward`` walks the plan in Python, so ``torch.export`` (and ONNX export,
        ``torch.compile``, ``torch.jit.trace``) work; ``torch.jit.script`` does not:
        script the generated code of ``core.codegen`` instead.
        """

        def __init__(self, plan: BuildPlan) -> None:
            super().__init__()
            self.layer_names = plan.layer_names
            self.input_shape = plan.input_shape
            self.output_shape = plan.output_shape
            self.final_softmax = plan.final_softmax
            for step in plan.steps:
                if step.recipe.module is not None:
                    self.add_module(step.name, instantiate(step.recipe.module))
            self.taps = nn.Module()
            for step in plan.steps:
                self.taps.add_module(step.name, LayerTap())
            self._plan = plan
            self._ops = [_Op(step.name, step.inputs, step.recipe.merge, step.recipe.module is not None,
                             tuple(_function(c) for c in step.recipe.before),
                             tuple(_function(c) for c in plan.logit_steps(step)))
                         for step in plan.steps]
            final = plan.final_call
            self._final = _function(final) if final is not None else None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            """The network's output: probabilities when it ends in a softmax."""
            return self.run(x)

        def logits(self, x: torch.Tensor) -> torch.Tensor:
            """The output before a final softmax (what ``nn.CrossEntropyLoss`` wants)."""
            return self.run(x, final=False)

        def run(self, x: torch.Tensor, *, final: bool = True,
                record: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
            """Walk the layers; ``final=False`` stops before a final softmax;
            ``record`` (a dict) receives every layer's output by name."""
            values: dict[str, torch.Tensor] = {}
            value = x
            last = len(self._ops) - 1
            for index, op in enumerate(self._ops):
                if not op.inputs:
                    value = x
                elif op.merge == "add":
                    value = values[op.inputs[0]]
                    for other in op.inputs[1:]:
                        value = value + values[other]
                elif op.merge == "concat":
                    value = torch.cat([values[name] for name in op.inputs], dim=1)
                else:
                    value = values[op.inputs[0]]
                for step in op.before:
                    value = step(value)
                if op.has_module:
                    value = self._modules[op.name](value)
                for step in op.after:
                    value = step(value)
                if index == last and final and self._final is not None:
                    value = self._final(value)
                value = self.taps._modules[op.name](value)
                values[op.name] = value
            if record is not None:
                record.update(values)
            return value

        def extra_repr(self) -> str:
            shape = ", ".join(str(d) for d in self.input_shape)
            return f"input_shape=({shape}), final_softmax={self.final_softmax}"

    for cls in (LayerTap, BuiltNetwork):  # picklable by name, through the module __getattr__ below
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return {"LayerTap": LayerTap, "BuiltNetwork": BuiltNetwork}


class _Op(NamedTuple):
    """One layer of ``BuiltNetwork.run``, with its recipe's functions resolved."""

    name: str
    inputs: tuple[str, ...]
    merge: str | None
    has_module: bool
    before: tuple[Callable, ...]
    after: tuple[Callable, ...]  # without a final softmax


def __getattr__(name: str) -> Any:
    if name in ("BuiltNetwork", "LayerTap"):
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
