"""Fifty runs started and stopped at random moments, from the first instant of the
training process to the middle of an epoch: nothing crashes, and no thread,
process or memory is left behind."""

from __future__ import annotations

import gc
import random

import psutil
import pytest
from PySide6.QtCore import QThread

from training_helpers import RUN_TIMEOUT_MS, configure, make_training_window, open_lecture  # noqa: F401 (fixture)

CYCLES = 50


def _threads_alive() -> int:
    return sum(1 for item in gc.get_objects() if issubclass(type(item), QThread))


@pytest.mark.slow
def test_fifty_start_stop_cycles_leave_no_thread_process_or_memory_behind(qtbot, make_training_window):
    window = make_training_window()
    open_lecture(window)
    view = window.show_training()
    configure(view, subset=600, batch_size=16, epochs=5)
    me = psutil.Process()
    rng = random.Random(1203)
    ended: list[str] = []
    view.runFinished.connect(ended.append)

    def cycle(delay_ms: int) -> None:
        with qtbot.waitSignal(view.runFinished, timeout=RUN_TIMEOUT_MS):
            view.train_button.click()
            if delay_ms:
                qtbot.wait(delay_ms)
            if view.running:
                view.stop_button.click()
        view.wait_for_background()
        qtbot.wait(10)  # deleteLater of the ended run's objects

    cycle(2500)  # one full start first: the memory of loading torch and the plots is not a leak
    gc.collect()
    rss_before, threads_before = me.memory_info().rss, _threads_alive()

    delays = [0 if index % 5 == 0 else rng.randint(0, 3000) for index in range(CYCLES)]
    for delay in delays:
        cycle(delay)

    gc.collect()
    assert len(ended) == CYCLES + 1 and set(ended) <= {"stopped", "finished"}
    assert not view.running and view.process is None and not window.document.read_only
    assert [child for child in me.children(recursive=True) if child.status() != psutil.STATUS_ZOMBIE] == []
    assert _threads_alive() <= threads_before
    grown = (me.memory_info().rss - rss_before) / 2**20
    assert grown < 50, f"the window's memory grew by {grown:.0f} MB over {CYCLES} runs"
    assert len(view.runs) == CYCLES + 1 and view.run_box.count() == CYCLES + 1
