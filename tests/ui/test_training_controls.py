"""Stop, Pause, closing the window, and a training process that dies, while a run
trains in its own process.

The child acknowledges each command with the position the run had when it
arrived (``control`` events); Stop and Pause act at the end of the batch in
flight, so the run goes at most one batch past that position."""

from __future__ import annotations

import os
import signal

from cnnstudio.training.run_folder import read_record
from training_helpers import (RUN_TIMEOUT_MS, configure, make_training_window,  # noqa: F401 (fixtures)
                              open_lecture, train_and_wait, wait_for_progress)


def _lecture_view(make_training_window, **answers):
    window = make_training_window(**answers)
    open_lecture(window)
    return window, window.show_training()


def _stopped_position(record) -> tuple[int, int]:
    """(epoch, batches done) from ``stopped at epoch E, batch B``."""
    words = record.message.replace(",", "").split()
    return int(words[words.index("epoch") + 1]) - 1, int(words[words.index("batch") + 1])


def test_stop_ends_the_run_within_one_batch(qtbot, make_training_window):
    window, view = _lecture_view(make_training_window)
    configure(view, subset=2000, batch_size=16, epochs=10)  # ~1,100 batches: far more than can pass before Stop

    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.train_button.click()
        process = view.process
        wait_for_progress(qtbot, view)
        with qtbot.waitSignal(process.acknowledged, timeout=RUN_TIMEOUT_MS) as ack:
            view.stop_button.click()
            assert "Stopping" in view.status.text()
    assert finished.args == ["stopped"]
    view.wait_for_background()

    command, where = ack.args
    assert command == "stop" and where["training"]
    record = read_record(view.run_folder)
    epoch, step = _stopped_position(record)
    # only the batch in flight when Stop arrived, if any, finishes
    assert epoch == where["epoch"] and where["step"] <= step <= where["step"] + 1
    assert record.status == "stopped" and record.can_resume and record.has_weights
    assert not view.running and not window.document.read_only
    assert view.trained is not None  # a stopped run keeps what it learned, ready to export


def test_pause_holds_the_run_between_batches_and_resume_finishes_it(qtbot, make_training_window):
    window, view = _lecture_view(make_training_window)
    configure(view, subset=1200, batch_size=16, epochs=2)
    progress = []

    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.train_button.click()
        process = view.process
        process.progress.connect(progress.append)
        wait_for_progress(qtbot, view)
        with qtbot.waitSignal(process.acknowledged, timeout=RUN_TIMEOUT_MS) as ack:
            view.pause_button.click()
        assert view.pause_button.isChecked() and view.pause_button.text() == "Resume"
        where = ack.args[1]
        qtbot.wait(300)  # the batch in flight may still report its end
        held = len(progress)
        assert all((event["epoch"], event["batch"]) <= (where["epoch"], where["step"] + 1) for event in progress)
        with qtbot.assertNotEmitted(process.progress, wait=700):
            pass  # paused: no batch ends
        assert view.running and window.document.read_only and "Paused" in view.status.text()
        view.pause_button.click()
        assert view.pause_button.text() == "Pause"
        wait_for_progress(qtbot, view)  # going again
        assert len(progress) > held
    assert finished.args == ["finished"]
    assert read_record(view.run_folder).epochs == [0, 1]
    assert view.plots.curve_points("loss") == 2


def test_stop_while_the_dataset_loads_ends_the_run(qtbot, make_training_window, tmp_path):
    """A dataset file that never finishes reading (a FIFO nobody writes to) keeps the child
    loading for ever: Stop must end it anyway."""
    fifo = tmp_path / "endless.npz"
    os.mkfifo(fifo)
    window, view = _lecture_view(make_training_window)
    view.dataset_box.kind.setCurrentIndex(view.dataset_box.kind.findData("npz"))
    view.dataset_box.path.setText(str(fifo))
    view.dataset_box.path.editingFinished.emit()

    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.train_button.click()
        with qtbot.waitSignal(view.process.phaseChanged, timeout=RUN_TIMEOUT_MS,
                              check_params_cb=lambda phase, text: phase == "loading"):
            pass
        qtbot.wait(300)  # the child is inside the read now (a Stop sent with the event itself stops it sooner)
        view.stop_button.click()
    assert finished.args == ["stopped"]
    record = read_record(view.run_folder)
    assert record.status == "stopped" and record.message == "stopped while loading the dataset"
    assert not view.running and not window.document.read_only


def test_a_training_process_killed_mid_epoch_fails_the_run_and_nothing_else(qtbot, make_training_window, tmp_path):
    window, view = _lecture_view(make_training_window, save_to=str(tmp_path / "mine.cnnproj"))
    assert window.save_as()
    saved = (tmp_path / "mine.cnnproj").read_bytes()
    configure(view, subset=2000, batch_size=16, epochs=10)
    assert window.save()
    saved = (tmp_path / "mine.cnnproj").read_bytes()
    network = window.document.network.to_dict()

    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.train_button.click()
        wait_for_progress(qtbot, view)
        os.kill(view.process.pid, signal.SIGKILL)
    assert finished.args == ["failed"]
    record = read_record(view.run_folder)
    assert record.status == "failed" and "crashed while training" in record.message
    assert "crashed" in view.failure and window.prompter.errors[-1][0] == "Training failed"
    assert (view.run_folder / "project.cnnproj").is_file()  # the folder keeps what was written
    assert window.isVisible() and not view.running and not window.document.read_only
    assert (tmp_path / "mine.cnnproj").read_bytes() == saved and window.document.network.to_dict() == network

    configure(view, subset=96, batch_size=16, epochs=1)
    assert train_and_wait(qtbot, view) == "finished"  # the next run trains to the end


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
    process = view.process
    pid = process.pid
    wait_for_progress(qtbot, view)

    assert window.close()

    # the process ended while the window waited for it (False: the wait ran out and it had to be killed)
    assert waited == [True]
    assert ("stop_training", "") in window.prompter.questions
    assert ("save_changes", window.document.display_name) in window.prompter.questions
    assert not _alive(pid)
    assert not view.running and not window.training_running
    assert not window.isVisible()
    assert ended == ["stopped"]
    assert read_record(view.run_folder).status == "stopped"


def test_closing_the_window_during_a_run_keeps_both_when_the_user_declines(qtbot, make_training_window):
    window, view = _lecture_view(make_training_window, stop_training=False)
    configure(view, subset=2000, batch_size=16, epochs=10)
    view.train_button.click()
    wait_for_progress(qtbot, view)

    assert not window.close()

    assert ("stop_training", "") in window.prompter.questions
    assert window.isVisible() and view.running and window.document.read_only
    wait_for_progress(qtbot, view)  # still training
    with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        view.stop()
    assert finished.args == ["stopped"]
    assert not view.running and not window.document.read_only


def _alive(pid: int) -> bool:
    import psutil
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
