"""``cnnstudio.lab`` stays Qt-free and loads without torch, so the pages can import it freely."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "cnnstudio" / "lab"
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "cnnstudio.ui")


def _imports(tree: ast.AST, module: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: len(module.split(".")) - node.level]
                base = ".".join(parent + ([node.module] if node.module else []))
            yield node, [base] + [f"{base}.{alias.name}" for alias in node.names]


def test_lab_never_imports_qt_or_the_ui_and_imports_torch_only_inside_functions():
    problems = []
    files = sorted(LAB.glob("*.py"))
    assert len(files) >= 9
    for path in files:
        module = "cnnstudio.lab." + path.stem if path.stem != "__init__" else "cnnstudio.lab.__init__"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, names in _imports(tree, module):
            if any(name == f or name.startswith(f + ".") for name in names for f in FORBIDDEN):
                problems.append(f"{path.name}:{node.lineno}: {names[0]}")
        for node in tree.body:  # module level, where an import runs on load
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = next(_imports(node, module))[1]
                if any(name == "torch" or name.startswith("torch.") for name in names):
                    problems.append(f"{path.name}:{node.lineno}: torch at module level")
    assert not problems, problems


def test_importing_every_lab_module_loads_neither_torch_nor_qt():
    code = ("import sys, importlib\n"
            "for name in ('filters', 'stepper', 'pooling', 'im2col', 'receptive', 'memory', 'learned_filters'):\n"
            "    importlib.import_module('cnnstudio.lab.' + name)\n"
            "loaded = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]\n"
            "assert not loaded, loaded\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
