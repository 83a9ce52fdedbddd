"""Receptive fields: how much of the input one neuron sees.

Forward, each spatial layer widens the field by ``(effective_kernel - 1) * jump``
and multiplies the jump (the distance on the input between neighbouring
neurons) by its stride.  Backward, the lecture's footprint table starts from
one neuron of a layer and asks how many neurons of every earlier layer it sees:
``footprint_in = (footprint_out - 1) * stride + effective_kernel``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from .layers import ReceptiveStep

#: sizes, jumps and footprints stop growing here: far beyond any input, and floats
#: (the field's centres) stay exact below it, where a chain of hundreds of strided
#: layers would otherwise multiply them past what a float can hold
FIELD_LIMIT = 2 ** 53


@dataclass(frozen=True)
class ReceptiveField:
    """Size and jump per spatial axis, in input pixels. ``whole_input`` once a
    Dense, Flatten or global pooling layer has mixed every position."""

    size: tuple[float, ...]
    jump: tuple[float, ...]
    whole_input: bool = False
    #: input coordinate of the centre of the first neuron's field, per axis
    start: tuple[float, ...] = ()

    def region(self, index: Sequence[int], input_spatial: Sequence[int]) -> tuple[tuple[int, int], ...]:
        """Input pixels ``(first, last)`` per axis that the neuron at ``index`` sees, clipped to the input."""
        if self.whole_input:
            return tuple((0, n - 1) for n in input_spatial)
        result = []
        for axis, (i, n) in enumerate(zip(index, input_spatial)):
            centre = (self.start[axis] if self.start else 0.0) + i * self.jump[axis]
            half = (self.size[axis] - 1) / 2
            result.append((max(0, math.ceil(centre - half)), min(n - 1, math.floor(centre + half))))
        return tuple(result)

    def text(self) -> str:
        if self.whole_input:
            return "whole input"
        return "x".join(_num(s) for s in self.size)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def start_field(axes: int) -> ReceptiveField:
    return ReceptiveField((1,) * axes, (1,) * axes, start=(0.0,) * axes)


WHOLE_INPUT = ReceptiveField((), (), whole_input=True)


def step_field(field: ReceptiveField, step: ReceptiveStep | None) -> ReceptiveField:
    """The field after one layer."""
    if field.whole_input or step is None:
        return field
    sizes, jumps, starts = [], [], []
    for axis, (size, jump) in enumerate(zip(field.size, field.jump)):
        start = field.start[axis] if field.start else 0.0
        if step.upsample:
            factor = step.upsample[axis]
            sizes.append(size)
            jumps.append(jump / factor)
            starts.append(start - (factor - 1) / (2 * factor) * jump)
            continue
        kernel = step.effective_kernel(axis)
        pad = step.pad_before[axis] if step.pad_before else 0
        sizes.append(min(size + (kernel - 1) * jump, FIELD_LIMIT))
        jumps.append(min(jump * step.stride[axis], FIELD_LIMIT))
        starts.append(start + ((kernel - 1) / 2 - pad) * jump)
    return ReceptiveField(tuple(sizes), tuple(jumps), start=tuple(starts))


def merge_fields(fields: Sequence[ReceptiveField]) -> ReceptiveField:
    """A merge sees the union of its branches: the widest field, the finest jump."""
    if any(f.whole_input for f in fields) or len({len(f.size) for f in fields}) != 1:
        return WHOLE_INPUT
    axes = range(len(fields[0].size))
    sizes = tuple(max(f.size[a] for f in fields) for a in axes)
    jumps = tuple(min(f.jump[a] for f in fields) for a in axes)
    starts = tuple(min(f.start[a] if f.start else 0.0 for f in fields) for a in axes)
    return ReceptiveField(sizes, jumps, start=starts)


def coverage(field: ReceptiveField, input_spatial: Sequence[int]) -> float:
    """Share of the input's pixels one neuron sees (a centred neuron: the field clipped to the input)."""
    if field.whole_input:
        return 1.0
    seen = math.prod(min(s, n) for s, n in zip(field.size, input_spatial))
    return seen / math.prod(input_spatial)


def step_back(footprint: tuple[int, ...], step: ReceptiveStep | None) -> tuple[int, ...]:
    """How many neurons before a layer ``footprint`` neurons after it see."""
    if step is None:
        return footprint
    if step.upsample:
        return tuple(math.ceil(f / u) for f, u in zip(footprint, step.upsample))
    return tuple(min((f - 1) * s + step.effective_kernel(a), FIELD_LIMIT)
                 for a, (f, s) in enumerate(zip(footprint, step.stride)))


def footprints(order: Sequence[str], inputs: Mapping[str, Sequence[str]],
               steps: Mapping[str, ReceptiveStep | None], target: str, axes: int) -> dict[str, tuple[int, ...]]:
    """Footprint of one ``target`` neuron on the output of every node it depends on."""
    result: dict[str, tuple[int, ...]] = {target: (1,) * axes}
    for node_id in reversed(order[: order.index(target) + 1]):
        if node_id not in result:
            continue
        seen = step_back(result[node_id], steps.get(node_id))
        for source in inputs.get(node_id, ()):
            previous = result.get(source)
            result[source] = seen if previous is None else tuple(max(a, b) for a, b in zip(previous, seen))
    return result
