"""The trials of a study as a text table, for the end of ``python -m cnnstudio sweep``."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .pareto import pareto_front
from .space import format_value
from .study import COMPLETE, TrialRow

COST_AXES = ("params", "macs", "seconds")


def front_numbers(rows: Sequence[TrialRow], cost: str = "params", *, maximize: bool = True) -> set[int]:
    """Numbers of the complete trials on the Pareto front of score against ``cost``."""
    scored = [row for row in rows if row.state == COMPLETE and row.score is not None and row.cost(cost) is not None]
    front = pareto_front([row.cost(cost) for row in scored], [row.score for row in scored], maximize=maximize)
    return {scored[i].number for i in front}


def format_trials(rows: Sequence[TrialRow], names: Sequence[str], metric: str, *, maximize: bool = True) -> str:
    """One line per trial: number, state, the swept values, the metric, parameters, MACs,
    training time and run folder; ``*`` marks the Pareto front of the metric against
    parameters, and failures get their message on the line below."""
    front = front_numbers(rows, maximize=maximize)
    header = ["#", "state", *names, metric, "params", "MACs", "time", "front", "run"]
    lines = [header]
    for row in rows:
        lines.append([str(row.number), row.state, *(format_value(row.values[n]) if n in row.values else "-"
                                                    for n in names),
                      f"{row.score:.4f}" if row.score is not None else "-",
                      f"{row.params:,}" if row.params is not None else "-",
                      f"{row.macs:,}" if row.macs is not None else "-",
                      f"{row.seconds:.3g}s" if row.seconds is not None else "-",
                      "*" if row.number in front else "", Path(row.run).name if row.run else "-"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = {0, *range(2 + len(names), 2 + len(names) + 4)}
    out = []
    for index, line in enumerate(lines):
        cells = [cell.rjust(width) if column in numeric and index else cell.ljust(width)
                 for column, (cell, width) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if index and rows[index - 1].message and rows[index - 1].state != COMPLETE:
            out.append(" " * (widths[0] + 2) + rows[index - 1].message)
    best = [row for row in rows if row.state == COMPLETE and row.score is not None]
    if best:
        winner = (max if maximize else min)(best, key=lambda row: row.score)
        out.append(f"best: trial {winner.number}, {metric} {winner.score:.4f}; * = Pareto front of {metric} "
                   "against parameters")
    return "\n".join(out) + "\n"


__all__ = ["COST_AXES", "format_trials", "front_numbers"]
