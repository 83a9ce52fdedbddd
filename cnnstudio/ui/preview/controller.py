"""Live previews in the window: after each edit, one sample through the network, off the UI thread.

``LivePreview`` waits for the edits to settle (``DELAY_MS``), then runs ``compute`` (by
default ``compute_preview``: the Qt-free ``lab.preview``) in a background thread.  One
preview runs at a time.  An edit while one runs asks it to stop (it checks after every
layer) and, once it has ended, the newest network is previewed; a result that is no
longer the newest is never shown (each request carries a generation number).  The window
never waits on a preview, except when it closes.

Torch is imported by the worker, never here, so the window opens without it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from cnnstudio.core.network import Network
from cnnstudio.lab.preview import NetworkPreview, PreviewCancelled
from cnnstudio.lab.preview_sample import PreviewSample

from ..document import NetworkDocument

DELAY_MS = 150
#: how long closing the window waits for a preview to notice its stop flag (it checks after each
#: layer); a preview stuck in a file read is left behind rather than holding the window open
SHUTDOWN_WAIT_S = 2.0


@dataclass(frozen=True)
class PreviewRequest:
    """Everything a preview needs, copied on the UI thread so the worker shares nothing."""

    generation: int
    network: Network
    dataset: dict | None
    base_dir: Path | None
    index: int
    runs_base: Path | None  # where to look for trained weights; None: random weights


@dataclass(frozen=True)
class PreviewResult:
    generation: int
    sample: PreviewSample | None
    preview: NetworkPreview


def latest_weights(runs_base: Path | None) -> Path | None:
    """The weights file of the newest run under ``runs_base`` that has weights."""
    from cnnstudio.training import run_folder as runs

    if runs_base is None:
        return None
    records = [record for record in runs.list_runs(runs_base) if record.has_weights]
    return records[-1].weights if records else None


def compute_preview(request: PreviewRequest, should_stop: Callable[[], bool]) -> PreviewResult:
    """The worker's job: the sample, the weights, and the preview (``PreviewCancelled`` when stopped)."""
    from cnnstudio.lab.preview import preview_network
    from cnnstudio.lab.preview_sample import project_sample

    sample = project_sample(request.dataset, request.index, request.base_dir)
    weights = latest_weights(request.runs_base)
    preview = preview_network(request.network, sample.image, weights, partial=True, should_stop=should_stop)
    if request.runs_base is not None and weights is None:
        preview = _with_note(preview, "no trained run yet: random weights")
    if sample.note:
        preview = _with_note(preview, sample.note)
    return PreviewResult(request.generation, sample, preview)


def _with_note(preview: NetworkPreview, note: str) -> NetworkPreview:
    from dataclasses import replace
    return replace(preview, notes=(note, *preview.notes))


class LivePreview(QObject):
    """The newest preview of the document's network (``result``), kept fresh after each edit."""

    changed = Signal()  # a newer result, or none (previews turned off)
    _delivered = Signal(object, object)  # (result, error) from the worker, queued to the UI thread

    def __init__(self, document: NetworkDocument, runs_base: Callable[[], Path | None] = lambda: None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.runs_base = runs_base
        self.compute: Callable[[PreviewRequest, Callable[[], bool]], PreviewResult] = compute_preview
        self.enabled = True
        self.sample_index = 0
        self.trained = False        # trained weights from the newest run, else random ones
        self.result: PreviewResult | None = None
        self.generation = 0
        self.started: list[int] = []    # generations handed to a worker, oldest first (tests read it)
        self._running: threading.Event | None = None  # the running job's stop flag
        self._running_request: PreviewRequest | None = None
        # A plain daemon thread, not a QThread: a preview stuck in a slow or endless read (a
        # network share, a pipe) must neither keep the window from closing nor abort the process
        # when its owner is destroyed while it runs, as a running QThread's destruction does.
        self._thread: threading.Thread | None = None
        self._delivered.connect(self._on_delivered)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self._start)
        document.analysisChanged.connect(self.schedule)

    # ------------------------------------------------------------------ choices
    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if enabled:
            self.schedule()
        else:
            self._timer.stop()
            self.generation += 1  # whatever runs now is stale
            if self._running is not None:
                self._running.set()
            self.result = None
            self.changed.emit()

    def set_sample_index(self, index: int) -> None:
        if index != self.sample_index:
            self.sample_index = index
            self.schedule()

    def set_trained(self, trained: bool) -> None:
        if trained != self.trained:
            self.trained = trained
            self.schedule()

    # ------------------------------------------------------------------ running
    @property
    def busy(self) -> bool:
        return self._running is not None

    def schedule(self) -> None:
        """A newer preview is wanted: start one once the edits have settled."""
        if not self.enabled:
            return
        self.generation += 1
        if self._running is not None:
            self._running.set()  # it checks after every layer; its result will not be shown
        self._timer.start()

    def _request(self) -> PreviewRequest:
        document = self.document
        return PreviewRequest(self.generation, document.network.copy(), dict(document.project.dataset or {}),
                              document.path.parent if document.path else None, self.sample_index,
                              self.runs_base() if self.trained else None)

    def _start(self) -> None:
        if not self.enabled or self._running is not None:
            return  # the running job's end starts the newest one
        if not len(self.document.network):
            self.result = None  # nothing to run a sample through
            self.changed.emit()
            return
        request = self._request()
        stop = threading.Event()
        self._running, self._running_request = stop, request
        self.started.append(request.generation)
        compute, deliver = self.compute, self._delivered

        def work() -> None:
            try:
                outcome = (compute(request, stop.is_set), None)
            except Exception as error:  # shown as the preview's reason, never raised across threads
                outcome = (None, error)
            try:
                deliver.emit(*outcome)
            except RuntimeError:
                pass  # the window went away first: nobody is waiting for this preview

        self._thread = threading.Thread(target=work, name="live-preview", daemon=True)
        self._thread.start()

    @Slot(object, object)
    def _on_delivered(self, result: PreviewResult | None, error: Exception | None) -> None:
        request, self._thread = self._running_request, None
        if error is None:
            self._finished(result)
        else:
            self._failed(request, error)

    def _finished(self, result: PreviewResult) -> None:
        self._running = None
        if result.generation == self.generation and self.enabled:
            self.result = result
            self.changed.emit()
        else:
            self._start()

    def _failed(self, request: PreviewRequest, error: Exception) -> None:
        if isinstance(error, PreviewCancelled):
            self._finished(PreviewResult(-1, None, NetworkPreview()))
            return
        self._finished(PreviewResult(request.generation, None, NetworkPreview(reason=f"no preview: {error}")))

    def wait(self, milliseconds: int = 60000) -> bool:
        """Let the running preview end (for tests and screenshots); its result is delivered."""
        thread = self._thread
        if thread is not None:
            thread.join(milliseconds / 1000)
            if thread.is_alive():
                return False
        QCoreApplication.processEvents()  # the queued result
        return True

    def shutdown(self) -> None:
        self.enabled = False
        self._timer.stop()
        if self._running is not None:
            self._running.set()
        if self._thread is not None:
            self._thread.join(SHUTDOWN_WAIT_S)

    def layer(self, name: str) -> Any:
        """The newest preview of layer ``name``, or None."""
        return self.result.preview.layer(name) if self.result is not None else None
