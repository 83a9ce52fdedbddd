"""One run folder format for every way a network gets weights: trained from the
CLI, trained from the studio, imported from another tool.

A project's runs live beside it, in ``NAME.runs/<run id>/``; each folder is
complete on its own, so the studio lists runs made by the CLI and the other way
round, and a run can be inspected, exported or resumed long after it ended:

=========================  ==============================================================
``run.json``               the record: id, label, kind, status, message, the settings that
                           were resolved, what was actually used (device, threads, torch,
                           seed), dataset, classes, per-epoch history, test metrics, timing,
                           and the training-health findings (``health``: ``Finding.to_json()``)
``project.cnnproj``        the project exactly as it was trained (or imported)
``log.csv``                one row per epoch (the ``CSVLogger`` callback, when on)
``weights.safetensors``    the final weights; ``weights.pt`` holds the same state_dict
``checkpoints/``           ``ModelCheckpoint``'s files
``tensorboard/``           the ``TensorBoard`` callback's event files, when on
``predictions.npz``        validation samples (uint8), labels and predicted probabilities
``backup/``                while a stopped run can still carry on (``BackupAndRestore``)
=========================  ==============================================================

A record is written when the run starts (status ``running``, with the process id)
and again when it ends (``finished``, ``stopped`` or ``failed`` with its message);
an import is ``imported``.  A ``running`` record whose process no longer exists
belongs to a run that died without a word (killed, out of memory): it reads as
``failed``.  Every file is written atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.core.atomic_file import write_atomic

RUN_FORMAT = "cnnstudio-run"
RUN_VERSION = 1
RECORD_FILE = "run.json"
PROJECT_FILE = "project.cnnproj"
WEIGHTS_FILE = "weights.safetensors"
WEIGHTS_PT_FILE = "weights.pt"
LOG_FILE = "log.csv"
PREDICTIONS_FILE = "predictions.npz"
BACKUP_DIR = "backup"
CHECKPOINTS_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
RUNS_SUFFIX = ".runs"

RUNNING, FINISHED, STOPPED, FAILED, IMPORTED = "running", "finished", "stopped", "failed", "imported"
STATUSES = (RUNNING, FINISHED, STOPPED, FAILED, IMPORTED)
DIED = "the training process ended without saying why (it was killed, or ran out of memory)"


class RunFolderError(Exception):
    """A run folder that cannot be read or written; ``str()`` names the folder."""


def runs_dir(project_path: str | os.PathLike[str]) -> Path:
    """``NAME.runs`` beside ``NAME.cnnproj``: where that project's runs are kept."""
    path = Path(project_path)
    return path.with_name(path.stem + RUNS_SUFFIX)


def new_run_folder(base: str | os.PathLike[str], prefix: str = "run") -> Path:
    """A fresh, empty folder ``base/<prefix>-YYYYMMDD-HHMMSS[-N]`` (created here, so two
    runs started in the same second never share one)."""
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for suffix in range(1, 10_000):
        folder = base / (f"{prefix}-{stamp}" if suffix == 1 else f"{prefix}-{stamp}-{suffix}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise RunFolderError(f"{base}: could not make a new run folder")


@dataclass
class RunRecord:
    """What ``run.json`` holds, plus the folder it lives in."""

    folder: Path
    label: str = ""
    kind: str = "train"                 # train, trial (of a sweep) or import
    status: str = RUNNING
    message: str = ""
    created: float = field(default_factory=time.time)
    ended: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)      # the resolved settings (training + dataset)
    environment: dict[str, Any] = field(default_factory=dict)   # device, threads, torch, seed... as used
    dataset: dict[str, Any] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    epochs: list[int] = field(default_factory=list)
    test: dict[str, float] | None = None
    timing: dict[str, float] = field(default_factory=dict)     # fit_seconds, samples_per_second (training only)
    source: str = ""                    # an import's source file
    sweep: dict[str, Any] | None = None  # a sweep's trial: study, trial number, the values it tried
    health: list[dict[str, Any]] = field(default_factory=list)  # training.health findings, as JSON
    pid: int | None = None
    host: str = ""

    # ------------------------------------------------------------------ places
    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def weights(self) -> Path:
        return self.folder / WEIGHTS_FILE

    @property
    def project_file(self) -> Path:
        return self.folder / PROJECT_FILE

    @property
    def predictions(self) -> Path:
        return self.folder / PREDICTIONS_FILE

    @property
    def has_weights(self) -> bool:
        return self.weights.is_file()

    @property
    def can_resume(self) -> bool:
        return self.status == STOPPED and (self.folder / BACKUP_DIR).is_dir()

    @property
    def ended_well(self) -> bool:
        return self.status in (FINISHED, STOPPED, IMPORTED)

    # ------------------------------------------------------------------ words
    def final_metrics(self) -> dict[str, float]:
        """The last epoch's value of each logged metric."""
        return {key: values[-1] for key, values in self.history.items() if values}

    def result_text(self) -> str:
        """``accuracy 0.9912, val_accuracy 0.9875`` (each metric named; empty when there are none)."""
        last = self.final_metrics()
        shown = [key for key in ("accuracy", "val_accuracy", "loss", "val_loss") if key in last]
        return ", ".join(f"{key} {last[key]:.4f}" for key in shown[:2])

    def summary(self) -> str:
        result = self.result_text()
        return f"{self.label or self.id} ({self.status}{': ' + result if result else ''})"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("folder")
        return {"format": RUN_FORMAT, "version": RUN_VERSION, "id": self.id, **data}


def write_record(record: RunRecord) -> Path:
    """Write ``run.json`` atomically (a crash leaves the previous record)."""
    record.folder.mkdir(parents=True, exist_ok=True)
    target = record.folder / RECORD_FILE
    write_atomic(target, json.dumps(record.to_json(), indent=1, allow_nan=True) + "\n")
    return target


def start_record(record: RunRecord) -> RunRecord:
    """Mark ``record`` as running in this process and write it."""
    record.status, record.pid, record.host = RUNNING, os.getpid(), socket.gethostname()
    write_record(record)
    return record


def end_record(record: RunRecord, status: str, message: str = "") -> RunRecord:
    """Mark ``record`` as ended (``finished``, ``stopped`` or ``failed``) and write it."""
    if status not in STATUSES or status == RUNNING:
        raise ValueError(f"a run ends as finished, stopped, failed or imported, not {status!r}")
    record.status, record.message, record.ended = status, message, time.time()
    write_record(record)
    return record


def read_record(folder: str | os.PathLike[str]) -> RunRecord:
    """The record in ``folder``; a ``running`` record whose process is gone reads as failed."""
    folder = Path(folder)
    path = folder / RECORD_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{folder}: not a run folder (no {RECORD_FILE})") from None
    except (OSError, ValueError) as error:
        raise RunFolderError(f"{path}: cannot be read ({error})") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise RunFolderError(f"{path}: not a CNN Studio run record")
    if not isinstance(data.get("version"), int) or data["version"] > RUN_VERSION:
        raise RunFolderError(f"{path}: written by a newer CNN Studio (run version {data.get('version')})")
    known = set(RunRecord.__dataclass_fields__) - {"folder"}
    values = {key: value for key, value in data.items() if key in known}
    try:
        record = RunRecord(folder=folder, **values)
        _check_types(record)
    except (TypeError, ValueError) as error:
        raise RunFolderError(f"{path}: damaged record ({error})") from None
    if record.status == RUNNING and not _alive(record.pid, record.host):
        record.status, record.message = FAILED, record.message or DIED
    return record


def _check_types(record: RunRecord) -> None:
    if record.status not in STATUSES:
        raise ValueError(f"unknown status {record.status!r}")
    for name in ("settings", "environment", "dataset", "history", "timing"):
        if not isinstance(getattr(record, name), dict):
            raise ValueError(f"{name} must be an object")
    if record.sweep is not None and not isinstance(record.sweep, dict):
        raise ValueError("sweep must be an object")
    if not isinstance(record.health, list) or not all(isinstance(item, dict) for item in record.health):
        raise ValueError("health must be a list of findings")
    if not isinstance(record.classes, list) or not isinstance(record.epochs, list):
        raise ValueError("classes and epochs must be lists")
    record.history = {str(key): [float(v) for v in values] for key, values in record.history.items()}


def _alive(pid: int | None, host: str) -> bool:
    """Whether the process that wrote a ``running`` record may still be running it."""
    if pid is None:
        return False
    if host and host != socket.gethostname():
        return True  # another machine's run (a shared folder): we cannot tell, so trust the record
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def list_runs(base: str | os.PathLike[str]) -> list[RunRecord]:
    """Every readable run under ``base`` (a ``NAME.runs`` folder), oldest first.
    Folders that are not runs, or whose record is damaged, are left out."""
    base = Path(base)
    if not base.is_dir():
        return []
    runs = []
    for record_file in base.glob(f"*/{RECORD_FILE}"):
        try:
            runs.append(read_record(record_file.parent))
        except RunFolderError:
            continue
    runs.sort(key=lambda run: (run.created, run.id))
    return runs


def latest_run(base: str | os.PathLike[str], *, resumable: bool = False) -> RunRecord | None:
    """The newest run under ``base`` (only one that can carry on, with ``resumable``)."""
    runs = [run for run in list_runs(base) if run.can_resume or not resumable]
    return runs[-1] if runs else None


def move_runs(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> list[Path]:
    """Bring an untitled project's runs next to its new file; returns the new folders.
    A folder whose name is already taken at the target stays where it is."""
    source, target = Path(source), Path(target)
    moved: list[Path] = []
    if not source.is_dir() or source.resolve() == target.resolve():
        return moved
    target.mkdir(parents=True, exist_ok=True)
    for folder in sorted(source.iterdir()):
        if folder.is_dir() and not (target / folder.name).exists():
            shutil.move(str(folder), str(target / folder.name))
            moved.append(target / folder.name)
    return moved


def save_run_weights(state_dict: dict, folder: str | os.PathLike[str]) -> list[Path]:
    """``weights.safetensors`` and ``weights.pt`` with the same tensors (CPU copies)."""
    import io

    import torch
    from safetensors.torch import save

    folder = Path(folder)
    state = {key: value.detach().to("cpu").contiguous() for key, value in state_dict.items()}
    write_atomic(folder / WEIGHTS_FILE, save(state, metadata={"format": "pt", "producer": "CNN Studio"}))
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomic(folder / WEIGHTS_PT_FILE, buffer.getvalue())
    return [folder / WEIGHTS_FILE, folder / WEIGHTS_PT_FILE]


def load_run_weights(record: RunRecord) -> dict:
    """The run's final weights as a state_dict of CPU tensors (never runs code)."""
    from safetensors.torch import load_file

    if not record.has_weights:
        raise RunFolderError(f"{record.folder}: this run has no weights ({record.status})")
    try:
        return load_file(str(record.weights))
    except Exception as error:  # safetensors raises its own types for damaged files
        raise RunFolderError(f"{record.weights}: cannot be read ({error})") from None


def store_weights_run(base: str | os.PathLike[str], project_text: str, state_dict: dict, *, label: str,
                      kind: str = "import", source: str = "", classes: list[str] | None = None) -> RunRecord:
    """A run folder holding weights that came from elsewhere (an imported model): the
    project as imported, its weights and an ``imported`` record, so the studio can show
    its feature maps, fine-tune it and export it like any trained run."""
    folder = new_run_folder(base, prefix=kind)
    record = RunRecord(folder, label=label, kind=kind, status=IMPORTED, source=source, classes=list(classes or []),
                       ended=time.time())
    write_atomic(folder / PROJECT_FILE, project_text)
    save_run_weights(state_dict, folder)
    write_record(record)
    return record


__all__ = ["BACKUP_DIR", "CHECKPOINTS_DIR", "FAILED", "FINISHED", "IMPORTED", "LOG_FILE", "PREDICTIONS_FILE",
           "PROJECT_FILE", "RECORD_FILE", "RUNNING", "RunFolderError", "RunRecord", "STOPPED", "TENSORBOARD_DIR",
           "WEIGHTS_FILE", "WEIGHTS_PT_FILE", "end_record", "latest_run", "list_runs", "load_run_weights",
           "move_runs", "new_run_folder", "read_record", "runs_dir", "save_run_weights", "start_record",
           "store_weights_run", "write_record"]
