"""The training-health rules from plain numbers: where each threshold lies, and what a
finding says."""

from __future__ import annotations

import math

from cnnstudio.training import health
from cnnstudio.training.health import Finding


def test_balanced_classes_are_fine_and_a_tenfold_difference_is_not():
    assert health.class_imbalance([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]) is None
    finding = health.class_imbalance([500, 50, 400], ["cat", "dog", "bird"])
    assert finding.kind == "class_imbalance"
    assert "'cat'" in finding.cause and "'dog'" in finding.cause and "53%" in finding.cause  # 500 of 950
    assert finding.numbers["ratio"] == 10.0


def test_a_class_without_samples_counts_as_unbalanced():
    assert health.class_imbalance([10, 0, 10]).numbers["ratio"] == "no samples"


def test_a_relu_layer_is_dead_when_half_its_units_never_fire():
    found = health.dead_relus({"conv2d_1": (3, 32), "dense_1": (40, 64)}, epoch=2)
    assert [(f.layer, f.numbers["dead_units"], f.epoch, f.x) for f in found] == [("dense_1", 40, 2, 3.0)]


def test_gradients_are_compared_with_the_output_layers():
    healthy = {"conv2d_1": 4e-3, "conv2d_2": 1.5e-3, "dense_1": 2e-3, "dense_2": 1.3e-2}
    assert health.gradient_problems(healthy, 0) == []
    vanishing = health.gradient_problems({"dense_1": 1e-9, "dense_2": 1e-7, "dense_3": 1e-2, "out": 1e-2}, 0)
    assert [(f.kind, f.layers) for f in vanishing] == [("vanishing_gradients", ("dense_1", "dense_2"))]
    exploding = health.gradient_problems({"dense_1": 1e4, "out": 1.0}, 1)
    assert [(f.kind, f.layer, f.epoch) for f in exploding] == [("exploding_gradients", "dense_1", 1)]


def test_no_gradient_at_all_is_not_called_vanishing():
    assert health.gradient_problems({"dense_1": 0.0, "out": 1.0}, 0) == []


def test_a_loss_that_rises_from_the_start_means_too_high_a_learning_rate():
    assert health.loss_too_high_lr([2.3, 2.2, 2.1, 1.5], [0.1, 0.2, 0.3, 1.0], 0.001) is None
    rising = health.loss_too_high_lr([2.3, 9.0, 7.0, 3.0], [0.1, 0.2, 0.3, 1.0], 10.0)
    assert rising.kind == "lr_too_high" and rising.numbers["highest_loss"] == 9.0 and rising.x == 0.2
    broken = health.loss_too_high_lr([2.3, 2.5, math.inf], [0.1, 0.2, 1.0], 1.0)
    assert broken.numbers["loss"] == math.inf and broken.epoch == 0


def test_a_loss_jumping_up_and_down_without_falling_means_too_high_a_learning_rate():
    losses = [2.3, 3.5, 2.2, 3.6, 2.1, 3.4, 2.4]
    finding = health.loss_too_high_lr(losses, [i / 10 for i in range(len(losses))], 0.5)
    assert finding is not None and "up and down" in finding.cause


def test_no_progress_needs_a_flat_loss_and_chance_accuracy():
    assert health.no_progress(2.30, 1.20, 0.6, 0.1, 1e-3, 0) is None
    assert health.no_progress(2.30, 2.29, 0.6, 0.1, 1e-3, 0) is None  # accuracy says it learns
    finding = health.no_progress(2.30, 2.29, 0.11, 0.1, 1e-7, 0)
    assert finding.kind == "no_progress" and "too low a learning rate" in finding.cause
    twice = health.no_progress(2.30, 2.29, 0.11, 0.1, 1e-3, 0, scores_are_probabilities=True)
    assert "softmax" in twice.cause and "sum to 1" in twice.cause


def test_overfitting_begins_the_epoch_after_the_best_validation_loss():
    loss = [1.0, 0.6, 0.4, 0.3, 0.2]
    assert health.overfitting(loss, [1.0, 0.7, 0.6, 0.55, 0.5]) is None
    assert health.overfitting(loss, [1.0, 0.7, 0.6, 0.61, 0.62]) is None  # within noise
    finding = health.overfitting(loss, [1.0, 0.7, 0.6, 0.7, 0.8])
    assert finding.epoch == 3 and finding.x == 3.0 and finding.numbers["best_epoch"] == 3
    assert "epoch 4" in finding.title


def test_a_finding_reads_as_one_paragraph_and_survives_json():
    finding = health.non_finite("dense_1", "output", 0, 0, 0.1, 12, 1600)
    text = finding.text()
    assert text.startswith("Infinite or NaN values first appeared in the output of layer dense_1")
    assert "12 of 1,600" in text and "Fix: lower the learning rate" in text
    assert Finding.from_json(finding.to_json()) == finding
