"""The package's layering contract, checked from the source rather than trusted to habit.

Arrows go down only: ui -> training -> data -> core. ``core``, ``data`` and ``training`` never
import Qt, so they run in the CLI and in tests without a display, and importing ``cnnstudio.core``
never imports torch, so the window opens and ``cnnstudio summary`` answers fast.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cnnstudio"

QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")

# layer -> packages it may never import (anywhere in a file, function bodies included)
FORBIDDEN = {
    "core": QT_MODULES + ("cnnstudio.data", "cnnstudio.training", "cnnstudio.ui"),
    "data": QT_MODULES + ("cnnstudio.training", "cnnstudio.ui"),
    "training": QT_MODULES + ("cnnstudio.ui",),
    "lab": QT_MODULES + ("cnnstudio.ui",),
    "interop": QT_MODULES + ("cnnstudio.ui", "cnnstudio.lab", "keras", "tensorflow"),
}

# layer -> packages it may only import inside functions, never while the module loads
LAZY_ONLY = {"core": ("torch",), "lab": ("torch",)}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Absolute names an import statement can load, relative imports resolved."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        anchor = package.split(".")
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    # ``from cnnstudio import ui`` loads cnnstudio.ui: check each imported name as a submodule too
    return [base] + [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]


def _matches(name: str, packages: tuple[str, ...]) -> str | None:
    for package in packages:
        if name == package or name.startswith(package + "."):
            return package
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _load_time_imports(nodes: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module loads: everything outside function bodies.

    Top-level ``if``/``try``/``with`` blocks and class bodies run at import time; function
    bodies do not, and neither does an ``if TYPE_CHECKING:`` block.
    """
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _load_time_imports(node.orelse)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(node, field, None) or []
                for child in children:
                    if isinstance(child, (ast.excepthandler, ast.match_case)):
                        yield from _load_time_imports(child.body)
                    else:
                        yield from _load_time_imports([child])


def layering_violations(source: str, path: Path, layer: str) -> list[str]:
    """One line per broken rule in ``source``, as ``file:line: message``."""
    tree = ast.parse(source, filename=str(path))
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    where = path.relative_to(ROOT).as_posix()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name in _imported_names(node, module, is_package):
                if package := _matches(name, FORBIDDEN[layer]):
                    found.append(f"{where}:{node.lineno}: imports {name} ({layer} must not use {package})")
                    break
    for node in _load_time_imports(tree.body):
        for name in _imported_names(node, module, is_package):
            if package := _matches(name, LAZY_ONLY.get(layer, ())):
                found.append(
                    f"{where}:{node.lineno}: imports {name} at module level "
                    f"({layer} imports {package} inside functions only)"
                )
                break
    return found


def test_layers_import_only_downward_and_core_loads_torch_lazily():
    violations = []
    checked = dict.fromkeys(FORBIDDEN, 0)
    for layer in FORBIDDEN:
        folder = PACKAGE / layer
        if not folder.is_dir():
            continue  # layer not written yet
        for path in sorted(folder.rglob("*.py")):
            violations += layering_violations(path.read_text(encoding="utf-8"), path, layer)
            checked[layer] += 1
    if (PACKAGE / "core").is_dir():
        assert checked["core"] > 0, "cnnstudio/core exists but no .py file in it was checked"
    assert not violations, "layering broken:\n" + "\n".join(violations)


@pytest.mark.parametrize(
    ("source", "layer", "expected"),
    [
        ("from PySide6.QtCore import QObject\n", "training", "PySide6"),
        ("def f():\n    import pyqtgraph\n", "data", "pyqtgraph"),
        ("from ..training import trainer\n", "core", "cnnstudio.training"),
        ("from .. import ui\n", "core", "cnnstudio.ui"),
        ("import cnnstudio.data.idx\n", "core", "cnnstudio.data"),
        ("try:\n    import torch.nn as nn\nexcept ImportError:\n    pass\n", "core", "torch"),
        ("if True:\n    from torch import nn\n", "core", "torch"),
        ("class A:\n    import torch\n", "core", "torch"),
    ],
)
def test_checker_catches_broken_rule(source, layer, expected):
    path = PACKAGE / layer / "example.py"
    (violation,) = layering_violations(source, path, layer)
    assert violation.startswith(f"cnnstudio/{layer}/example.py:")
    assert f"must not use {expected})" in violation or f"imports {expected} inside" in violation


@pytest.mark.parametrize(
    "source",
    [
        "def build():\n    import torch\n    return torch\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\n",
        "from .layers import CATALOG\nfrom . import analysis\n",
    ],
)
def test_checker_allows_lazy_torch_and_core_internal_imports(source):
    assert layering_violations(source, PACKAGE / "core" / "example.py", "core") == []


def test_importing_core_loads_neither_torch_nor_qt():
    if not (PACKAGE / "core" / "__init__.py").is_file():
        pytest.skip("cnnstudio.core does not exist yet")
    code = (
        "import cnnstudio.core, sys; "
        "assert 'torch' not in sys.modules and 'PySide6' not in sys.modules, "
        "sorted(m for m in ('torch', 'PySide6') if m in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
