"""Cyclic garbage is collected on the UI thread only, never in a background thread that
happens to allocate (a collection there would destroy Qt objects off their thread)."""

from __future__ import annotations

import gc
import threading

from cnnstudio.ui.ui_thread_gc import UiThreadCollector


class Finalised:
    """Part of a reference cycle; says on which thread it was finalised."""

    seen: list[int] = []

    def __init__(self) -> None:
        self.cycle = self

    def __del__(self) -> None:
        Finalised.seen.append(threading.get_ident())


def test_a_busy_background_thread_never_collects_and_the_ui_thread_does(qtbot, window):
    assert window.findChild(UiThreadCollector) is None  # one collector, owned by the application
    assert qtbot  # the application runs
    assert not gc.isenabled()
    gc.collect()
    Finalised.seen = []
    for _ in range(50):
        Finalised()  # unreachable cycles: only a collection frees them

    kept = []

    def allocate_a_lot() -> None:
        kept.extend([index] for index in range(200_000))  # far past the youngest generation's threshold

    worker = threading.Thread(target=allocate_a_lot)
    worker.start()
    worker.join()
    assert Finalised.seen == [], "a collection ran in the background thread"

    qtbot.waitUntil(lambda: len(Finalised.seen) == 50, timeout=10_000)
    assert set(Finalised.seen) == {threading.get_ident()}
    del kept
