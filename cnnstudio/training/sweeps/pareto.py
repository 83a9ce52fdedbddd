"""The Pareto front of accuracy against cost: the trials no other trial beats on both.

A trial is dominated when another one costs no more and scores no worse, and is
strictly better on at least one of the two.  The front is what is left: for
every cost, the best score anyone reached for that cost or less.
"""

from __future__ import annotations

from itertools import groupby
from typing import Sequence


def pareto_front(costs: Sequence[float], scores: Sequence[float], *, maximize: bool = True) -> list[int]:
    """Indices (ascending) of the non-dominated points; lower cost is better, and a higher
    score is better when ``maximize`` (a lower one otherwise, for a loss)."""
    if len(costs) != len(scores):
        raise ValueError(f"{len(costs)} costs but {len(scores)} scores")
    sign = 1.0 if maximize else -1.0
    order = sorted(range(len(costs)), key=lambda i: costs[i])
    front: list[int] = []
    best_cheaper = -float("inf")  # the best score among strictly cheaper points
    for _cost, group in groupby(order, key=lambda i: costs[i]):
        members = list(group)
        best_here = max(sign * scores[i] for i in members)
        if best_here > best_cheaper:
            # equal points do not dominate each other: every one with the group's best score stays
            front += [i for i in members if sign * scores[i] == best_here]
            best_cheaper = best_here
    return sorted(front)


__all__ = ["pareto_front"]
