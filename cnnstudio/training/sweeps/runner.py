"""Running a sweep: Optuna picks each trial's values, and each trial is an ordinary
run of the project through the training session.

For every trial the runner applies the values to a copy of the project (layer
parameters, blocks left out) and passes the training values as overrides named
after the trial, so ``plan_run`` and ``TrainingSession`` do exactly what they do
for ``python -m cnnstudio train``: the trial is a run folder of the project
(``kind`` ``trial``, its study and values in the record) that the studio's Train
tab lists like any other.  A ``PruneTrial`` callback reports each epoch to the
trial and ends hopeless ones early.

A trial whose network is invalid, whose settings are refused or whose training
fails (a NaN loss, a dataset that does not fit) is recorded as failed with its
message, and the sweep goes on.  ``request_stop`` (Ctrl+C, the studio's Stop)
stops the trial in flight within a batch and starts no other; that trial is kept
as ``stopped`` and does not count towards the budget.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cnnstudio.core.analysis import analyze
from cnnstudio.core.project import Project, load_project

from .. import run_folder as runs
from ..settings import Override, SettingsError
from .callbacks import PruneTrial, TrialProgress
from .experiment import Experiment
from .network_edits import TrialNetworkError, training_values, trial_project
from .space import format_value
from .study import (COMPLETE, PRUNED, TrialRow, counted_trials, open_study, quiet_optuna, read_rows,
                    shown_storage, trial_row)


class TrialFailed(Exception):
    """A trial that could not give a value; its message is kept with the trial."""


class TrialStopped(Exception):
    """The user stopped the sweep while this trial ran."""


@dataclass
class SweepResult:
    rows: list[TrialRow]                               # every trial of the study, in order
    ran: list[int] = field(default_factory=list)       # the trials this session ran
    stopped: bool = False
    seconds: float = 0.0

    @property
    def ran_rows(self) -> list[TrialRow]:
        return [row for row in self.rows if row.number in self.ran]

    @property
    def all_failed(self) -> bool:
        """This session ran trials and none of them gave a value."""
        rows = self.ran_rows
        return bool(rows) and all(row.state not in (COMPLETE, PRUNED) for row in rows)


class SweepRunner:
    """Runs ``experiment`` on ``project_file`` with its study in ``storage``.

    ``project`` trains that project (the studio's unsaved state) instead of the file's;
    runs and the default storage still belong to ``project_file``.  ``stream`` gets
    one line per trial (and each trial's own lines and progress bar unless ``quiet``);
    ``events`` (an ``EventWriter``) gets the sweep's event stream."""

    def __init__(self, project_file: str | os.PathLike[str], experiment: Experiment, storage: str, *,
                 project: Project | None = None, stream: TextIO | None = None, events: Any = None,
                 quiet: bool = False) -> None:
        self.project_file = Path(project_file)
        self.project = project if project is not None else load_project(self.project_file)
        self.experiment = experiment
        self.storage = storage
        self.stream = stream
        self.events = events
        self.quiet = quiet
        self.num_classes = project_num_classes(self.project)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._session = None
        self._ran: list[int] = []
        self._target_reached = False

    # ------------------------------------------------------------------ control (any thread)
    def request_stop(self) -> None:
        with self._lock:
            self._stop.set()
            if self._session is not None:
                self._session.request_stop()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def pause(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.pause()

    def resume(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.resume()

    def set_probe_layer(self, layer: str | None) -> None:
        """A sweep shows no feature maps (the command exists for the training process)."""

    # ------------------------------------------------------------------ the sweep
    def run(self) -> SweepResult:
        import optuna

        started = time.perf_counter()
        experiment = self.experiment
        study = open_study(experiment, self.storage, sampler=self._sampler(), pruner=self._pruner())
        self.study = study
        done = counted_trials(study)
        self._emit("sweep", study=experiment.name, storage=shown_storage(self.storage), target=experiment.trials,
                   done=done, space=experiment.space.specs(), objective=experiment.objective.metric,
                   direction=experiment.objective.direction)
        self._say(f"Study {experiment.name!r} in {shown_storage(self.storage)}: {done} of {experiment.trials} "
                  f"trials done; {experiment.objective.direction} {experiment.objective.metric} over "
                  + ", ".join(f"{name}={spec}" for name, spec in experiment.space.specs().items()))
        if done >= experiment.trials:
            self._say(f"Nothing to run: the study already holds {done} trials (give --trials more than {done} "
                      "to carry it on).")
        else:
            if self.events is not None:
                self.events.phase("training", "Running trials…")
            with quiet_optuna():
                study.optimize(self._objective, n_trials=experiment.trials - done, timeout=experiment.timeout,
                               catch=(TrialFailed, TrialStopped, optuna.TrialPruned), callbacks=[self._after_trial])
        result = SweepResult(read_rows(study), list(self._ran), self.stop_requested,
                             time.perf_counter() - started)
        status = "stopped" if result.stopped else "failed" if result.all_failed else "finished"
        message = (f"stopped after {len(self._ran)} trial(s)" if result.stopped
                   else f"all {len(self._ran)} trial(s) failed" if result.all_failed else "")
        self._emit("ended", status=status, message=message, seconds=result.seconds)
        return result

    def _sampler(self):
        import optuna

        experiment = self.experiment
        if experiment.sampler == "random":
            return optuna.samplers.RandomSampler(seed=experiment.seed)
        if experiment.sampler == "grid":
            return optuna.samplers.GridSampler(experiment.space.grid(), seed=experiment.seed)
        return optuna.samplers.TPESampler(seed=experiment.seed)

    def _pruner(self):
        import optuna

        if self.experiment.pruner == "hyperband":
            return optuna.pruners.HyperbandPruner()
        if self.experiment.pruner == "none":
            return optuna.pruners.NopPruner()
        return optuna.pruners.MedianPruner()

    # ------------------------------------------------------------------ one trial
    def _objective(self, trial: Any) -> float:
        if self._stop.is_set():
            trial.set_user_attr("stopped", True)
            raise TrialStopped("stopped before it started")
        self._ran.append(trial.number)
        experiment = self.experiment
        values = experiment.space.suggest(trial)
        shown = ", ".join(f"{name}={format_value(value)}" for name, value in values.items())
        self._say(f"Trial {trial.number}: {shown}")
        self._emit("trial_started", number=trial.number, values=values)
        spec = self._plan(trial, values)
        pruning = PruneTrial(trial, experiment.objective.epoch_metric)
        progress = TrialProgress(lambda epoch, epochs, batch, steps: self._emit(
            "trial_progress", number=trial.number, epoch=epoch, epochs=epochs, batch=batch, steps=steps))
        from ..session import TrainingSession

        session = TrainingSession(spec, stream=None if self.quiet else self.stream, callbacks=[pruning, progress])
        with self._lock:
            self._session = session
            if self._stop.is_set():
                session.request_stop()
        try:
            result = session.run()
        except Exception as error:  # the session marked its run failed; the sweep goes on
            record = session.record
            if record is not None:
                trial.set_user_attr("run", str(record.folder))
            raise self._fail(trial, record.message if record is not None and record.message else str(error))
        finally:
            with self._lock:
                self._session = None
        record = result.record
        trial.set_user_attr("run", str(record.folder))
        trial.set_user_attr("seconds", float(record.timing.get("fit_seconds", result.seconds)))
        if result.status == runs.STOPPED:
            trial.set_user_attr("stopped", True)
            trial.set_user_attr("message", record.message or "stopped")
            raise TrialStopped(record.message)
        if pruning.pruned_after is not None:
            message = (f"pruned by sweep {experiment.name!r} after epoch {pruning.pruned_after + 1} "
                       f"({experiment.objective.epoch_metric} {pruning.reported:.4g})")
            runs.end_record(record, runs.STOPPED, message)
            trial.set_user_attr("message", message)
            raise _pruned(message)
        value = experiment.objective.value(record)
        if value is None:
            logged = ", ".join(sorted(record.history)) or "nothing"
            raise self._fail(trial, f"the run logged no finite {experiment.objective.metric} (it logged {logged}); "
                                    "choose another objective")
        return value

    def _plan(self, trial: Any, values: dict[str, Any]):
        """The trial's run: its project and overrides, or ``TrialFailed`` saying why there is none."""
        from ..session import plan_run

        experiment = self.experiment
        try:
            project = trial_project(self.project, experiment.space, values)
        except TrialNetworkError as error:
            raise self._fail(trial, str(error)) from None
        analysis = analyze(project.network, num_classes=self.num_classes)
        if analysis.ok:
            trial.set_user_attr("params", analysis.total_params)
            trial.set_user_attr("macs", analysis.macs)
        else:
            problems = "; ".join(d.text for d in analysis.errors) or "it has no output layer"
            raise self._fail(trial, f"the network is invalid: {problems}")
        source = f"sweep {experiment.name!r} trial {trial.number}"
        overrides = {name: Override(value, f"{source}: {name}")
                     for name, value in training_values(experiment.space, values).items()}
        try:
            spec = plan_run(self.project_file, overrides, project=project,
                            label=f"{experiment.name} · trial {trial.number}")
        except SettingsError as error:
            raise self._fail(trial, str(error)) from None
        spec.kind = "trial"
        spec.sweep = {"study": experiment.name, "trial": trial.number, "values": values,
                      "objective": experiment.objective.metric}
        return spec

    def _fail(self, trial: Any, message: str) -> TrialFailed:
        message = " ".join(message.split())
        trial.set_user_attr("message", message)
        return TrialFailed(message)

    def _after_trial(self, study: Any, frozen: Any) -> None:
        row = trial_row(frozen)
        self._emit("trial", row=row.to_json())
        self._say(f"Trial {row.number} {row.state}: " + trial_outcome(row, self.experiment.objective.metric))
        if self._stop.is_set():
            study.stop()
        elif counted_trials(study) >= self.experiment.trials:  # other machines may share the study
            study.stop()

    # ------------------------------------------------------------------ output
    def _say(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _emit(self, kind: str, **fields: Any) -> None:
        if self.events is not None:
            self.events.emit(kind, **fields)


def trial_outcome(row: TrialRow, metric: str) -> str:
    """``val_accuracy 0.9512 · 12,345 params · 1.2M MACs · 8.3 s`` or the failure's message."""
    if row.state != COMPLETE:
        head = f"{metric} {row.score:.4f} · " if row.score is not None else ""
        return head + (row.message or row.state)
    parts = [f"{metric} {row.score:.4f}" if row.score is not None else "",
             f"{row.params:,} params" if row.params is not None else "",
             f"{short_number(row.macs)} MACs" if row.macs is not None else "",
             f"{row.seconds:.3g} s" if row.seconds is not None else ""]
    return " · ".join(part for part in parts if part)


def short_number(value: float | None) -> str:
    """``1.2M``, ``340k``, ``512``."""
    if value is None:
        return ""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:g}"


def _pruned(message: str) -> Exception:
    import optuna
    return optuna.TrialPruned(message)


def project_num_classes(project: Project) -> int | None:
    classes = (project.dataset or {}).get("num_classes")
    return classes if isinstance(classes, int) and not isinstance(classes, bool) else None


__all__ = ["SweepResult", "SweepRunner", "TrialFailed", "TrialStopped", "project_num_classes", "short_number",
           "trial_outcome"]
