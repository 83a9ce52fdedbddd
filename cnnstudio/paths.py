"""Where the project's bundled files live (``resources/`` and ``projects/`` beside the package)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
EXAMPLE_PROJECTS = ROOT / "projects"
