"""BackupAndRestore: a run killed part-way and started again ends with the weights of a
run that was never interrupted (same seed), whether it stopped between epochs, inside
one, or on request.

The resumed runs use another seed on purpose: their weights can only match if the
backup brought back everything (weights, optimizer, shuffling and dropout generators).
"""

from __future__ import annotations

import warnings

import pytest

from cnnstudio.training.callbacks import (BackupAndRestore, EarlyStopping, LambdaCallback, ReduceLROnPlateau,
                                          SwapEMAWeights)
from cnnstudio.training.errors import TrainingError
from tiny_runs import band_data, same_weights, tiny_network, trainer, weights_of

X, Y = band_data(200)  # 7 batches of 32 per epoch, the last one short
EPOCHS = 3


class Killed(Exception):
    """Stands for the process dying."""


def kill_at(epoch: int, batch: int) -> LambdaCallback:
    state = {"epoch": 0}

    def begin(e, logs):
        state["epoch"] = e

    def end(b, logs):
        if (state["epoch"], b) == (epoch, batch):
            raise Killed()

    return LambdaCallback(on_epoch_begin=begin, on_train_batch_end=end)


def uninterrupted(*extra):
    run = trainer(list(extra), epochs=EPOCHS)
    history = run.fit(X, Y)
    return weights_of(run.model), history


def test_a_run_killed_in_epoch_2_resumes_to_the_same_weights(tmp_path):
    expected, expected_history = uninterrupted()

    with pytest.raises(Killed):
        trainer([BackupAndRestore(tmp_path), kill_at(1, 3)], epochs=EPOCHS).fit(X, Y)
    assert (tmp_path / "backup.pt").exists()  # saved at the end of epoch 1 (index 0)

    backup = BackupAndRestore(tmp_path)
    epochs = []
    run = trainer([backup, LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))], epochs=EPOCHS, seed=99)
    history = run.fit(X, Y)
    assert backup.restored_from == tmp_path / "backup.pt"
    assert epochs == [1, 2]
    assert same_weights(weights_of(run.model), expected)
    assert history.epoch == [0, 1, 2]  # the history before the crash came back with the backup
    assert history.history["loss"] == expected_history.history["loss"]
    assert not (tmp_path / "backup.pt").exists() and not tmp_path.exists()  # a finished run cleans up


def test_a_backup_every_few_batches_resumes_inside_the_epoch(tmp_path):
    expected, expected_history = uninterrupted()
    with pytest.raises(Killed):
        trainer([BackupAndRestore(tmp_path, save_freq=3), kill_at(1, 5)], epochs=EPOCHS).fit(X, Y)
    started = []
    run = trainer([BackupAndRestore(tmp_path, save_freq=3),
                   LambdaCallback(on_train_batch_begin=lambda batch, logs: started.append(batch))], epochs=EPOCHS,
                  seed=99)
    history = run.fit(X, Y)
    assert started[0] == 5  # 7 + 5 batches were done, the last backup after 12: epoch 2 batch 6 is next
    assert same_weights(weights_of(run.model), expected)
    assert history.history["loss"] == pytest.approx(expected_history.history["loss"], rel=1e-12)


def test_a_stop_request_saves_the_exact_position_to_carry_on_from(tmp_path):
    expected, _ = uninterrupted()

    def stop(batch, logs):
        if batch == 2:
            run.request_stop()

    run = trainer([BackupAndRestore(tmp_path), LambdaCallback(on_train_batch_end=stop)], epochs=EPOCHS)
    run.fit(X, Y)
    assert run.interrupted and (tmp_path / "backup.pt").exists()

    started = []
    resumed = trainer([BackupAndRestore(tmp_path),
                       LambdaCallback(on_train_batch_begin=lambda batch, logs: started.append(batch))],
                      epochs=EPOCHS, seed=99)
    resumed.fit(X, Y)
    assert started[0] == 3
    assert same_weights(weights_of(resumed.model), expected)


def test_callback_state_and_ema_weights_come_back_with_the_backup(tmp_path):
    def extras():
        return [ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0),
                EarlyStopping(monitor="loss", patience=10, restore_best_weights=True), SwapEMAWeights(decay=0.8)]

    expected, expected_history = uninterrupted(*extras())
    with pytest.raises(Killed):
        trainer([*extras(), BackupAndRestore(tmp_path), kill_at(2, 1)], epochs=EPOCHS).fit(X, Y)
    run = trainer([*extras(), BackupAndRestore(tmp_path)], epochs=EPOCHS, seed=99)
    history = run.fit(X, Y)
    assert history.history["lr"] == expected_history.history["lr"] == [0.01, 0.01, 0.005]
    assert same_weights(weights_of(run.model), expected)


def test_a_backup_of_another_network_is_refused(tmp_path):
    with pytest.raises(Killed):
        trainer([BackupAndRestore(tmp_path), kill_at(1, 0)], epochs=EPOCHS).fit(X, Y)
    wider = tiny_network()
    wider.set_params(wider.node_by_name("conv2d_1").id, {"filters": 6})
    with pytest.raises(TrainingError, match=r"different network \(conv2d_1.weight: shape \(4, 1, 3, 3\)"):
        trainer([BackupAndRestore(tmp_path)], network=wider, epochs=EPOCHS).fit(X, Y)


def test_a_damaged_backup_is_refused_or_replaced_by_the_previous_one(tmp_path):
    with pytest.raises(Killed):
        trainer([BackupAndRestore(tmp_path, double_checkpoint=True), kill_at(2, 0)], epochs=EPOCHS).fit(X, Y)
    assert (tmp_path / "backup.previous.pt").exists()
    (tmp_path / "backup.pt").write_bytes(b"not a backup")
    with pytest.raises(TrainingError, match="backup cannot be read"):
        trainer([BackupAndRestore(tmp_path)], epochs=EPOCHS).fit(X, Y)
    backup = BackupAndRestore(tmp_path, double_checkpoint=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer([backup], epochs=EPOCHS).fit(X, Y)
    assert backup.restored_from == tmp_path / "backup.previous.pt"
    assert any("could not be read" in str(w.message) for w in caught)


def test_keeping_the_backup_after_a_finished_run(tmp_path):
    trainer([BackupAndRestore(tmp_path, delete_checkpoint=False)], epochs=1).fit(X, Y)
    assert (tmp_path / "backup.pt").exists()
    # started again, it finds the run complete and trains no further
    batches = []
    run = trainer([BackupAndRestore(tmp_path), LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))],
                  epochs=1)
    assert run.fit(X, Y).epoch == [0] and batches == []


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore("x", save_freq=0)


def test_callback_states_find_their_owners_when_the_list_is_reordered():
    from cnnstudio.training.callbacks import CallbackList, EarlyStopping

    on_loss, on_accuracy = EarlyStopping(monitor="loss"), EarlyStopping(monitor="accuracy", mode="max")
    on_loss.wait, on_accuracy.wait = 2, 5
    states = CallbackList([on_loss, on_accuracy]).state_dict()

    again_accuracy, again_loss = EarlyStopping(monitor="accuracy", mode="max"), EarlyStopping(monitor="loss")
    CallbackList([again_accuracy, again_loss]).load_state_dict(states)
    assert (again_loss.wait, again_accuracy.wait) == (2, 5)
