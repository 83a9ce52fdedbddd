"""A window's project files: new, open, save and save as, the recent list, code
export, autosave and recovery after a crash.

The window owns the widgets and the menus; this object owns what happens to the
file.  It asks and tells through the window's ``prompter`` (tests replace it with
scripted answers) and hears about the window's state through a few methods the
window provides: ``training_running``, ``shape_order``, ``project_opened``,
``project_saved`` and ``status_message``.
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.network import Network
from cnnstudio.core.project import Project, ProjectError, load_project, save_project

from .autosave import Autosaver
from .settings import default_project_folder, forget_recent, recent_files, remember_recent


class ProjectFiles:
    def __init__(self, window, autosave_folder: Path) -> None:
        self.window = window
        self.document = window.document
        self.autosaver = Autosaver(autosave_folder)
        self.closing = False
        self._autosaved = False  # this window wrote a copy that may need discarding

    @property
    def prompter(self):
        return self.window.prompter

    # ------------------------------------------------------------------ replacing the project
    def confirm_discard(self) -> bool:
        """True when the current project may be replaced or closed."""
        if self.window.training_running and not self.closing:
            self.prompter.error("Training is running", "Stop the run before opening another project.")
            return False
        if not self.document.modified:
            return True
        answer = self.prompter.ask_save_changes(self.document.display_name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_project(self) -> bool:
        if not self.confirm_discard():
            return False
        self.replace(Project(Network()), None)
        return True

    def open_dialog(self, examples: Path) -> bool:
        folder = self.document.path.parent if self.document.path else default_project_folder(examples)
        path = self.prompter.open_path(str(folder))
        return self.open_path(Path(path)) if path else False

    def open_path(self, path: Path, ask: bool = True, as_copy: bool = False) -> bool:
        """Open ``path``; a bad file is reported and the current project stays open.
        ``as_copy`` opens it as a new untitled project (examples: saving never overwrites them)."""
        if ask and not self.confirm_discard():
            return False
        try:
            project = load_project(path)
        except ProjectError as error:
            self.prompter.error("Cannot open project", str(error))
            return False
        self.replace(project, None if as_copy else Path(path))
        if not as_copy:
            remember_recent(Path(path).resolve())
        return True

    def replace(self, project: Project, path: Path | None) -> None:
        self.autosaver.discard(self.document.path)
        self._autosaved = False
        self.document.replace_project(project, path)
        self.window.project_opened(project)

    def open_recent(self, file: str) -> bool:
        if not Path(file).exists():
            forget_recent(file)
            self.prompter.error("Cannot open project", f"{file}: the file no longer exists. It was removed "
                                                       "from the recent list.")
            return False
        return self.open_path(Path(file))

    @staticmethod
    def recent() -> list[str]:
        return recent_files()

    # ------------------------------------------------------------------ saving
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._write(self.document.path)

    def save_as(self) -> bool:
        folder = self.document.path.parent if self.document.path else default_project_folder()
        name = self.document.path.name if self.document.path else f"{self.document.display_name}.cnnproj"
        path = self.prompter.save_path(str(folder / name))
        if not path:
            return False
        if not path.endswith(".cnnproj"):
            path += ".cnnproj"
        return self._write(Path(path))

    def _write(self, path: Path) -> bool:
        project = self.document.project
        project.view = {**(project.view or {}), "shape_order": self.window.shape_order}
        try:
            save_project(project, path)
        except (ProjectError, OSError) as error:
            self.prompter.error("Cannot save project", str(error))
            return False
        self.autosaver.discard(self.document.path)
        self.autosaver.discard(path)
        first_save = self.document.path is None
        self.document.mark_saved(path)
        remember_recent(path.resolve())
        self.window.project_saved(path, first_save)
        return True

    def export_folder(self) -> Path:
        """Where export dialogs start: beside the project, else the projects folder."""
        return self.document.path.parent if self.document.path else default_project_folder()

    def export_code(self) -> bool:
        from cnnstudio.core.atomic_file import write_atomic
        from cnnstudio.core.build import plan_network
        from cnnstudio.core.codegen import generate_code
        try:
            plan_network(self.document.network, self.document.analysis)
        except ValueError as error:
            self.prompter.error("Cannot export", f"Fix these problems first:\n{error}")
            return False
        stem = self.document.path.stem if self.document.path else "network"
        path = self.prompter.save_path(str(self.export_folder() / f"{stem}.py"), "Python files (*.py)",
                                       "Export PyTorch code")
        if not path:
            return False
        try:
            write_atomic(path, generate_code(self.document.network, title=self.document.project.name or None))
        except OSError as error:
            self.prompter.error("Cannot export", f"{path}: {error.strerror or error}")
            return False
        self.prompter.info("Exported", f"Wrote the PyTorch module to {path}")
        return True

    # ------------------------------------------------------------------ autosave and recovery
    def autosave_now(self) -> None:
        if self.closing:
            return  # a closed window's discarded edits must not come back at the next start
        if not self.document.modified:
            if self._autosaved:  # undone back to the saved state: the copy would bring back undone edits
                self.autosaver.discard(self.document.path)
                self._autosaved = False
            return
        try:
            self.autosaver.write(self.document.project, self.document.path)
            self._autosaved = True
        except OSError as error:
            self.window.status_message(f"Autosave failed: {error}", 8000)

    def offer_recovery(self) -> bool:
        """After a crash: offer each autosaved copy; True when one was restored."""
        for copy in self.autosaver.pending():
            if not self.prompter.ask_restore(copy.description()):
                self.autosaver.remove(copy)
                continue
            try:
                project = load_project(copy.project_file)
            except ProjectError as error:
                self.prompter.error("Cannot restore", str(error))
                continue
            original = Path(copy.original) if copy.original else None
            self.replace(project, original)
            self.document.undo_stack.resetClean()  # restored work is unsaved until the user saves
            self.autosaver.remove(copy)
            self.autosave_now()
            return True
        return False

    def close(self) -> bool:
        """Before the window closes: ask about unsaved changes; on yes, no autosave stays."""
        self.closing = True
        if not self.confirm_discard():
            self.closing = False
            return False
        self.autosaver.discard(self.document.path)
        self._autosaved = False
        return True
