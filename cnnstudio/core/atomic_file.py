"""Crash-safe file writes: a half-written file must never replace a good one, and
an interrupted write must not leave its temporary file behind for good.

The temporary file of ``NAME`` is ``.NAME.HOST.PID.RANDOM.tmp`` in the same folder:
it says which process on which machine writes it.  Before each write (and when a
project is opened) ``remove_stale_temporaries`` deletes the temporaries of that
file whose writer is gone (same machine, process no longer running) or that nobody
has touched for ``STALE_AFTER_SECONDS`` (a writer on another machine, or a name
from before the writer was recorded).  A live writer's file is never removed while
it writes; if a writer stalled that long and then resumes, its rename fails and the
file it meant to replace is left as it was.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from pathlib import Path

TEMP_SUFFIX = ".tmp"
#: a write takes seconds; a temporary untouched for this long has no writer that matters
STALE_AFTER_SECONDS = 15 * 60
#: what ``tempfile`` names looked like before the writer was recorded: 8 of [a-z0-9_]
_LEGACY_RANDOM = re.compile(r"[a-z0-9_]{8}")


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, then rename it over
    ``path`` in one step. On any failure the old file is left as it was.

    A symbolic link keeps pointing where it did (the file it names is replaced),
    and a replaced file keeps its permissions."""
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()
    payload = data.encode("utf-8") if isinstance(data, str) else data
    remove_stale_temporaries(target)
    mode = (target.stat().st_mode & 0o777) if target.exists() else 0o644
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.{_host()}.{os.getpid()}.",
                                         suffix=TEMP_SUFFIX, delete=False)
    try:
        with handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(handle.name, mode)  # temp files are private (0600); give it the file's usual mode
        except OSError:
            pass
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    _sync_directory(target.parent)


def temporaries_of(path: str | os.PathLike) -> list[Path]:
    """The temporary files that writes of ``path`` made and have not (yet) renamed."""
    return [temporary for temporary, _, _ in _temporaries(path)]


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporaries of ``path`` that no live writer is writing; returns them.
    Never raises: a folder that cannot be listed or changed is left as it is."""
    removed = []
    for temporary, host, pid in _temporaries(path):
        try:
            untouched = time.time() - temporary.stat().st_mtime
            if untouched >= STALE_AFTER_SECONDS or (host == _host() and _process_gone(pid)):
                temporary.unlink()
                removed.append(temporary)
        except OSError:
            continue
    return removed


def _temporaries(path: str | os.PathLike) -> list[tuple[Path, str, int | None]]:
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()
    prefix = f".{target.name}."
    try:  # plain files only: a folder or link of that name is someone else's
        names = [entry.name for entry in os.scandir(target.parent) if entry.is_file(follow_symlinks=False)]
    except OSError:
        return []
    found = []
    for name in names:
        if name.startswith(prefix) and name.endswith(TEMP_SUFFIX):
            writer = _writer_of(name[len(prefix):-len(TEMP_SUFFIX)])
            if writer is not None:
                found.append((target.parent / name, *writer))
    return found


def _writer_of(middle: str) -> tuple[str, int | None] | None:
    """``(host, pid)`` from the part of a temporary's name between ``.NAME.`` and ``.tmp``;
    ``("", None)`` for an older name that does not say; None for another file's name."""
    parts = middle.split(".")
    if len(parts) == 3 and parts[1].isascii() and parts[1].isdigit() and len(parts[1]) <= 10:
        return parts[0], int(parts[1])
    if _LEGACY_RANDOM.fullmatch(middle):
        return "", None
    return None


def _host() -> str:
    """This machine's name, reduced to what can sit between dots in a file name."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname().split(".")[0])[:40]
    return name or "host"


def _process_gone(pid: int | None) -> bool:
    """True when no process ``pid`` runs here (a zombie does not write either)."""
    if pid is None or pid == os.getpid():
        return False
    import psutil  # imported here: opening a project should not pay for it

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # another user's process: it exists
        return False


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
