"""Stop, pause and resume from another thread act within one batch."""

from __future__ import annotations

import threading
import time

from cnnstudio.training.callbacks import LambdaCallback
from tiny_runs import band_data, trainer


def from_another_thread(action) -> None:
    """Run ``action`` on a second thread and wait for it: the UI pressing a button."""
    thread = threading.Thread(target=action)
    thread.start()
    thread.join()


class BatchLog(LambdaCallback):
    """Counts batches; at ``(epoch, batch)`` == ``at`` runs ``then`` after the batch."""

    def __init__(self, at, then):
        super().__init__(on_epoch_begin=self.epoch_begin, on_train_batch_begin=self.batch_begin,
                         on_train_batch_end=self.batch_end, on_train_end=self.train_end)
        self.at, self.then = at, then
        self.epoch, self.batches, self.times, self.ended = 0, [], [], False

    def epoch_begin(self, epoch, logs):
        self.epoch = epoch

    def batch_begin(self, batch, logs):
        self.batches.append((self.epoch, batch))
        self.times.append(time.monotonic())

    def batch_end(self, batch, logs):
        if (self.epoch, batch) == self.at:
            self.then()

    def train_end(self, logs):
        self.ended = True


def test_request_stop_ends_the_run_after_the_current_batch():
    x, y = band_data(256)
    log = BatchLog((1, 2), lambda: from_another_thread(run.request_stop))
    run = trainer([log], epochs=3, batch_size=32)
    history = run.fit(x, y)
    assert log.batches[-1] == (1, 2)  # not one batch more
    assert run.interrupted and history.interrupted
    assert history.epoch == [0]  # the stopped epoch is unfinished: no epoch end for it
    assert log.ended  # callbacks still hear the end of training
    assert not run.stop_requested  # the request was used up


def test_pause_holds_the_run_until_resume():
    x, y = band_data(128)
    timers = []

    def pause_then_resume_later():
        from_another_thread(run.pause)
        timers.append(threading.Timer(0.3, run.resume))
        timers[0].start()

    log = BatchLog((0, 1), pause_then_resume_later)
    run = trainer([log], epochs=1, batch_size=32)
    history = run.fit(x, y)
    timers[0].join()
    assert log.batches == [(0, 0), (0, 1), (0, 2), (0, 3)]
    assert log.times[2] - log.times[1] >= 0.25  # batch 2 waited for resume()
    assert history.epoch == [0] and not run.interrupted and not run.paused


def test_stop_works_while_paused():
    x, y = band_data(128)
    timers = []

    def pause_then_stop_later():
        from_another_thread(run.pause)
        timers.append(threading.Timer(0.1, run.request_stop))
        timers[0].start()

    log = BatchLog((0, 1), pause_then_stop_later)
    run = trainer([log], epochs=2, batch_size=32)
    started = time.monotonic()
    run.fit(x, y)
    timers[0].join()
    assert time.monotonic() - started < 5
    assert log.batches == [(0, 0), (0, 1)]
    assert run.interrupted and not run.paused


def test_a_stop_requested_before_fit_runs_no_batch():
    x, y = band_data(64)
    log = BatchLog(None, lambda: None)
    run = trainer([log], epochs=2)
    run.request_stop()
    run.fit(x, y)
    assert log.batches == [] and run.interrupted


def test_stop_during_validation_skips_the_rest_of_it():
    x, y = band_data(128)
    validated = []

    def stop_at_first_validation_batch(batch, logs):
        validated.append(batch)
        from_another_thread(run.request_stop)

    run = trainer([LambdaCallback(on_test_batch_end=stop_at_first_validation_batch)], epochs=2, batch_size=16)
    history = run.fit(x, y, validation_data=(x, y))
    assert validated == [0] and history.epoch == [] and run.interrupted
