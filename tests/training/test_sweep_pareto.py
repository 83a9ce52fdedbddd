"""The Pareto front of score against cost is exactly the set of non-dominated points."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cnnstudio.training.sweeps.pareto import pareto_front


def dominated(i: int, costs, scores, maximize: bool) -> bool:
    """Brute force: some other point costs no more, scores no worse, and is better in one."""
    sign = 1 if maximize else -1
    return any(costs[j] <= costs[i] and sign * scores[j] >= sign * scores[i]
               and (costs[j] < costs[i] or sign * scores[j] > sign * scores[i]) for j in range(len(costs)))


def brute_force_front(costs, scores, maximize=True) -> list[int]:
    return [i for i in range(len(costs)) if not dominated(i, costs, scores, maximize)]


# small integer grids make ties (same cost, same score) common, which is where fronts go wrong
points = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(points, st.booleans())
def test_front_is_the_non_dominated_points(pairs, maximize):
    costs, scores = [c for c, _ in pairs], [s for _, s in pairs]
    assert pareto_front(costs, scores, maximize=maximize) == brute_force_front(costs, scores, maximize)


def test_a_cheaper_network_that_scores_as_well_removes_the_dearer_one():
    # params, accuracy: the 2nd is beaten by the 1st (cheaper, as good); the 4th ties the 3rd exactly
    costs, scores = [1000, 5000, 8000, 8000, 9000], [0.90, 0.90, 0.95, 0.95, 0.93]
    assert pareto_front(costs, scores) == [0, 2, 3]
    assert pareto_front(costs, [1 - s for s in scores], maximize=False) == [0, 2, 3]  # a loss, minimised
