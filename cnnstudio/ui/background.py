"""Run one slow function (an export, a dataset preview) off the UI thread and
get its result or error back as a signal on the UI thread."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot


class _Job(QObject):
    done = Signal(object)
    failed = Signal(object)

    def __init__(self, function: Callable[[], Any]) -> None:
        super().__init__()
        self.function = function

    @Slot()
    def run(self) -> None:
        try:
            self.done.emit(self.function())
        except Exception as error:  # handed to the caller's on_error, never raised across threads
            self.failed.emit(error)


class BackgroundTask(QObject):
    """``BackgroundTask(fn, on_done, on_error, parent).start()``; keep a reference until done."""

    finished = Signal()

    def __init__(self, function: Callable[[], Any], on_done: Callable[[Any], None],
                 on_error: Callable[[Exception], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.job = _Job(function)
        self.job.moveToThread(self.thread)
        self.thread.started.connect(self.job.run)
        self.job.done.connect(on_done)
        self.job.failed.connect(on_error)
        self.job.done.connect(self._end)
        self.job.failed.connect(self._end)

    def start(self) -> None:
        self.thread.start()

    def _end(self, _result: Any) -> None:
        self.thread.quit()
        self.thread.wait()
        self.finished.emit()

    def wait(self, milliseconds: int = 60000) -> bool:
        return self.thread.wait(milliseconds)
