"""Training runs kept with the project: each finished run is a folder holding its
weights, history and settings, beside the project file (``NAME.runs/``), so
reopening the project brings its runs back.  Untitled projects keep runs in a
scratch folder until they are saved."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnstudio.core.atomic_file import write_atomic

RUN_FILE = "run.json"
WEIGHTS_FILE = "weights.safetensors"


@dataclass
class SavedRun:
    folder: Path
    label: str
    status: str                      # finished, stopped, failed
    history: dict[str, list[float]]
    epochs: list[int]
    settings: dict[str, Any]
    dataset: dict[str, Any]
    classes: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def weights(self) -> Path:
        return self.folder / WEIGHTS_FILE

    def summary(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v}
        shown = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if k in ("loss", "accuracy", "val_accuracy"))
        return f"{self.label} ({self.status}{': ' + shown if shown else ''})"


def runs_folder(project_path: Path | None, scratch: Path) -> Path:
    return project_path.with_name(project_path.stem + ".runs") if project_path else scratch


def new_run_folder(base: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = base / f"run-{stamp}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = base / f"run-{stamp}-{suffix}"
    folder.mkdir(parents=True)
    return folder


def save_run(run: SavedRun, state_dict: dict | None) -> None:
    run.folder.mkdir(parents=True, exist_ok=True)
    if state_dict is not None:
        from safetensors.torch import save_file
        temporary = run.folder / (WEIGHTS_FILE + ".tmp")
        save_file({k: v.contiguous() for k, v in state_dict.items()}, str(temporary))
        temporary.replace(run.weights)
    record = {"label": run.label, "status": run.status, "history": run.history, "epochs": run.epochs,
              "settings": run.settings, "dataset": run.dataset, "classes": run.classes, "message": run.message}
    write_atomic(run.folder / RUN_FILE, json.dumps(record, indent=1))


def load_runs(base: Path) -> list[SavedRun]:
    """Every readable run under ``base``, oldest first; unreadable folders are skipped."""
    runs = []
    if not base.is_dir():
        return runs
    for record_file in sorted(base.glob(f"*/{RUN_FILE}")):
        try:
            data = json.loads(record_file.read_text("utf-8"))
            runs.append(SavedRun(record_file.parent, str(data["label"]), str(data["status"]),
                                 dict(data["history"]), list(data["epochs"]), dict(data["settings"]),
                                 dict(data["dataset"]), list(data.get("classes", [])), str(data.get("message", ""))))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return runs


def load_state_dict(run: SavedRun) -> dict:
    from safetensors.torch import load_file
    return load_file(str(run.weights))


def move_runs(source: Path, target: Path) -> None:
    """Bring an untitled project's runs next to its new file."""
    if not source.is_dir() or source == target:
        return
    target.mkdir(parents=True, exist_ok=True)
    for folder in source.iterdir():
        if folder.is_dir() and not (target / folder.name).exists():
            shutil.move(str(folder), str(target / folder.name))
