"""Autosave: while a document has unsaved edits, a copy is written every few
seconds beside the settings; after a crash or kill the next start offers it back.

Each copy is an ordinary project file plus a small ``.json`` note saying which
file it belongs to, so recovery never needs the original to be readable."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cnnstudio.core.atomic_file import write_atomic
from cnnstudio.core.project import Project, dumps

INTERVAL_MS = 15_000


@dataclass(frozen=True)
class AutosaveCopy:
    project_file: Path
    note_file: Path
    original: str | None   # the project's own path, or None for an untitled project
    saved_at: float

    def description(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        what = Path(self.original).name if self.original else "an untitled project"
        return f"{what} (autosaved {when})"


class Autosaver:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.session = uuid.uuid4().hex

    def _stem(self, original: Path | None) -> str:
        """One copy per file and per window session: two windows on the same file never
        delete each other's copy."""
        key = f"{original.resolve() if original else 'untitled'}|{self.session}"
        return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]

    def write(self, project: Project, original: Path | None) -> Path:
        stem = self._stem(original)
        target = self.folder / f"{stem}.cnnproj"
        write_atomic(target, dumps(project))
        note = {"original": str(original) if original else None, "saved_at": time.time(), "session": self.session}
        write_atomic(self.folder / f"{stem}.json", json.dumps(note))
        return target

    def discard(self, original: Path | None) -> None:
        stem = self._stem(original)
        for suffix in (".cnnproj", ".json"):
            (self.folder / f"{stem}{suffix}").unlink(missing_ok=True)

    def pending(self) -> list[AutosaveCopy]:
        """Copies left behind by sessions that did not close cleanly (not this session's)."""
        found = []
        for note_file in sorted(self.folder.glob("*.json")):
            project_file = note_file.with_suffix(".cnnproj")
            try:
                note = json.loads(note_file.read_text("utf-8"))
            except (OSError, ValueError):
                continue
            if not project_file.exists() or note.get("session") == self.session:
                continue
            found.append(AutosaveCopy(project_file, note_file, note.get("original"),
                                      float(note.get("saved_at", 0))))
        return found

    @staticmethod
    def remove(copy: AutosaveCopy) -> None:
        copy.project_file.unlink(missing_ok=True)
        copy.note_file.unlink(missing_ok=True)
