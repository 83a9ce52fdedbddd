"""The vocabulary of the ``.cnnproj`` format: its name and version, the
migrations from older versions, the limits a file must keep, ``Project`` (what a
file holds) and ``ProjectError`` (why one cannot be read or written).

``project_json`` (the text), ``project_reader`` (the document) and ``project``
(files on disk) all speak it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from .network import Network

FORMAT_NAME = "cnnstudio-project"
FORMAT_VERSION = 2
SCHEMA_FILE_NAME = f"cnnproj-{FORMAT_VERSION}.schema.json"


def _v1_to_v2(doc: dict) -> dict:
    """Version 2 added group blocks (``network.groups``); a version 1 network has none."""
    if isinstance(doc.get("network"), dict):
        doc["network"].setdefault("groups", [])
    return doc


#: Old format version -> a function that turns such a document into the next
#: version.  The loader applies them in a chain (v1 -> v2 -> ...), each on a copy,
#: and stamps the new version number after each step.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2}

#: JSON nesting a project never needs (the network is 5 levels deep); deeper documents
#: are refused so that no later step (copying, saving, settings) runs out of stack
MAX_DEPTH = 64
#: canvas positions stay within this distance of the origin: further out the canvas's
#: own arithmetic (scene sizes, zoom to fit) loses its meaning
POSITION_LIMIT = 1e9


class ProjectError(Exception):
    """A project file that cannot be read or written; ``str()`` is one line:
    ``<file>: <where>: <problem>. <fix>``."""

    def __init__(self, path: str | os.PathLike[str], where: str, problem: str, fix: str) -> None:
        self.path = str(path)
        self.where = where
        self.problem = problem
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.path] + ([self.where] if self.where else []) + [self.problem.rstrip(".")]
        return " ".join(f"{': '.join(parts)}. {self.fix}".splitlines())  # one line, whatever the parts hold

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable across processes despite the custom __init__
        return type(self), (self.path, self.where, self.problem, self.fix)


@dataclass
class Project:
    """Everything a ``.cnnproj`` holds.  Node positions live in the network's nodes;
    ``dataset`` and ``training`` are owned by the data and training packages and
    stored here as plain JSON objects; ``view`` holds display settings (shape
    order, zoom...)."""

    network: Network
    name: str = ""
    description: str = ""
    dataset: dict | None = None
    training: dict | None = None
    view: dict = field(default_factory=dict)
    #: the Experiments view's sweep definition (owned by ``training.sweeps``); written only when set
    experiments: dict | None = None
