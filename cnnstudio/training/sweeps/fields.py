"""What the Experiments view offers to sweep, and a first spec for each.

The offered fields are the same ``ParamSpec``s the Inspector edits (those a
sweep can vary), plus ``present`` for blocks that may be left out, plus the
training settings people sweep most.  A suggested spec starts around the value
the project has now, inside what the parameter allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnstudio.core.layers import spec_for
from cnnstudio.core.network import Network

from ..config import OPTIMIZERS, TrainConfig
from .space import PRESENT, SWEEPABLE_KINDS, SpaceError, parse_dimension

TRAINING = "Training"
#: the training settings offered first, with a spec to start from
TRAINING_FIELDS = {
    "learning_rate": "1e-4..1e-1:log",
    "batch_size": "32,64,128",
    "optimizer": ",".join(OPTIMIZERS),
    "epochs": "1..5",
    "momentum": "0..0.95",
    "weight_decay": "1e-6..1e-2:log",
}


@dataclass(frozen=True)
class Field:
    name: str        # what the space calls it: learning_rate, conv2d_1.filters, dropout_1.present
    title: str       # what the view shows: "Filters", "Present (leave the block out)"
    help: str


def sweepable_fields(network: Network, owner: str) -> list[Field]:
    """The fields of ``owner`` (a layer's name, or ``TRAINING``) a sweep can vary."""
    if owner == TRAINING:
        return [Field(name, name.replace("_", " ").capitalize(), f"the training setting {name}")
                for name in TRAINING_FIELDS]
    node = network.node_by_name(owner)
    if node is None:
        return []
    spec = spec_for(node.type)
    fields = [Field(f"{owner}.{p.name}", p.title, p.help) for p in spec.params if p.kind in SWEEPABLE_KINDS]
    if spec.max_inputs != 0:
        fields.append(Field(f"{owner}.{PRESENT}", "Present (or left out)",
                            "Whether the block is in the network; leaving it out wires its input to its output"))
    return fields


def suggest_spec(network: Network, name: str, training: dict | None = None) -> str:
    """A spec to start from for ``name``, around the project's current value."""
    if "." not in name:
        current = (training or {}).get(name)
        if name in ("epochs",) and isinstance(current, int):
            return f"{max(1, current - 1)}..{current + 2}"
        if name in TRAINING_FIELDS:
            return TRAINING_FIELDS[name]
        default = getattr(TrainConfig(), name, None)
        return "true,false" if isinstance(default, bool) else str(current if current is not None else default)
    layer, _, param = name.partition(".")
    if param == PRESENT:
        return "true,false"
    node = network.node_by_name(layer)
    if node is None:
        raise SpaceError(name, f"there is no layer named {layer!r}")
    spec = spec_for(node.type).param(param)
    value = node.params.get(param, spec.default)
    if spec.kind == "bool":
        return "true,false"
    if spec.kind == "choice":
        return ",".join(spec.choices)
    if spec.kind == "pair":
        size = value[0] if isinstance(value, list) else value
        return ",".join(str(v) for v in sorted({max(1, int(size) - 2), int(size), int(size) + 2}))
    if spec.kind == "int":
        low, high = max(int(spec.minimum or 1), int(value) // 2), int(value) * 2
        if spec.maximum is not None:
            high = min(high, int(spec.maximum))
        return f"{low}..{high}" if low < high else str(value)
    low = 0.0 if spec.minimum is None else float(spec.minimum)
    high = float(spec.maximum) if spec.maximum is not None else max(1.0, float(value) * 2)
    return f"{low:g}..{min(high, max(float(value) * 2, low + 0.1)):g}"


def describe(network: Network, name: str, spec: str, num_classes: int | None = None) -> str:
    """``''`` when ``name=spec`` is a valid dimension, else why not (for the table)."""
    try:
        parse_dimension(name, spec, network, source="", num_classes=num_classes)
    except SpaceError as error:
        return error.message
    return ""


__all__ = ["Field", "TRAINING", "TRAINING_FIELDS", "describe", "suggest_spec", "sweepable_fields"]
