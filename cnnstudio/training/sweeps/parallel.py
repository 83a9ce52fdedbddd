"""A parallel-coordinates layout of a study: one vertical axis per swept setting and
one for the objective, every trial a line across them.

Positions are in 0..1 on each axis: ranges are scaled linearly (or on a log scale
for ``:log`` ranges), choices are spread evenly in the order they were listed,
and the objective spans the trials' lowest to highest score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from .space import Dimension, SearchSpace, format_value
from .study import COMPLETE, TrialRow


@dataclass
class Axis:
    title: str
    ticks: list[tuple[float, str]] = field(default_factory=list)   # (position, label)


@dataclass
class ParallelLayout:
    axes: list[Axis]
    lines: list[tuple[int, list[float]]]      # (trial number, one position per axis)
    scores: list[float]                       # each line's score, for its colour


def position(dimension: Dimension, value: Any) -> float:
    """Where ``value`` sits on ``dimension``'s axis, in 0..1."""
    if dimension.kind == "choice":
        choices = list(dimension.choices)
        index = choices.index(value) if value in choices else 0
        return index / (len(choices) - 1) if len(choices) > 1 else 0.5
    low, high = float(dimension.low), float(dimension.high)
    if dimension.log:
        return (math.log(float(value)) - math.log(low)) / (math.log(high) - math.log(low))
    return (float(value) - low) / (high - low)


def _ticks(dimension: Dimension) -> list[tuple[float, str]]:
    if dimension.kind == "choice":
        return [(position(dimension, value), format_value(value)) for value in dimension.choices]
    return [(0.0, format_value(dimension.low)), (1.0, format_value(dimension.high))]


def parallel_layout(rows: Sequence[TrialRow], space: SearchSpace, metric: str) -> ParallelLayout:
    """The layout of the complete trials (a pruned trial's score is an early epoch's)."""
    axes = [Axis(dimension.name, _ticks(dimension)) for dimension in space]
    scored = [row for row in rows if row.state == COMPLETE and row.score is not None
              and all(d.name in row.values for d in space)]
    scores = [float(row.score) for row in scored]
    low, high = (min(scores), max(scores)) if scores else (0.0, 1.0)
    span = high - low
    axes.append(Axis(metric, [(0.0, f"{low:.4g}"), (1.0, f"{high:.4g}")] if span else [(0.5, f"{low:.4g}")]))
    lines = []
    for row, score in zip(scored, scores):
        values = [position(d, row.values[d.name]) for d in space]
        lines.append((row.number, values + [(score - low) / span if span else 0.5]))
    return ParallelLayout(axes, lines, scores)


__all__ = ["Axis", "ParallelLayout", "parallel_layout", "position"]
