"""EarlyStopping, ReduceLROnPlateau, LearningRateScheduler and TerminateOnNaN, with Keras's semantics.

Most runs feed a scripted metric (``tiny_runs.scripted``) so the expected epoch
follows from the documented rules alone, whatever the network learns.
"""

from __future__ import annotations

import pytest

from cnnstudio.training.callbacks import (EarlyStopping, LambdaCallback, LearningRateScheduler, ReduceLROnPlateau,
                                          TerminateOnNaN)
from cnnstudio.training.errors import TrainingError
from tiny_runs import band_data, same_weights, scripted, trainer, weights_of

X, Y = band_data(32)  # one batch per epoch: each epoch is a few milliseconds


def run_with(values, callback, epochs=None, name="metric"):
    run = trainer([scripted(name, values), callback], epochs=epochs or len(values))
    return run, run.fit(X, Y)


# ---------------------------------------------------------------------- EarlyStopping

def test_early_stopping_waits_patience_epochs_without_improvement():
    stopper = EarlyStopping(monitor="metric", mode="min", patience=2)
    _, history = run_with([5, 4, 4.5, 4.2, 3, 2, 1], stopper)
    assert history.epoch == [0, 1, 2, 3]  # best at epoch 1, then two epochs without improvement
    assert stopper.stopped_epoch == 3 and stopper.best == 4 and stopper.best_epoch == 1


def test_early_stopping_with_patience_0_stops_at_the_first_non_improvement():
    _, history = run_with([3, 2, 2, 1], EarlyStopping(monitor="metric", mode="min"))
    assert history.epoch == [0, 1, 2]


def test_early_stopping_improvement_must_exceed_min_delta():
    _, history = run_with([1.0, 0.95, 0.8, 0.7], EarlyStopping(monitor="metric", mode="min", min_delta=0.1,
                                                               patience=1))
    assert history.epoch == [0, 1]  # 0.95 is not 0.1 better than 1.0


def test_early_stopping_max_mode_and_auto_for_accuracy():
    _, history = run_with([0.5, 0.7, 0.6, 0.6, 0.9], EarlyStopping(monitor="metric", mode="max", patience=2))
    assert history.epoch == [0, 1, 2, 3]
    _, history = run_with([0.5, 0.7, 0.6, 0.6, 0.9], EarlyStopping(monitor="val_accuracy", patience=2),
                          name="val_accuracy")
    assert history.epoch == [0, 1, 2, 3]  # auto: accuracy is maximised


def test_early_stopping_baseline_keeps_the_patience_counter_running():
    values = [0.5, 0.6, 0.6, 0.6, 0.6]
    _, history = run_with(values, EarlyStopping(monitor="metric", mode="max", patience=2, baseline=0.9))
    assert history.epoch == [0, 1, 2]  # improving, but never past the baseline: waiting went on
    _, history = run_with(values, EarlyStopping(monitor="metric", mode="max", patience=2))
    assert history.epoch == [0, 1, 2, 3]


def test_early_stopping_ignores_epochs_before_start_from_epoch():
    values = [9, 1, 5, 6, 7]
    _, history = run_with(values, EarlyStopping(monitor="metric", mode="min", start_from_epoch=2))
    assert history.epoch == [0, 1, 2, 3]
    _, history = run_with(values, EarlyStopping(monitor="metric", mode="min"))
    assert history.epoch == [0, 1, 2]


def test_early_stopping_restores_the_best_epochs_weights():
    at_epoch_end = []
    stopper = EarlyStopping(monitor="metric", mode="min", patience=2, restore_best_weights=True)
    run = trainer([scripted("metric", [3, 1, 2, 2.5, 0]),
                   LambdaCallback(on_epoch_end=lambda e, logs: at_epoch_end.append(weights_of(run.model))),
                   stopper], epochs=5)
    history = run.fit(X, Y)
    assert history.epoch == [0, 1, 2, 3]
    assert same_weights(weights_of(run.model), at_epoch_end[1])


def test_early_stopping_on_the_lectures_loss_monitor():
    """The lecture's ``EarlyStopping(monitor='loss', patience=3)`` on a real run: it may or may not stop,
    but it never stops before epoch 3 (the patience) and auto mode minimises the loss."""
    stopper = EarlyStopping(monitor="loss", patience=3)
    history = trainer([stopper], epochs=4).fit(X, Y)
    assert len(history.epoch) == 4 and stopper.best == min(history.history["loss"])


def test_early_stopping_refuses_a_metric_of_unknown_direction_in_auto_mode():
    with pytest.raises(ValueError, match="Pass mode='max'"):
        run_with([1, 2], EarlyStopping(monitor="metric"))


def test_early_stopping_on_a_missing_metric_warns_and_trains_on():
    with pytest.warns(RuntimeWarning, match="`nothing` which is not available"):
        history = trainer([EarlyStopping(monitor="nothing", mode="min")], epochs=3).fit(X, Y)
    assert history.epoch == [0, 1, 2]


# ---------------------------------------------------------------------- learning rate

def test_reduce_lr_on_plateau_cuts_after_patience_with_cooldown_and_floor():
    plateau = ReduceLROnPlateau(monitor="metric", mode="min", factor=0.5, patience=2, cooldown=1, min_lr=0.002,
                                min_delta=0.0)
    _, history = run_with([1.0] * 9, plateau)
    # the lr logged for an epoch is the one it trained with; cuts happen at epochs 2, 4 and 6
    assert history.history["lr"] == pytest.approx([0.01, 0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.002, 0.002])


def test_reduce_lr_on_plateau_resets_waiting_on_improvement():
    plateau = ReduceLROnPlateau(monitor="metric", mode="min", factor=0.1, patience=2)
    _, history = run_with([5, 5, 4, 4, 3, 3, 3], plateau)
    assert history.history["lr"] == pytest.approx([0.01] * 7)  # the cut happens at the end of the last epoch
    assert plateau.wait == 0 and plateau.cooldown_counter == 0


def test_reduce_lr_on_plateau_auto_mode_maximises_accuracy():
    plateau = ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1)
    _, history = run_with([0.5, 0.6, 0.7, 0.7, 0.8], plateau, name="val_accuracy")
    assert history.history["lr"] == pytest.approx([0.01, 0.01, 0.01, 0.01, 0.005])


def test_reduce_lr_on_plateau_refuses_a_factor_of_1_or_more():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)


def test_learning_rate_scheduler_sets_each_epochs_rate():
    schedule = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5)
    history = trainer([schedule], epochs=4).fit(X, Y)
    assert history.history["lr"] == pytest.approx([0.01, 0.01, 0.005, 0.0025])


def test_learning_rate_scheduler_accepts_the_old_one_argument_schedule():
    history = trainer([LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))], epochs=3).fit(X, Y)
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_learning_rate_scheduler_refuses_a_non_number():
    with pytest.raises(ValueError, match="should be a finite number"):
        trainer([LearningRateScheduler(lambda epoch, lr: "fast")], epochs=1).fit(X, Y)


# ---------------------------------------------------------------------- TerminateOnNaN

def test_terminate_on_nan_ends_a_run_whose_learning_rate_blows_up():
    x, y = band_data(128)
    run = trainer([TerminateOnNaN()], optimizer="sgd", learning_rate=1e12, epochs=5, batch_size=16)
    before = weights_of(run.model)
    with pytest.raises(TrainingError, match="the loss became (nan|inf)"):
        run.fit(x, y)
    assert same_weights(before, weights_of(run.model))
