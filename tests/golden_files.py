"""Golden files: reviewed output (printed tables, generated code) kept under ``tests/golden/``.

``check_golden(name, text)`` fails with a unified diff when ``text`` differs from the file.
It never rewrites a file on its own: run the tests with ``CNNSTUDIO_REGEN_GOLDEN=1`` to write
the new output, then review the change in ``git diff`` before committing it.
"""

from __future__ import annotations

import difflib
import os
import warnings
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
REGEN_VARIABLE = "CNNSTUDIO_REGEN_GOLDEN"


def check_golden(name: str, text: str, *, directory: Path = GOLDEN_DIR) -> None:
    """Compare ``text`` with the golden file ``directory / name`` exactly."""
    path = directory / name
    if os.environ.get(REGEN_VARIABLE) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        warnings.warn(f"rewrote golden file {path}; review it with git diff", stacklevel=2)
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; write it with {REGEN_VARIABLE}=1 and review it",
                    pytrace=False)
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), text.splitlines(keepends=True),
                                            fromfile=f"golden/{name}", tofile="produced now"))
        pytest.fail(f"output differs from golden file {path}:\n{diff}\n"
                    f"If the change is intended, rerun with {REGEN_VARIABLE}=1 and review the diff.",
                    pytrace=False)
