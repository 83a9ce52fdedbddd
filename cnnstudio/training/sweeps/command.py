"""From the command line's words to a ready ``SweepRunner`` (``python -m cnnstudio sweep``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence, TextIO

from cnnstudio.core.project import load_project

from .experiment import read_experiment
from .runner import SweepRunner, project_num_classes
from .space import parse_assignment
from .study import storage_url


def prepare_sweep(project_file: str | os.PathLike[str], params: Sequence[str] = (), *, snapshot: str | None = None,
                  storage: str | None = None, stream: TextIO | None = None, events: Any = None, quiet: bool = False,
                  **options: Any) -> SweepRunner:
    """The sweep of ``project_file``: its ``experiments`` object with ``params``
    (``NAME=SPEC``; they replace its space) and ``options`` (trials, timeout, name,
    objective, direction, sampler, pruner, seed; ``None`` keeps the project's) on top.
    ``snapshot`` is a copy of the project to train instead of the file (the studio's
    unsaved state); runs and the default storage stay ``project_file``'s.  Raises
    ``ProjectError`` or ``SpaceError`` for bad input, before anything is written."""
    project_file = Path(project_file)
    project = load_project(project_file)
    trained = load_project(snapshot) if snapshot else project
    space = dict(parse_assignment(text) for text in params)
    if len(space) != len(params):
        names = [parse_assignment(text)[0] for text in params]
        twice = next(name for name in names if names.count(name) > 1)
        from .space import SpaceError
        raise SpaceError(f"--param {twice}", "is given twice")
    experiment = read_experiment(trained.experiments, trained.network, where=str(snapshot or project_file),
                                 space=space, num_classes=project_num_classes(trained), **options)
    return SweepRunner(project_file, experiment, storage_url(storage, project_file), project=trained,
                       stream=stream, events=events, quiet=quiet)


__all__ = ["prepare_sweep"]
