"""Stop, Pause and closing the window while the worker thread trains.

Stop and Pause are flags the trainer reads between batches, so each acts
within one batch.  A callback on the worker thread (``BatchRecorder``) counts
the batches against those flags; where a button must be pressed at a known
point, it holds the worker at the end of a chosen batch until the test has
pressed it."""

from __future__ import annotations

import math

from training_helpers import (RUN_TIMEOUT_MS, batch_recorder, configure,  # noqa: F401 (fixtures)
                              make_training_window, open_lecture)


def _lecture_view(make_training_window, **answers):
    window = make_training_window(**answers)
    open_lecture(window)
    return window, window.show_training()


def test_stop_ends_the_run_within_one_batch(qtbot, make_training_window, batch_recorder):
    window, view = _lecture_view(make_training_window)
    subset, batch_size, epochs = 2000, 16, 10  # ~1,100 batches: far more than can pass before Stop
    configure(view, subset=subset, batch_size=batch_size, epochs=epochs)
    total = math.ceil(subset * 0.9 / batch_size) * epochs

    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.train_button.click()
        worker = view.session.worker
        with qtbot.waitSignal(worker.progress, timeout=RUN_TIMEOUT_MS) as first:
            pass
        assert first.args[0]["done"] >= 1
        view.stop_button.click()
        assert "Stopping" in view.status.text()
    assert finished.args == ["stopped"]

    log = batch_recorder.log
    assert log.ended_after_stop <= 1, log  # only the batch in flight when Stop was pressed, if any, finishes
    assert log.begun_after_stop <= log.ended_after_stop, log
    assert 1 <= len(log.ended) < total
    assert not view.running and not window.document.read_only
    run = view.runs[-1]
    assert run.status == "stopped" and (run.folder / "weights.safetensors").is_file()
    assert view.trained_model is not None  # a stopped run keeps what it learned, ready to export


def test_pause_holds_the_run_between_batches_and_resume_finishes_it(qtbot, make_training_window, batch_recorder):
    window, view = _lecture_view(make_training_window)
    configure(view, subset=256, batch_size=16, epochs=2)
    batch_recorder.gate_at = (0, 3)  # hold the worker at the end of the 4th batch

    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.train_button.click()
        worker = view.session.worker
        qtbot.waitUntil(batch_recorder.at_gate.is_set, timeout=RUN_TIMEOUT_MS)
        view.pause_button.click()
        assert view.pause_button.isChecked() and view.pause_button.text() == "Resume"
        assert worker.trainer.paused
        with qtbot.assertNotEmitted(worker.progress, wait=500):
            batch_recorder.gate.set()  # the worker goes on to the next batch boundary, where Pause holds it
        assert len(batch_recorder.log.ended) == 4
        assert view.running and window.document.read_only
        view.pause_button.click()
        assert view.pause_button.text() == "Pause" and not worker.trainer.paused
    assert finished.args == ["finished"]

    log = batch_recorder.log
    assert log.ended_while_paused == 0
    steps = math.ceil(round(256 * 0.9) / 16)
    assert log.ended == [(epoch, batch) for epoch in range(2) for batch in range(steps)]  # nothing lost or repeated
    assert view.plots.curve_points("loss") == 2


def test_closing_the_window_during_a_run_stops_it_when_the_user_agrees(qtbot, make_training_window, monkeypatch):
    window, view = _lecture_view(make_training_window, stop_training=True, save_changes="discard")
    configure(view, subset=2000, batch_size=16, epochs=10)
    ended = []
    view.runFinished.connect(ended.append)
    waited = []
    real_stop_and_wait = view.stop_and_wait

    def stop_and_wait(*args):
        waited.append(real_stop_and_wait(*args))
        return waited[-1]

    monkeypatch.setattr(view, "stop_and_wait", stop_and_wait)
    view.train_button.click()
    session = view.session
    with qtbot.waitSignal(session.worker.progress, timeout=RUN_TIMEOUT_MS):
        pass

    assert window.close()

    # the thread ended while the window waited for it (False: the wait ran out and the window hung until then)
    assert waited == [True]
    assert ("stop_training", "") in window.prompter.questions
    assert ("save_changes", window.document.display_name) in window.prompter.questions
    assert not session.thread.isRunning()
    assert not view.running and not window.training_running
    assert not window.isVisible()
    assert ended == ["stopped"]


def test_closing_the_window_during_a_run_keeps_both_when_the_user_declines(qtbot, make_training_window):
    window, view = _lecture_view(make_training_window, stop_training=False)
    configure(view, subset=2000, batch_size=16, epochs=10)
    view.train_button.click()
    with qtbot.waitSignal(view.session.worker.progress, timeout=RUN_TIMEOUT_MS):
        pass

    assert not window.close()

    assert ("stop_training", "") in window.prompter.questions
    assert window.isVisible() and view.running and window.document.read_only
    with qtbot.waitSignal(view.session.worker.progress, timeout=RUN_TIMEOUT_MS):
        pass  # still training
    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.stop()
    assert finished.args == ["stopped"]
    assert not view.running and not window.document.read_only
