"""Run one slow function (an export, a dataset preview, loading a run) off the UI
thread and get its result or error back on the UI thread.

Qt runs a slot in the thread of the object that owns it, but a plain Python
callable connected to a signal runs in the thread that emits it.  So the
worker's signals go to slots of ``BackgroundTask`` itself (which lives on the
UI thread), and only those call ``on_done``/``on_error``: widgets are never
created or touched from the worker.
"""

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
            result = self.function()
        except Exception as error:  # handed to the caller's on_error, never raised across threads
            self.failed.emit(error)
        else:
            self.done.emit(result)
        finally:
            QThread.currentThread().quit()  # the thread ends by itself, so waiting on it never deadlocks


class BackgroundTask(QObject):
    """``BackgroundTask(fn, on_done, on_error, parent).start()``; keep a reference until
    ``finished``.  ``on_done(result)`` and ``on_error(exception)`` run on the UI thread."""

    finished = Signal()

    def __init__(self, function: Callable[[], Any], on_done: Callable[[Any], None],
                 on_error: Callable[[Exception], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_done, self._on_error = on_done, on_error
        self.thread = QThread()
        self.job = _Job(function)
        self.job.moveToThread(self.thread)
        self.thread.started.connect(self.job.run)
        self.job.done.connect(self._deliver_result)    # slots of this UI-thread object: queued calls
        self.job.failed.connect(self._deliver_error)

    def start(self) -> None:
        self.thread.start()

    @Slot(object)
    def _deliver_result(self, result: Any) -> None:
        self._end()
        self._on_done(result)

    @Slot(object)
    def _deliver_error(self, error: Any) -> None:
        self._end()
        self._on_error(error)

    def _end(self) -> None:
        self.thread.quit()
        self.thread.wait()
        self.finished.emit()

    def wait(self, milliseconds: int = 60000) -> bool:
        """Block until the job has ended, and deliver its result (for closing and tests)."""
        ended = self.thread.wait(milliseconds)
        if ended:
            from PySide6.QtCore import QCoreApplication
            QCoreApplication.processEvents()  # the queued result, so nothing is left pending at close
        return ended


class BackgroundTasks:
    """The background jobs of one widget: started with ``run``, waited for together at close;
    each task (and its thread) is deleted as soon as its job has ended."""

    def __init__(self, owner: QObject) -> None:
        self.owner = owner
        self.tasks: list[BackgroundTask] = []

    def run(self, function: Callable[[], Any], on_done: Callable[[Any], None],
            on_error: Callable[[Exception], None]) -> BackgroundTask:
        task = BackgroundTask(function, on_done, on_error, self.owner)
        self.tasks.append(task)
        task.finished.connect(lambda: self._forget(task))
        task.start()
        return task

    def _forget(self, task: BackgroundTask) -> None:
        if task in self.tasks:
            self.tasks.remove(task)
        task.deleteLater()

    def wait(self, milliseconds: int = 60000) -> bool:
        return all(task.wait(milliseconds) for task in list(self.tasks))
