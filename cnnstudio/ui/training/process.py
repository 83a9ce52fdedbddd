"""One training run in a child process, seen from the window.

The child is the CLI's own entry point, ``python -m cnnstudio train COPY --out
FOLDER --events``: the very session the command line runs.  Its standard
output carries events (``cnnstudio.training.events``), read here on the UI
thread as Qt delivers them and re-emitted as signals; its standard input takes
commands (stop, pause, resume, layer).  Painting never shares a GIL or a thread
team with training, and a crash of the child (a segfault, SIGKILL, out of
memory) is just a process that ended: the run is marked failed in its folder
with what it printed last, and the window goes on.

Stop works at every moment.  While the data load or the model is built, the
child stops at its next step, and if it has not ended ``LOADING_GRACE_MS`` later
it is killed; once training runs, the stop acts within one batch (the child is
killed only if it has not ended ``TRAINING_GRACE_MS`` after the request).
``ended(status, message)`` is emitted exactly once per run, after the process
has exited, and no QProcess outlives its run.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

import cnnstudio
from cnnstudio.training import run_folder as runs
from cnnstudio.training.events import decode_array, parse_event

LOADING_GRACE_MS = 1500
TRAINING_GRACE_MS = 30_000
STDERR_LINES = 40


class TrainingProcess(QObject):
    phaseChanged = Signal(str, str)       # phase, text
    started = Signal(dict)                # the "started"-time facts: params, threads, device
    sample = Signal(object, str)          # the probed sample (C, H, W) and its caption
    batches = Signal(list)                # [[x, {"loss", "accuracy"}], ...]
    progress = Signal(dict)
    epochEnded = Signal(int, dict)
    marker = Signal(float, str)
    health = Signal(dict)                 # a training-health finding (training.health.Finding.to_json())
    maps = Signal(str, object)            # layer, (C, H, W) or (F,)
    filters = Signal(object)              # (out, in, kh, kw)
    acknowledged = Signal(str, dict)      # a command arrived in the child: stop/pause/resume, where the run was
    ended = Signal(str, str)              # status (finished, stopped, failed), message

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.phase = "starting"
        self.stop_requested = False
        self.outcome: tuple[str, str] | None = None
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_LINES)
        self._buffer = b""
        self._ended_emitted = False
        self._process = QProcess(self)
        self._process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self._process.readyReadStandardOutput.connect(self._read_events)
        self._process.readyReadStandardError.connect(self._read_errors)
        self._process.finished.connect(self._on_finished)
        self._process.errorOccurred.connect(self._on_error)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill)

    # ------------------------------------------------------------------ starting
    def start(self, project_copy: Path, *, label: str = "", probe_layer: str | None = None,
              probe_index: int = 0) -> None:
        arguments = ["-m", "cnnstudio", "train", str(project_copy), "--out", str(self.folder), "--events",
                     "--probe-index", str(probe_index)]
        if label:
            arguments += ["--label", label]
        if probe_layer:
            arguments += ["--probe-layer", probe_layer]
        self._process.setProcessEnvironment(child_environment())
        self._process.setWorkingDirectory(str(self.folder))
        self._process.start(sys.executable, arguments)

    @property
    def pid(self) -> int:
        return int(self._process.processId())

    @property
    def running(self) -> bool:
        return self._process.state() != QProcess.ProcessState.NotRunning

    # ------------------------------------------------------------------ commands
    def _send(self, command: str) -> None:
        if self._process.state() == QProcess.ProcessState.Running:
            self._process.write((command + "\n").encode("utf-8"))

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def set_layer(self, layer: str | None) -> None:
        self._send(f"layer {layer or ''}".rstrip())

    def stop(self) -> None:
        """Stop the run now: at the next step before training, within a batch while it trains."""
        if not self.running:
            return
        self.stop_requested = True
        self._send("stop")
        # before the child says anything it has nothing to keep: end it at once
        grace = {"starting": 0, "training": TRAINING_GRACE_MS}.get(self.phase, LOADING_GRACE_MS)
        if not self._kill_timer.isActive() or self._kill_timer.remainingTime() > grace:
            self._kill_timer.start(grace)

    def _kill(self) -> None:
        if self.running:
            self._process.kill()

    def wait(self, milliseconds: int = 30_000) -> bool:
        """Block until the child has ended (for closing the window); signals still follow."""
        if not self.running:
            return True
        ended = self._process.waitForFinished(milliseconds)
        if not ended:
            self._process.kill()
            ended = self._process.waitForFinished(5000)
        return ended

    # ------------------------------------------------------------------ reading
    def _read_errors(self) -> None:
        text = bytes(self._process.readAllStandardError()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self.stderr_tail.append(line.rstrip())

    def _read_events(self) -> None:
        self._buffer += bytes(self._process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            event = parse_event(line)
            if event is not None:
                self._dispatch(event)

    def _dispatch(self, event: dict) -> None:
        kind = event["event"]
        if kind == "phase":
            self.phase = str(event.get("phase", ""))
            if self.phase == "training" and self.stop_requested:  # a stop sent while loading now acts by batch
                self._kill_timer.start(TRAINING_GRACE_MS)
            self.phaseChanged.emit(self.phase, str(event.get("text", "")))
        elif kind == "sample":
            self.sample.emit(decode_array(event["array"]), str(event.get("caption", "")))
        elif kind == "batches":
            self.batches.emit(list(event.get("points", [])))
        elif kind == "progress":
            self.progress.emit(event)
        elif kind == "epoch":
            self.epochEnded.emit(int(event["epoch"]), dict(event.get("logs", {})))
        elif kind == "marker":
            self.marker.emit(float(event["x"]), str(event["text"]))
        elif kind == "health":
            if isinstance(event.get("finding"), dict):
                self.health.emit(event["finding"])
        elif kind == "maps":
            self.maps.emit(str(event["layer"]), decode_array(event["array"]))
        elif kind == "filters":
            self.filters.emit(decode_array(event["array"]))
        elif kind == "started":
            self.started.emit(event)
        elif kind == "control":
            self.acknowledged.emit(str(event.get("command", "")), event)
        elif kind == "ended":
            self.outcome = (str(event.get("status", runs.FAILED)), str(event.get("message", "")))

    # ------------------------------------------------------------------ ending
    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.stderr_tail.append(f"could not start {sys.executable}: {self._process.errorString()}")
            self._finish(-1, crashed=True)

    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._read_events()
        self._read_errors()
        self._finish(exit_code, crashed=exit_status == QProcess.ExitStatus.CrashExit)

    def _finish(self, exit_code: int, crashed: bool) -> None:
        if self._ended_emitted:
            return
        self._ended_emitted = True
        self._kill_timer.stop()
        status, message = self.outcome or self._unreported_end(exit_code, crashed)
        self._process.deleteLater()
        self.ended.emit(status, message)

    def _unreported_end(self, exit_code: int, crashed: bool) -> tuple[str, str]:
        """The child ended without its own last word: killed by Stop, or died.  The run
        folder then gets the outcome from here, keeping whatever the child wrote."""
        if self.stop_requested:
            status, message = runs.STOPPED, f"stopped while {self.phase_words()}"
        else:
            how = "crashed" if crashed else f"ended with exit code {exit_code}"
            last = next((line for line in reversed(self.stderr_tail) if not line.startswith(" ")), "")
            status = runs.FAILED
            message = f"the training process {how} while {self.phase_words()}" + (f": {last}" if last else "")
        mark_run_ended(self.folder, status, message)
        return status, message

    def phase_words(self) -> str:
        return {"starting": "starting", "loading": "loading the dataset", "building": "building the model",
                "training": "training", "saving": "saving the results",
                "evaluating": "evaluating the test set"}.get(self.phase, self.phase)


def mark_run_ended(folder: Path, status: str, message: str) -> None:
    """Write the outcome into a run folder whose process could not (killed, crashed)."""
    try:
        record = runs.read_record(folder)
    except runs.RunFolderError:
        record = runs.RunRecord(folder, label=folder.name)
    try:
        runs.end_record(record, status, message)
    except OSError:
        pass  # the folder itself is gone (a removed drive): the message still reaches the window


def child_environment() -> QProcessEnvironment:
    """The window's environment, plus: the same copy of ``cnnstudio`` the window runs
    (first on the path), unbuffered output, and OpenMP threads that sleep rather than
    spin while they wait, so an idle training thread never takes a core from the window."""
    environment = QProcessEnvironment.systemEnvironment()
    package_root = str(Path(cnnstudio.__file__).resolve().parents[1])
    existing = environment.value("PYTHONPATH", "")
    environment.insert("PYTHONPATH", package_root + (os.pathsep + existing if existing else ""))
    environment.insert("PYTHONUNBUFFERED", "1")
    if not environment.contains("OMP_WAIT_POLICY"):
        environment.insert("OMP_WAIT_POLICY", "PASSIVE")
    return environment


__all__ = ["TrainingProcess", "child_environment", "mark_run_ended"]
