"""The smoothed loss curve follows the loss, however often points arrive: a fast run
sends fewer points per epoch (they are sent a few times a second), and its curve must
not lag further behind than a slow run's."""

from __future__ import annotations

import math

from cnnstudio.ui.training.plots import TrainingPlots


def smoothed_end(points_per_epoch: int, qtbot) -> float:
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.start_run("run")
    for step in range(1, 2 * points_per_epoch + 1):
        x = step / points_per_epoch
        plots.add_batch(x, {"loss": 2.3 * math.exp(-2 * x), "accuracy": 1 - math.exp(-2 * x)})
    return plots.current.smoothed["loss"][-1]


def test_the_smoothed_loss_ends_near_the_loss_at_any_point_rate(qtbot):
    true_end = 2.3 * math.exp(-4)
    sparse, dense = smoothed_end(8, qtbot), smoothed_end(400, qtbot)
    assert abs(sparse - dense) < 0.05 * 2.3
    assert abs(dense - true_end) < 0.05 * 2.3
