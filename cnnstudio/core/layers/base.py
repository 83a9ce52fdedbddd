"""The vocabulary every layer spec is written in.

A ``LayerSpec`` is the single place that knows a layer type: its parameter
schema (which drives the inspector, file validation and the JSON schema), its
shape rule, its parameter count, its cost, its receptive-field step, a
plain-words explanation with the user's numbers filled in, and the recipe of the
torch module it becomes.  Nothing here imports torch: the recipe is plain data
that ``core.build`` instantiates and ``core.codegen`` prints, so both always
agree.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from .params import PARAM_KINDS, ParamError, ParamSpec, format_number  # noqa: F401  (the catalog's vocabulary)

Shape = tuple[int, ...]
Params = Mapping[str, Any]


class ShapeError(Exception):
    """A layer cannot accept its input; ``fix`` tells the user what to change."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


# --------------------------------------------------------------------------- torch recipes

@dataclass(frozen=True)
class ModuleCall:
    """``nn.<cls>(*args, **kwargs)``; ``children`` make an ``nn.Sequential``."""

    cls: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    children: tuple["ModuleCall", ...] = ()


@dataclass(frozen=True)
class FunctionCall:
    """A parameter-free step on the running tensor: ``F.<name>(x, **kwargs)``."""

    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class TorchRecipe:
    """What one node becomes in torch: optional steps around one module.

    ``merge`` is ``"add"`` or ``"concat"`` for nodes that combine several
    inputs; for those ``module`` is ``None``.
    """

    module: ModuleCall | None = None
    before: tuple[FunctionCall, ...] = ()
    after: tuple[FunctionCall, ...] = ()
    merge: str | None = None


def kw(**kwargs: Any) -> tuple[tuple[str, Any], ...]:
    """Keyword arguments as a hashable, ordered tuple."""
    return tuple(kwargs.items())


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class ParamCount:
    trainable: int = 0
    non_trainable: int = 0

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable


@dataclass(frozen=True)
class ReceptiveStep:
    """How one layer widens the receptive field along each spatial axis."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...] = ()
    upsample: tuple[int, ...] = ()
    #: zeros added before the first pixel (top, left): they shift where each window sits
    pad_before: tuple[int, ...] = ()

    def effective_kernel(self, axis: int) -> int:
        dilation = self.dilation[axis] if self.dilation else 1
        return dilation * (self.kernel[axis] - 1) + 1


@dataclass
class Explanation:
    """Plain-words lines for the inspector: what the layer does and its formulas."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines)


# --------------------------------------------------------------------------- the spec

ACTIVATIONS = ("linear", "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax")


class LayerSpec:
    """Base class of every layer type; subclasses fill in the class attributes
    and override the rules that differ from the defaults here."""

    type_name: str = ""
    family: str = ""
    name_prefix: str = ""
    summary: str = ""
    params: tuple[ParamSpec, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1
    #: the input rank the layer accepts: ``"image"`` (C,H,W), ``"sequence"`` (C,L),
    #: ``"vector"`` (N,), or ``"any"``
    accepts: str = "any"

    # ----- parameters
    def defaults(self) -> dict[str, Any]:
        return {p.name: (list(p.default) if isinstance(p.default, list) else p.default)
                for p in self.params}

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def normalize_params(self, given: Params | None) -> dict[str, Any]:
        """Defaults completed with ``given``; every value checked and canonical."""
        given = dict(given or {})
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise ParamError(unknown[0], f"{self.type_name} has no parameter {unknown[0]!r} (it has: {allowed})")
        values = self.defaults()
        for p in self.params:
            if p.name in given:
                values[p.name] = p.normalize(given[p.name])
        self.check_params(values)
        return values

    def check_params(self, values: dict[str, Any]) -> None:
        """Checks that involve several parameters; raise ``ParamError``."""

    # ----- rules (subclasses override)
    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        return inputs[0]

    def param_count(self, p: Params, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount()

    def macs(self, p: Params, inputs: Sequence[Shape], output: Shape) -> int:
        return 0

    def receptive_step(self, p: Params, inputs: Sequence[Shape]) -> ReceptiveStep | None:
        """``None`` keeps the field unchanged; spatial layers return their step."""
        return None

    #: layers after which every output sees the whole input (Flatten, Dense, global pooling)
    global_view: bool = False

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        return Explanation([self.summary])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        raise NotImplementedError(self.type_name)

    def key_settings(self, p: Params) -> str:
        """A short label of the settings that matter, for blocks on the canvas."""
        return ""

    # ----- helpers for subclasses
    def check_rank(self, inputs: Sequence[Shape]) -> None:
        rank = {"image": 3, "sequence": 2, "vector": 1}.get(self.accepts)
        if rank is None:
            return
        for shape in inputs:
            if len(shape) != rank:
                raise ShapeError(self._rank_message(shape), self._rank_fix(shape))

    def _rank_message(self, shape: Shape) -> str:
        wanted = {"image": "an image tensor (C, H, W)", "sequence": "a sequence tensor (C, L)",
                  "vector": "a flat vector (N,)"}[self.accepts]
        return f"{self.type_name} needs {wanted} but receives {describe_shape(shape)}"

    def _rank_fix(self, shape: Shape) -> str:
        if self.accepts == "vector" and len(shape) > 1:
            return "Insert a Flatten (or GlobalAveragePooling2D) layer before it."
        if self.accepts == "image" and len(shape) == 2:
            return "Use the 1-D variant (Conv1D) for sequences, or give the Input an image shape (C, H, W)."
        if self.accepts == "image" and len(shape) == 1:
            return "Move this layer before the Flatten, or Reshape the vector back into (C, H, W)."
        return "Change the layer before it so that the shapes match."


def shape_words(shape: Sequence[int]) -> str:
    """A shape in words that read the same in PyTorch and Keras order: ``1 ch · 28×28``,
    ``16 ch · 100 long``, ``784 values`` (blocks show it beside the ordered output shape)."""
    dims = [int(d) for d in shape]
    if len(dims) == 3:
        return f"{dims[0]} ch · {dims[1]}×{dims[2]}"
    if len(dims) == 2:
        return f"{dims[0]} ch · {dims[1]} long"
    if len(dims) == 1:
        return f"{dims[0]:,} values"
    return "×".join(str(d) for d in dims)


def describe_shape(shape: Shape) -> str:
    names = {1: "a vector", 2: "a sequence", 3: "an image tensor"}
    return f"{names.get(len(shape), 'a tensor')} of shape {format_shape(shape)}"


def format_shape(shape: Shape | None, order: str = "torch") -> str:
    """``(32, 26, 26)`` in PyTorch order; ``(26, 26, 32)`` with ``order='keras'``."""
    if shape is None:
        return "?"
    dims = tuple(shape)
    if order == "keras" and len(dims) >= 2:
        dims = dims[1:] + dims[:1]
    if len(dims) == 1:
        return f"({dims[0]},)"
    return "(" + ", ".join(str(d) for d in dims) + ")"


RESERVED_NAMES = frozenset({
    "forward", "logits", "training", "train", "eval", "parameters", "buffers", "modules",
    "children", "state_dict", "load_state_dict", "to", "cuda", "cpu", "type", "float",
    "double", "half", "apply", "register_buffer", "add_module", "zero_grad", "x", "self",
    "torch", "nn", "F", "inputs", "outputs", "final_softmax",
    # the rest of torch.nn.Module's public attributes: a layer named like one would hide it
    # (or the layer) in the built model and in generated code
    "T_destination", "bfloat16", "call_super_init", "compile", "dump_patches", "extra_repr",
    "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "ipu", "mtia",
    "named_buffers", "named_children", "named_modules", "named_parameters", "register_backward_hook",
    "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook", "register_module", "register_parameter",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
    "set_extra_state", "set_submodule", "share_memory", "to_empty", "xpu",
    # attributes core.build and core.codegen give their models
    "layer_names", "input_shape", "output_shape", "taps", "run",
})


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a layer (it becomes a Python attribute), or None."""
    if not name:
        return "a layer name cannot be empty"
    if not name.isidentifier() or not name.isascii():
        return (f"{name!r} is not a valid layer name: use letters, digits and underscores, "
                "starting with a letter")
    if keyword.iskeyword(name) or name in RESERVED_NAMES or name.startswith("_"):
        return f"{name!r} is reserved; choose another layer name"
    return None
