"""The ``.cnnproj`` file: a network plus the settings around it, as versioned JSON.

This module is the only door between a project on disk and a ``Project`` in
memory.  Reading checks everything a hand-edited or damaged file can get wrong
and reports it as one ``ProjectError`` that names the file, the place in it and
the fix; it never writes to the file it reads.  The work is split by level:
``project_json`` reads and writes the text (strict JSON a project can hold),
``project_reader`` checks the document and builds the network, and
``project_format`` holds the format's version, migrations and limits.  Saving
writes a temporary file next to the target, flushes it to disk and renames it
over the target (``atomic_file``), so a crash leaves either the old file or the
new one, never half of one; stale temporaries of a project are removed when it
is next opened or saved.  The JSON Schema of the format is generated from the
layer catalog (``project_schema``), so it cannot disagree with the loader
about parameters.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from .atomic_file import remove_stale_temporaries, write_atomic
from .gc_pause import paused_gc
from .layers.params import shown
from .project_format import (FORMAT_NAME, FORMAT_VERSION, MAX_DEPTH, MIGRATIONS, POSITION_LIMIT,
                             SCHEMA_FILE_NAME, Project, ProjectError)
from .project_json import first_unstorable, format_json, parse_json
from .project_reader import project_from_dict

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MAX_DEPTH", "MAX_FILE_BYTES", "MIGRATIONS", "POSITION_LIMIT",
           "SCHEMA_FILE_NAME", "Project", "ProjectError", "dumps", "format_json", "load_project",
           "project_from_dict", "project_to_dict", "save_project"]

#: a project is a few kilobytes; anything this large was opened by mistake
MAX_FILE_BYTES = 64 * 1024 * 1024


# ============================================================================ writing

def project_to_dict(project: Project) -> dict[str, Any]:
    """The document as plain JSON data, in the file's key order."""
    where = "<memory>"
    for key in ("name", "description"):
        if not isinstance(getattr(project, key), str):
            raise ProjectError(where, key, f"{key} must be text, not {type(getattr(project, key)).__name__}",
                               f"Give the project a text {key}.")
        _refuse_unstorable(getattr(project, key), key)
    settings = {}
    for key in ("dataset", "training", "view"):
        value = getattr(project, key)
        if value is None and key != "view":
            settings[key] = None
            continue
        if not isinstance(value, dict):
            raise ProjectError(where, key, f"{key} must be a dict, not {type(value).__name__}",
                               f"Store the {key} settings as a dict of plain values.")
        settings[key] = _plain_json(value, key)
        _refuse_unstorable(settings[key], key)
    if project.experiments is not None:
        if not isinstance(project.experiments, dict):
            raise ProjectError(where, "experiments", "experiments must be a dict, not "
                               f"{type(project.experiments).__name__}", "Store the sweep settings as a dict.")
        settings["experiments"] = _plain_json(project.experiments, "experiments")
        _refuse_unstorable(settings["experiments"], "experiments")
    network = {**project.network.to_dict(), "groups": project.network.groups.to_list()}
    _refuse_unstorable(network, "network")
    for index, node in enumerate(network["nodes"]):
        for axis, number in enumerate(node["position"]):
            if not abs(number) <= POSITION_LIMIT:
                raise ProjectError(where, f"network.nodes[{index}].position[{axis}]",
                                   f"{shown(number)} is not a place on the canvas",
                                   f"Move the layer within {POSITION_LIMIT:g} of the origin.")
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "name": project.name,
            "description": project.description, "network": network, **settings}


def _refuse_unstorable(value: Any, where: str) -> None:
    found = first_unstorable(value, where)
    if found is not None:
        raise ProjectError("<memory>", *found)


def dumps(project: Project) -> str:
    """The file's text: indented, keys in a fixed order, short lists and small
    objects on one line (readable diffs), ending with a newline."""
    return format_json(project_to_dict(project), 0) + "\n"


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Write atomically (see ``atomic_file``): on any failure an existing file is untouched."""
    target = Path(path)
    folder = target.resolve().parent if target.is_symlink() else target.parent
    if not folder.is_dir():
        raise ProjectError(path, "", f"the folder {str(folder)!r} does not exist",
                           "Choose an existing folder, or create it first.")
    if target.is_dir():
        raise ProjectError(path, "", "this is a folder, not a file", "Choose a file name inside the folder.")
    data = dumps(project)  # before touching the disk: a bad value leaves nothing behind
    try:
        write_atomic(target, data)
    except OSError as error:
        raise ProjectError(path, "", f"could not save: {error.strerror or error}",
                           "Check that the folder is writable and the disk has space, then save again; "
                           "the previous file was left as it was.") from error


def _plain_json(value: Any, where: str) -> Any:
    """A deep copy of ``value`` with dict keys sorted; refuses what JSON cannot hold."""
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ProjectError("<memory>", where, f"key {key!r} is not text",
                                   "Use text keys in settings.")
        return {key: _plain_json(value[key], f"{where}.{key}") for key in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_plain_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise ProjectError("<memory>", where, f"a {type(value).__name__} cannot be stored in a project",
                       "Store plain values: text, numbers, true/false, lists and dicts.")


# ============================================================================ reading

def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a project file; every problem is a ``ProjectError``.  Never writes to ``path``
    (it only removes stale temporary files that interrupted saves of it left behind)."""
    file = Path(path)
    try:
        info = file.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ProjectError(path, "", "this is a folder, not a project file",
                               "Choose a .cnnproj file inside it.")
        if not stat.S_ISREG(info.st_mode):
            raise ProjectError(path, "", "this is not a regular file (a device, a pipe or a socket)",
                               "Choose a .cnnproj file.")
        if info.st_size > MAX_FILE_BYTES:
            raise ProjectError(path, "", f"the file is {info.st_size / 2**20:.0f} MiB, far too large for a project",
                               "Check that this is a .cnnproj file.")
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ProjectError(path, "", "the file does not exist", "Check the file name and folder.") from None
    except OSError as error:
        raise ProjectError(path, "", f"the file cannot be read: {error.strerror or error}",
                           "Check that the file exists and that you may read it.") from None
    except ValueError as error:  # a name the system cannot take, such as one with a NUL character
        raise ProjectError(path, "", f"this is not a usable file name ({error})",
                           "Choose the file again from its folder.") from None
    remove_stale_temporaries(file)
    with paused_gc():
        return project_from_dict(parse_json(raw, str(path)), source=str(path))
