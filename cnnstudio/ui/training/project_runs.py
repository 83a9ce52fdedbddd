"""Where the open project's runs are kept, and bringing them along when an untitled
project is first saved.

A saved project's runs are in ``NAME.runs`` beside it (``run_folder.runs_dir``),
where the CLI puts them too.  An untitled project's runs wait in a scratch folder
of its own under the settings folder; when the project is saved they move beside
the file, but only once no run is writing into them."""

from __future__ import annotations

import time
from pathlib import Path

from cnnstudio.training import run_folder as runs

from ..settings import config_dir


class ProjectRuns:
    def __init__(self) -> None:
        self.records: list[runs.RunRecord] = []
        self.scratch = self._new_scratch()
        self._pending_target: Path | None = None

    @staticmethod
    def _new_scratch() -> Path:
        return config_dir() / "runs" / f"untitled-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**9}"

    def base(self, project_path: Path | None) -> Path:
        return runs.runs_dir(project_path) if project_path else self.scratch

    def reload(self, project_path: Path | None, another_project: bool) -> list[runs.RunRecord]:
        """The runs of the open project (another untitled project gets a scratch folder of its own)."""
        if another_project:
            self.scratch = self._new_scratch()
            self._pending_target = None
        self.records = runs.list_runs(self.base(project_path))
        return self.records

    def newest_with_weights(self) -> int | None:
        return next((i for i in range(len(self.records) - 1, -1, -1) if self.records[i].has_weights), None)

    def keep_with(self, project_path: Path) -> None:
        """The untitled project was saved as ``project_path``: its runs follow at ``move_pending``."""
        self._pending_target = runs.runs_dir(project_path)

    def move_pending(self) -> dict[str, Path]:
        """Move the runs waiting to follow a saved project; returns ``{folder name: new folder}``
        (and updates the records)."""
        target, self._pending_target = self._pending_target, None
        if target is None:
            return {}
        moved = {folder.name: folder for folder in runs.move_runs(self.scratch, target)}
        for record in self.records:
            if record.folder.name in moved and record.folder.parent == self.scratch:
                record.folder = moved[record.folder.name]
        return moved
