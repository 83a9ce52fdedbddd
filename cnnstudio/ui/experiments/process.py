"""A sweep in a child process, seen from the window.

The child is the CLI's own ``python -m cnnstudio sweep PROJECT --snapshot COPY
--events``: the same runner, study and training session as on the command line.
Everything about the child process itself (reading JSON-line events, stop with
a grace period, a crash reported once) is the training process's; this class
adds the sweep's own events.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..training.process import TrainingProcess, child_environment


class SweepProcess(TrainingProcess):
    sweepStarted = Signal(dict)     # study, storage, target, done, space, objective, direction
    trialStarted = Signal(dict)     # number, values
    trialProgress = Signal(dict)    # number, epoch, epochs, batch, steps
    trialEnded = Signal(dict)       # a study.TrialRow as JSON

    def __init__(self, project_file: Path, parent: QObject | None = None) -> None:
        super().__init__(Path(project_file).parent, parent)
        self.project_file = Path(project_file)

    def start_sweep(self, snapshot: Path, arguments: list[str]) -> None:
        """Run ``sweep PROJECT --snapshot SNAPSHOT --events`` with ``arguments`` (``--trials``...)."""
        command = ["-m", "cnnstudio", "sweep", str(self.project_file), "--snapshot", str(snapshot), "--events",
                   *arguments]
        self._process.setProcessEnvironment(child_environment())
        self._process.setWorkingDirectory(str(self.folder))
        self._process.start(sys.executable, command)

    def _dispatch(self, event: dict) -> None:
        kind = event["event"]
        if kind == "sweep":
            self.sweepStarted.emit(event)
        elif kind == "trial_started":
            self.trialStarted.emit(event)
        elif kind == "trial_progress":
            self.trialProgress.emit(event)
        elif kind == "trial":
            self.trialEnded.emit(dict(event.get("row", {})))
        else:
            super()._dispatch(event)

    def _unreported_end(self, exit_code: int, crashed: bool) -> tuple[str, str]:
        """The child ended without its last word: its trial's run folder reads as failed by
        itself (its process is gone), so there is nothing to write here."""
        if self.stop_requested:
            return "stopped", f"stopped while {self.phase_words()}"
        how = "crashed" if crashed else f"ended with exit code {exit_code}"
        last = next((line for line in reversed(self.stderr_tail) if not line.startswith(" ")), "")
        return "failed", f"the sweep process {how}" + (f": {last}" if last else "")


__all__ = ["SweepProcess"]
