"""Python's cyclic garbage collector runs on the UI thread only.

CPython starts a collection in whichever thread happens to allocate past the
threshold.  In the studio that can be a background thread (an export, a run
loading, a preview), and a collection there finalises whatever cyclic garbage
exists at that moment, Qt widgets and pyqtgraph items included: destroying Qt
objects off their thread crashes or deadlocks the process.  So automatic
collection is switched off and a timer on the UI thread collects instead, with
the same generation thresholds CPython would use (pyqtgraph's GarbageCollector
does the same; it is not used here because importing it loads all of
pyqtgraph, which the editor does not otherwise need at start-up).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

CHECK_INTERVAL_MS = 500


class UiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_INTERVAL_MS)
        self.timer.timeout.connect(self.collect_if_due)
        self.timer.start()

    def collect_if_due(self) -> None:
        counts = gc.get_count()
        # as CPython does: a younger generation over its threshold may carry the older ones with it
        for generation in (2, 1, 0):
            if all(counts[g] > self.thresholds[g] for g in range(generation + 1)):
                gc.collect(generation)
                return


def collect_garbage_on_ui_thread() -> None:
    """Install the collector once per application; call on the UI thread after the
    QApplication exists (the main window does)."""
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        raise RuntimeError("collect_garbage_on_ui_thread must be called on the UI thread of a running application")
    if app.findChild(UiThreadCollector) is None:
        UiThreadCollector(app)
