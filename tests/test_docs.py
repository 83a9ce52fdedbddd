"""The Python examples in ``docs/`` run as written: each page's code blocks, in order, in one
fresh Python process started in an empty folder (so the files they write land there)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
CODE_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def code_of(page: Path) -> str:
    return "\n".join(CODE_BLOCK.findall(page.read_text(encoding="utf-8")))


def test_the_docs_have_python_examples():
    assert PAGES and all(code_of(page) for page in PAGES), "every page in docs/ shows runnable Python"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_the_examples_run_as_written(page, tmp_path):
    script = tmp_path / f"{page.stem}.py"
    script.write_text(code_of(page), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2"}
    result = subprocess.run([sys.executable, script.name], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"{page.name}: the examples failed\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
