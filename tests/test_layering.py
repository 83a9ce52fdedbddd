"""The package's layering contract, checked from the source rather than trusted to habit.

Arrows go down only: cli -> ui -> lab -> interop -> training -> data -> core. ``core``, ``data``,
``training``, ``lab`` and ``interop`` never import Qt, so they run in the CLI, in the training
process and in tests without a display; ``core`` imports no other part of CNN Studio; ``interop``
reads Keras files as data and never imports Keras or TensorFlow. Those rules are import-linter
contracts in ``pyproject.toml`` (direct and indirect imports, function bodies included), run here.

One rule is beyond import-linter, which cannot tell an import inside a function from one at
module level: ``core`` and ``lab`` import torch inside functions only, so importing
``cnnstudio.core`` never loads torch and the window opens and ``cnnstudio summary`` answers fast.
A small AST walk checks that.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cnnstudio"

# layer -> packages it may only import inside functions, never while the module loads
LAZY_ONLY = {"core": ("torch",), "lab": ("torch",)}


# ---------------------------------------------------------------------- import-linter's contracts

def test_the_import_contracts_in_pyproject_are_kept():
    # in a process of its own: import-linter reads the package as this checkout has it, and
    # its report goes to a stream of its own
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = result.stdout + result.stderr
    assert result.returncode == 0, "layering broken (import-linter's report):\n" + report[report.find("Contracts"):]


def test_every_package_of_cnnstudio_has_its_place_in_the_layers():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [contract["layers"] for contract in config["contracts"] if contract["type"] == "layers"]
    packages = {f"cnnstudio.{path.name}" for path in PACKAGE.iterdir()
                if path.is_dir() and any(path.glob("*.py"))}
    unplaced = packages - set(layers)
    assert not unplaced, (f"{sorted(unplaced)} not in the layers contract of pyproject.toml: give each its place "
                          "in [[tool.importlinter.contracts]] 'layers'")


# ---------------------------------------------------------------------- torch only inside functions

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


def load_time_violations(source: str, path: Path, layer: str) -> list[str]:
    """One line per module-level import of a package ``layer`` loads lazily, as ``file:line: message``."""
    tree = ast.parse(source, filename=str(path))
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    where = path.relative_to(ROOT).as_posix()
    found = []
    for node in _load_time_imports(tree.body):
        for name in _imported_names(node, module, is_package):
            if package := _matches(name, LAZY_ONLY[layer]):
                found.append(f"{where}:{node.lineno}: imports {name} at module level "
                             f"({layer} imports {package} inside functions only)")
                break
    return found


def test_core_and_lab_import_torch_inside_functions_only():
    violations = []
    for layer in LAZY_ONLY:
        files = sorted((PACKAGE / layer).rglob("*.py"))
        assert files, f"cnnstudio/{layer} has no .py file to check"
        for path in files:
            violations += load_time_violations(path.read_text(encoding="utf-8"), path, layer)
    assert not violations, "torch loaded at import time:\n" + "\n".join(violations)


@pytest.mark.parametrize(
    "source",
    [
        "import torch\n",
        "try:\n    import torch.nn as nn\nexcept ImportError:\n    pass\n",
        "if True:\n    from torch import nn\n",
        "class A:\n    import torch\n",
        "with open('x'):\n    import torch\n",
    ],
)
def test_the_checker_catches_torch_loaded_at_import_time(source):
    (violation,) = load_time_violations(source, PACKAGE / "core" / "example.py", "core")
    assert violation.startswith("cnnstudio/core/example.py:") and "inside functions only" in violation


@pytest.mark.parametrize(
    "source",
    [
        "def build():\n    import torch\n    return torch\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\n",
        "from .layers import CATALOG\nfrom . import analysis\n",
    ],
)
def test_the_checker_allows_lazy_torch_and_other_imports(source):
    assert load_time_violations(source, PACKAGE / "core" / "example.py", "core") == []


def test_importing_core_loads_neither_torch_nor_qt():
    code = (
        "import cnnstudio.core, sys; "
        "assert 'torch' not in sys.modules and 'PySide6' not in sys.modules, "
        "sorted(m for m in ('torch', 'PySide6') if m in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
