"""Where the studio keeps its settings and autosave copies.

``CNNSTUDIO_CONFIG_DIR`` overrides the place (tests point it at a temporary
folder so they never touch a user's settings)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

MAX_RECENT = 8


def config_dir() -> Path:
    override = os.environ.get("CNNSTUDIO_CONFIG_DIR")
    if override:
        folder = Path(override)
    else:
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
        folder = Path(base or Path.home() / ".config") / "cnnstudio"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def app_settings() -> QSettings:
    return QSettings(str(config_dir() / "settings.ini"), QSettings.Format.IniFormat)


def recent_files() -> list[str]:
    value = app_settings().value("recent_files", [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or [])]


def remember_recent(path: Path) -> list[str]:
    files = [str(path)] + [f for f in recent_files() if f != str(path)]
    files = files[:MAX_RECENT]
    settings = app_settings()
    settings.setValue("recent_files", files)
    settings.sync()
    return files


def forget_recent(path: str) -> None:
    settings = app_settings()
    settings.setValue("recent_files", [f for f in recent_files() if f != path])
    settings.sync()


def default_project_folder(fallback: Path | None = None) -> Path:
    """Where file dialogs start when the project has no folder of its own: the folder of the
    most recent project, else ``CNN Studio`` in the user's documents (made on first use),
    else ``fallback`` or the home folder."""
    for file in recent_files():
        folder = Path(file).parent
        if folder.is_dir():
            return folder
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents:
        folder = Path(documents) / "CNN Studio"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return folder
        except OSError:
            pass
    return fallback if fallback is not None else Path.home()
