"""Where the studio's bundled files live: ``resources/`` (icons, the project schema, the
built-in MNIST, the Lab's images, the Linux ``.desktop`` file) and ``projects/`` (examples).

In the repository both folders sit at the top level, beside the package.  An installed
studio (a wheel, ``pip install .``) carries them inside the package, as
``cnnstudio/resources`` and ``cnnstudio/projects``: ``pyproject.toml`` maps them there.
So they are looked up through the package with ``importlib.resources`` first, and beside
it only when the package holds none (a checkout used in place: an editable install, or
``PYTHONPATH``).  Installers unpack wheels, so the package is a real folder and the paths
are plain ``Path`` objects that Qt, gzip and glob can use.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled_folder(name: str) -> Path:
    """The folder ``name`` (``"resources"`` or ``"projects"``) that ships with the studio."""
    inside = resources.files(__package__) / name
    if inside.is_dir():
        return Path(str(inside))
    return Path(__file__).resolve().parents[1] / name


RESOURCES = bundled_folder("resources")
EXAMPLE_PROJECTS = bundled_folder("projects")
