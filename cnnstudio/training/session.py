"""One training session for the command line, the studio and sweeps.

``plan_run`` turns a project file plus overrides (CLI flags, a sweep's trial)
into a ``RunSpec``: the project as it will be trained, its resolved settings
(``settings.resolve_settings``), the run folder and whether it carries on from a
stopped run.  ``TrainingSession(spec).run()`` does the rest, the same way for
every caller:

1. writes the run folder's record (``running``) and a copy of the project;
2. loads the dataset (a class-balanced subset when asked), checks it fits the
   network, and holds out the stratified validation split;
3. builds the trainer with the project's callbacks, a backup for stopping and
   carrying on, the run record's per-epoch history, the thread policy
   (``threads``), the training-health checks (``health_monitor``: findings go
   into the record and the event stream as they are made, and are printed at
   the end), and whatever the caller watches with (a progress bar, an event
   stream);
4. trains, then keeps the final weights, the validation predictions and the
   test metrics in the folder and marks the run finished, stopped or failed.

The studio runs this in a child process (``python -m cnnstudio train ...
--events``) and reads its events; the CLI runs it in-process with a progress
bar.  ``request_stop``, ``pause`` and ``resume`` may be called from another
thread at any moment: before training starts a stop ends the run at the next
step; once it trains they act within one batch.

Errors: ``SettingsError`` and ``ProjectError`` (bad input, nothing written),
``DatasetError``, ``DataMismatchError`` and ``NotEnoughMemoryError`` (bad data, or a
network the device cannot hold; the run is marked failed),
``TrainingError`` (the run failed: NaN, out of memory...).  The project file is
only ever read.
"""

from __future__ import annotations

import os
import platform
import random
import socket
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence, TextIO

import numpy as np

from cnnstudio.core.atomic_file import write_atomic
from cnnstudio.core.project import Project, dumps, load_project

from . import run_folder as runs
from .callbacks.base import Callback
from .errors import DataMismatchError, TrainingError
from .settings import Override, ResolvedSettings, SettingsError, resolve_settings

#: most validation samples whose pixels are kept in ``predictions.npz`` (for the results view)
MAX_KEPT_SAMPLES = 10_000


class StoppedBeforeTraining(Exception):
    """A stop request arrived while the data loaded or the model was built."""


@dataclass
class RunSpec:
    """Everything one run needs, decided before any data is loaded."""

    project: Project
    project_file: Path | None
    settings: ResolvedSettings
    folder: Path | None = None          # None: a new folder in the project's runs folder
    resume: bool = False                # carry on from folder/backup
    label: str = ""
    evaluate_test: bool = True
    probe_layer: str | None = None      # the layer whose feature maps an event stream shows
    probe_index: int = 0                # which validation sample they are computed for
    seed_chosen: str = "set"            # "set", "random" (drawn for this run) or "from the stopped run"
    kind: str = "train"                 # the record's kind: "trial" for a sweep's trial
    sweep: dict[str, Any] | None = None  # a trial's study, number and values, kept in the record


@dataclass
class RunResult:
    """How a session ended."""

    record: runs.RunRecord
    status: str
    history: Any = None                 # the trainer's History
    weights: list[Path] = field(default_factory=list)
    test_metrics: dict[str, float] | None = None
    seconds: float = 0.0

    @property
    def folder(self) -> Path:
        return self.record.folder

    @property
    def interrupted(self) -> bool:
        return self.status == runs.STOPPED


# ============================================================================ planning

def plan_run(project_file: str | os.PathLike[str], overrides: Mapping[str, Any] | None = None, *,
             out_dir: str | os.PathLike[str] | None = None, resume: bool | str = False, restart: bool = False,
             label: str = "", evaluate_test: bool = True, project: Project | None = None) -> RunSpec:
    """The run ``python -m cnnstudio train`` would make (see the module docstring).

    ``overrides`` maps setting names (``epochs``, ``learning_rate``, ``subset``...;
    ``settings.FLAGS`` lists them) to ``Override``s, or to plain values, which
    messages then name by the setting's name.  ``out_dir`` trains into that folder
    (carrying on from a backup there unless ``restart``); ``resume=True`` carries on
    from the project's newest stopped run and ``resume="ID"`` from that run, with
    the run's own project and settings (overrides still apply on top).  ``project`` trains that
    project (held in memory, e.g. a sweep's trial) as if it were ``project_file``: its
    runs folder and its relative dataset paths are still ``project_file``'s."""
    project_file = Path(project_file)
    overrides = {name: value if isinstance(value, Override) else Override(value, name)
                 for name, value in (overrides or {}).items()}
    stopped: runs.RunRecord | None = None
    if resume:
        stopped = _stopped_run(project_file, resume)
        project = load_project(stopped.project_file)
        dataset, training = stopped.settings.get("dataset"), stopped.settings.get("training")
        where = f"{stopped.folder / runs.RECORD_FILE}"
        folder: Path | None = stopped.folder
    else:
        project = project if project is not None else load_project(project_file)
        dataset, training, where = project.dataset, project.training, str(project_file)
        folder = Path(out_dir) if out_dir is not None else None
    settings = resolve_settings(dataset, training, overrides, where=where, base_dir=project_file.parent)

    carry_on = bool(stopped)
    if folder is not None and not stopped:
        backup = folder / runs.BACKUP_DIR
        if restart and backup.exists():
            import shutil
            shutil.rmtree(backup)
        carry_on = (backup / "backup.pt").exists()
        if carry_on:
            try:
                stopped = runs.read_record(folder)
            except runs.RunFolderError:
                stopped = None
    seed_chosen = "set"
    if settings.config.seed is None:
        recorded = (stopped.environment.get("seed") if stopped is not None else None) if carry_on else None
        if isinstance(recorded, int):
            seed, seed_chosen = recorded, "from the stopped run"
        elif settings.config.deterministic:
            seed, seed_chosen = 0, "0 for a deterministic run"
        else:
            seed, seed_chosen = random.SystemRandom().randrange(2**31), "random"
        import dataclasses
        settings.config = dataclasses.replace(settings.config, seed=seed)
    if not label and stopped is not None:
        label = stopped.label
    return RunSpec(project, project_file, settings, folder=folder, resume=carry_on, label=label,
                   evaluate_test=evaluate_test, seed_chosen=seed_chosen)


def _stopped_run(project_file: Path, resume: bool | str) -> runs.RunRecord:
    base = runs.runs_dir(project_file)
    if resume is True:
        record = runs.latest_run(base, resumable=True)
        if record is None:
            raise SettingsError("--resume", f"{project_file.name} has no stopped run to carry on (looked in "
                                            f"{base}); train without --resume to start a new run")
        return record
    try:
        record = runs.read_record(base / str(resume))
    except runs.RunFolderError as error:
        raise SettingsError("--resume", f"{error}; the runs of {project_file.name} are in {base}") from None
    if not record.can_resume:
        raise SettingsError("--resume", f"run {record.id} is {record.status} and has no backup to carry on from")
    return record


# ============================================================================ running

class TrainingSession:
    """Runs one ``RunSpec``.  ``stream`` gets the human-readable lines and the progress
    bar (none when ``None``); ``events`` (an ``EventWriter``) gets the event stream;
    ``callbacks`` are added to the run's own; ``data`` replaces the project's dataset
    with one already in memory (an ``ArrayDataset``)."""

    def __init__(self, spec: RunSpec, *, stream: TextIO | None = None, events: Any = None,
                 callbacks: Sequence[Any] = (), data: Any = None, progress_bar: bool = True) -> None:
        self.spec = spec
        self.stream = stream
        self.events = events
        self.extra_callbacks = list(callbacks)
        self.data = data
        self.progress_bar = progress_bar
        self.trainer = None
        self.record: runs.RunRecord | None = None
        self._stop = threading.Event()
        self._paused = False
        self._control = threading.Lock()
        self._events_callback = None
        self.health = None                  # the HealthCallback, when the health checks are on

    # ------------------------------------------------------------------ control (any thread)
    def request_stop(self) -> None:
        with self._control:
            self._stop.set()
            if self.trainer is not None:
                self.trainer.request_stop()
                self.trainer.resume()
            self._acknowledge("stop")

    def pause(self) -> None:
        with self._control:
            self._paused = True
            if self.trainer is not None:
                self.trainer.pause()
            self._acknowledge("pause")

    def resume(self) -> None:
        with self._control:
            self._paused = False
            if self.trainer is not None:
                self.trainer.resume()
            if self._events_callback is not None:
                self._events_callback.restart_clock()
            self._acknowledge("resume")

    def _acknowledge(self, command: str) -> None:
        """Tell a watcher when a command arrived and where the run was then: it acts at the
        end of the batch in flight, so the run goes at most one batch past this position."""
        if self.events is None:
            return
        position = self.trainer.position if self.trainer is not None else None
        self.events.emit("control", command=command, training=position is not None,
                         epoch=position.epoch if position else None, step=position.step if position else None)

    def set_probe_layer(self, layer: str | None) -> None:
        self.spec.probe_layer = layer
        if self._events_callback is not None:
            self._events_callback.set_layer(layer)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # ------------------------------------------------------------------ the run
    def run(self) -> RunResult:
        started = time.perf_counter()
        record = self.record = self._open_record()
        try:
            result = self._run(record)
        except StoppedBeforeTraining:
            runs.end_record(record, runs.STOPPED, "stopped before training started")
            result = RunResult(record, runs.STOPPED)
        except KeyboardInterrupt:
            message = "interrupted" + ("; the backup of the last finished epoch is kept"
                                       if (record.folder / runs.BACKUP_DIR).is_dir() else "")
            runs.end_record(record, runs.STOPPED, message)
            self._emit_end(runs.STOPPED, message, started)
            raise
        except BaseException as error:
            message = _one_line(error)
            self._say_health()
            runs.end_record(record, runs.FAILED, message)
            self._emit_end(runs.FAILED, message, started)
            raise
        result.seconds = time.perf_counter() - started
        self._say_health()
        self._emit_end(result.status, record.message, started)
        return result

    def _open_record(self) -> runs.RunRecord:
        spec = self.spec
        if spec.folder is None:
            if spec.project_file is None:
                raise ValueError("a run needs a folder or a project file to keep it beside")
            folder = runs.new_run_folder(runs.runs_dir(spec.project_file),
                                         prefix="run" if spec.kind == "train" else spec.kind)
        else:
            folder = spec.folder
            folder.mkdir(parents=True, exist_ok=True)
        spec.folder = folder = folder.resolve()
        previous = None
        if spec.resume:
            try:
                previous = runs.read_record(folder)
            except runs.RunFolderError:
                previous = None
        record = runs.RunRecord(folder, label=spec.label or folder.name, kind=spec.kind,
                                settings=spec.settings.to_json(), dataset=dict(spec.settings.dataset),
                                environment=self._environment(), sweep=spec.sweep)
        if previous is not None:
            record.created, record.history, record.epochs = previous.created, previous.history, previous.epochs
            record.health = previous.health
        copy = folder / runs.PROJECT_FILE
        text = dumps(spec.project)
        if not copy.exists() or copy.read_text("utf-8") != text:
            write_atomic(copy, text)
        return runs.start_record(record)

    def _environment(self) -> dict[str, Any]:
        from cnnstudio import __version__
        config = self.spec.settings.config
        return {"seed": config.seed, "seed_chosen": self.spec.seed_chosen, "python": platform.python_version(),
                "cnnstudio": __version__, "host": socket.gethostname(), "platform": sys.platform}

    def _say(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _phase(self, phase: str, text: str) -> None:
        if self.events is not None:
            self.events.phase(phase, text)
        if self._stop.is_set():
            raise StoppedBeforeTraining

    def _on_finding(self, finding) -> None:
        """A training-health finding: kept in the run record at once (a run that dies still has
        it) and sent to whoever watches; the CLI prints them all when the run ends."""
        if self.record is not None:
            self.record.health.append(finding.to_json())
            runs.write_record(self.record)
        if self.events is not None:
            self.events.emit("health", finding=finding.to_json())

    def _say_health(self) -> None:
        if self.health is None or self.stream is None:
            return
        findings = self.health.findings
        if not findings:
            self._say("Training health: no problems found.")
            return
        self._say(f"Training health: {_plural(len(findings), 'finding')}")
        for finding in findings:
            parts = (f"layer {finding.layer}" if finding.layer else "",
                     f"epoch {finding.epoch + 1}" if finding.epoch is not None else "")
            where = ", ".join(part for part in parts if part and part not in finding.title)
            self._say(f"  [{finding.severity}] {finding.title}" + (f" ({where})" if where else ""))
            for line in (finding.numbers_text(), finding.cause, f"Fix: {finding.fix}"):
                if line:
                    self._say(textwrap.fill(line, width=100, initial_indent="    ", subsequent_indent="    "))

    def _emit_end(self, status: str, message: str, started: float) -> None:
        if self.events is not None:
            self.events.emit("ended", status=status, message=message, seconds=time.perf_counter() - started,
                             run=str(self.record.folder) if self.record else None)

    def _run(self, record: runs.RunRecord) -> RunResult:
        spec, settings = self.spec, self.spec.settings
        config = settings.config
        self._phase("loading", "Loading the dataset…")
        dataset, name = self._load("train")
        _check_fits(spec.project.network, dataset, name)
        fraction = settings.dataset["validation_split"]
        train, validation = dataset.split(fraction, seed=config.seed) if fraction > 0 else (dataset, None)
        if validation is not None and (len(validation) == 0 or len(train) == 0):
            raise DataMismatchError(f"validation_split {fraction:g} of {len(dataset)} samples leaves no training or "
                                    "no validation samples; use more samples or a different split")
        record.classes = list(dataset.classes)
        record.dataset.update({"train_samples": len(train), "validation_samples": len(validation or []),
                               "sample_shape": list(dataset.sample_shape)})

        self._phase("building", "Building the model…")
        from .threads import ThreadTuner, apply_threads, candidate_sizes, initial_choice
        from .runtime import resolve_device
        from .trainer import Trainer

        device = resolve_device(config.device)
        self._check_memory(device)
        choice = initial_choice(settings.threads, device.type, config.deterministic)
        apply_threads(choice.threads)
        tuner = ThreadTuner(candidate_sizes(choice.threads)) if choice.reason == "auto" else None
        record.environment.update({"device": str(device), "threads": choice.describe(),
                                   "torch": _torch_version()})
        callbacks = self._callbacks(record, validation is not None, tuner or choice.threads,
                                    probe=self._probe(train, validation), train=train)
        import dataclasses
        trainer = Trainer(spec.project.network, dataclasses.replace(config, validation_split=0.0), callbacks)
        with self._control:
            self.trainer = trainer
            if self._stop.is_set():
                raise StoppedBeforeTraining
            if self._paused:
                trainer.pause()
        runs.write_record(record)

        self._phase("training", "Training…")
        shown = name if not settings.dataset.get("subset") else f"{name} (subset)"
        self._say(f"Training {spec.project.name or (spec.project_file.stem if spec.project_file else 'the network')!r}"
                  f" on {shown}: {len(train):,} training + {len(validation or []):,} validation samples, "
                  f"{_plural(config.epochs, 'epoch')}, {config.optimizer} lr {config.learning_rate:g}, "
                  f"batch {config.batch_size}, {device.type}, {_plural(choice.threads, 'thread')}"
                  f"{' (auto)' if tuner else ''}, seed {config.seed}")
        self._say(f"Run folder: {record.folder}")
        if spec.resume:
            self._say(f"Carrying on from the backup in {record.folder / runs.BACKUP_DIR}")
        fit_started = time.perf_counter()
        history = trainer.fit(train.x, train.y, verbose=0,  # the session's own ProgbarLogger, or none
                              validation_data=(validation.x, validation.y) if validation is not None else None)
        fit_seconds = time.perf_counter() - fit_started
        status = runs.STOPPED if trainer.interrupted else runs.FINISHED
        trained_samples = speed.samples if (speed := _sample_counter(trainer)) else 0
        record.timing = {"fit_seconds": fit_seconds, "trained_samples": trained_samples,
                         "samples_per_second": trained_samples / fit_seconds if fit_seconds > 0 else 0.0}
        if tuner is not None:
            sizes = " and ".join(str(size) for size in tuner.sizes)
            record.environment["threads"] = (f"auto: measured {sizes} threads ({_plural(tuner.rounds, 'round')}), "
                                             f"ended with {tuner.current}")
        # the test set is evaluated once, below, and reported with its name; no second progress line for it
        trainer.callbacks = [c for c in trainer.callbacks if type(c).__name__ != "ProgbarLogger"]

        self._phase_quiet("saving", "Keeping the weights and predictions…")
        weights = runs.save_run_weights(trainer.model.state_dict(), record.folder)
        kept = validation if validation is not None else train
        self._keep_predictions(trainer, kept, "validation" if validation is not None else "training", record)
        record.history, record.epochs = dict(history.history), list(history.epoch)
        test = None
        if status == runs.FINISHED and spec.evaluate_test and self.data is None:
            test = self._evaluate_test(trainer)
            record.test = test
        message = ""
        if status == runs.STOPPED:
            position = trainer.position
            message = f"stopped at epoch {position.epoch + 1}, batch {position.step}"
        runs.end_record(record, status, message)
        return RunResult(record, status, history, weights, test)

    def _check_memory(self, device) -> None:
        """Refuse, before anything is allocated, a network whose training step cannot fit the
        device (the analysis predicts it from shapes alone)."""
        from cnnstudio.core.analysis import analyze, training_optimizer

        from .memory_check import check_training_memory

        config = self.spec.settings.config
        check_training_memory(analyze(self.spec.project.network), config.batch_size, config.precision, str(device),
                              optimizer=training_optimizer(config.to_dict()))

    def _phase_quiet(self, phase: str, text: str) -> None:
        if self.events is not None:
            self.events.phase(phase, text)

    # ------------------------------------------------------------------ parts
    def _load(self, split: str) -> tuple[Any, str]:
        if self.data is not None:
            return self.data, getattr(self.data, "name", "the given data")
        from cnnstudio.data.registry import load_dataset
        dataset = self.spec.settings.dataset
        try:
            data = load_dataset(dataset["name"], path=dataset["path"], split=split, subset=dataset["subset"],
                                seed=self.spec.settings.config.seed)
        except ValueError as error:
            raise SettingsError(f"dataset {dataset['name']}", str(error)) from None
        return data, dataset["name"]

    def _callbacks(self, record: runs.RunRecord, has_validation: bool, threads: Any, probe, train) -> list:
        from .callback_settings import make_callbacks
        from .callbacks import BackupAndRestore, ProgbarLogger

        callbacks = make_callbacks(self.spec.settings.callbacks, record.folder, has_validation)
        if not any(isinstance(callback, BackupAndRestore) for callback in callbacks):
            # every run can be stopped and carried on: Stop, Ctrl+C and a crash keep the position
            callbacks.append(BackupAndRestore(record.folder / runs.BACKUP_DIR))
        callbacks.append(RunRecorder(record))
        callbacks.append(SampleCounter())
        if self.spec.settings.health_checks:
            from .health_monitor import HealthCallback
            counts = np.bincount(np.asarray(train.y, dtype=np.int64), minlength=len(train.classes))
            self.health = HealthCallback(counts.tolist(), list(train.classes), listeners=[self._on_finding])
            callbacks.append(self.health)
        if self.stream is not None and self.progress_bar:
            callbacks.append(ProgbarLogger(stream=self.stream))
        if not isinstance(threads, int):
            callbacks.append(threads)
        if self.events is not None:
            from .events import EventsCallback, encode_array
            self._events_callback = EventsCallback(self.events, probe[0] if probe else None, self.spec.probe_layer,
                                                   threads)
            callbacks.append(self._events_callback)
            if probe:
                self.events.emit("sample", array=encode_array(probe[0][0]), caption=probe[1])
        return [*callbacks, *self.extra_callbacks]

    def _probe(self, train, validation) -> tuple[np.ndarray, str] | None:
        if self.events is None:
            return None
        if validation is not None and len(validation):
            index = self.spec.probe_index % len(validation)
            return validation.x[index:index + 1], f"validation sample #{index} " \
                                                  f"({validation.classes[int(validation.y[index])]})"
        if len(train):
            return train.x[:1], f"training sample #0 ({train.classes[int(train.y[0])]})"
        return None

    def _keep_predictions(self, trainer, data, split: str, record: runs.RunRecord) -> None:
        import io

        count = min(len(data), MAX_KEPT_SAMPLES)
        probabilities = trainer.predict(data.x[:count], verbose=0).astype(np.float32)
        pixels = np.clip(np.round(data.x[:count] * 255.0), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, x=pixels, y=data.y[:count], probabilities=probabilities,
                            classes=np.array(record.classes), split=np.array(split))
        write_atomic(record.folder / runs.PREDICTIONS_FILE, buffer.getvalue())

    def _evaluate_test(self, trainer) -> dict[str, float] | None:
        """The lecture's ``model.evaluate(test_images, test_labels)``, when the dataset has a test split."""
        from cnnstudio.data.dataset import DatasetError

        self._phase_quiet("evaluating", "Evaluating on the test set…")
        try:
            test, _ = self._load("test")
        except (DatasetError, SettingsError, OSError) as error:  # an image folder or .npz may have no test split
            self._say(f"No test set to evaluate ({error})")
            return None
        metrics = trainer.evaluate(test.x, test.y, verbose=0)
        self._say(f"Test: {', '.join(f'{key} {value:.4f}' for key, value in metrics.items())} "
                  f"({len(test):,} samples)")
        return metrics


class RunRecorder(Callback):
    """Keeps the run record's history current after every epoch, so a run that dies
    still shows the epochs it finished."""

    hook_order = 2  # after History has the epoch

    def __init__(self, record: runs.RunRecord) -> None:
        super().__init__()
        self.record = record

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        history = self.trainer.history
        if history is not None:
            self.record.history, self.record.epochs = dict(history.history), list(history.epoch)
            runs.write_record(self.record)


# ============================================================================ helpers

class SampleCounter(Callback):
    """Counts the training samples this process ran through (a resumed run counts from where it
    carried on), for the record's samples per second."""

    def __init__(self) -> None:
        super().__init__()
        self.samples = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        from .callbacks.progbar import batch_samples
        self.samples += batch_samples(self.params, batch)


def _sample_counter(trainer) -> SampleCounter | None:
    return next((c for c in trainer.callbacks if isinstance(c, SampleCounter)), None)


def _check_fits(network: Any, data: Any, name: str) -> None:
    from cnnstudio.core.analysis import analyze
    from cnnstudio.data.compatibility import check_compatibility

    problems = check_compatibility(analyze(network), tuple(data.x.shape[1:]), len(data.classes))
    if problems:
        raise DataMismatchError(f"the dataset {name} does not fit the network: "
                                + " ".join(str(p) for p in problems))


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, (TrainingError, SettingsError, ValueError, OSError)) and text:
        return " ".join(text.split())
    return f"{type(error).__name__}: {text.splitlines()[0] if text else 'no message'}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _torch_version() -> str:
    import torch
    return torch.__version__


__all__ = ["RunResult", "RunSpec", "TrainingSession", "plan_run"]
