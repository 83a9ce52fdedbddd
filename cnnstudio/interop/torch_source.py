"""Where a PyTorch module comes from: a ``.py`` file, a class in it, its constructor
arguments and, optionally, a state_dict file.

Loading a ``.py`` file RUNS that file's code.  Only ``instantiate_module`` does
it, and only because the user named the file (the CLI) or confirmed running it
(the studio asks first).  ``module_classes`` reads a file's class names without
running anything, for the studio's dialog.  Weights files are read with
``training.export_weights.load_weights`` (``weights_only=True`` or safetensors:
never code).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model_import import ModelImportError

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


def module_classes(path: str | Path) -> list[str]:
    """The classes defined at the top of ``path`` (parsed, never run); classes that
    derive from something named ``Module`` come first."""
    file = Path(path)
    try:
        tree = ast.parse(file.read_text("utf-8"), filename=str(file))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]

    def looks_like_module(node: ast.ClassDef) -> bool:
        return any(ast.unparse(base).split(".")[-1] == "Module" for base in node.bases)

    return [node.name for node in sorted(classes, key=lambda node: not looks_like_module(node))]


def parse_class_args(text: str | list | dict | None) -> tuple[list, dict]:
    """Constructor arguments from JSON text: a list (positional) or an object (keywords)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return [], {}
    value = text
    if isinstance(text, str):
        try:
            value = json.loads(text)
        except ValueError as error:
            raise ModelImportError(f"constructor arguments must be JSON, such as [10] or {{\"classes\": 10}} "
                                   f"({error})") from None
    if isinstance(value, list):
        return value, {}
    if isinstance(value, dict):
        return [], value
    raise ModelImportError(f"constructor arguments must be a JSON list or object, not {json.dumps(value)}")


def instantiate_module(path: str | Path, class_name: str | None, class_args: Any = None) -> "nn.Module":
    """Run the file at ``path`` and build ``class_name(*args, **kwargs)`` from it."""
    from torch import nn

    file = Path(path)
    args, kwargs = parse_class_args(class_args)
    namespace = _run_file(file)
    defined = [name for name, value in vars(namespace).items()
               if isinstance(value, type) and issubclass(value, nn.Module) and value.__module__ == namespace.__name__]
    if class_name is None:
        if len(defined) != 1:
            listed = ", ".join(defined) or "none"
            raise ModelImportError(f"{file.name}: name the nn.Module class to import with --class "
                                   f"(it defines: {listed})")
        class_name = defined[0]
    cls = getattr(namespace, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        listed = ", ".join(defined) or "none"
        raise ModelImportError(f"{file.name}: has no nn.Module class {class_name!r} (it defines: {listed})")
    try:
        module = cls(*args, **kwargs)
    except Exception as error:
        raise ModelImportError(f"{file.name}: {class_name}({_describe_args(args, kwargs)}) failed: "
                               f"{type(error).__name__}: {first_line(error)}") from None
    return module


def _run_file(file: Path) -> Any:
    """Execute ``file`` as a fresh module (its folder first on the import path, as when
    it is run as a script there)."""
    digest = hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:10]
    name = f"cnnstudio_user_{file.stem if file.stem.isidentifier() else 'module'}_{digest}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ModelImportError(f"{file}: cannot be loaded as a Python file")
    namespace = importlib.util.module_from_spec(spec)
    folder = str(file.parent.resolve())
    sys.path.insert(0, folder)
    sys.modules[name] = namespace  # dataclasses and pickling look classes up by module
    try:
        spec.loader.exec_module(namespace)
    except SyntaxError as error:
        sys.modules.pop(name, None)
        raise ModelImportError(f"{file.name}: line {error.lineno}: {error.msg}") from None
    except BaseException as error:  # the user's code may raise anything, SystemExit included
        sys.modules.pop(name, None)
        if isinstance(error, KeyboardInterrupt):
            raise
        raise ModelImportError(f"{file.name}: running it failed: {type(error).__name__}: "
                               f"{first_line(error)}") from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return namespace


def load_module_weights(module: "nn.Module", weights: str | Path) -> None:
    """Load a state_dict file into ``module`` strictly (every key, every shape)."""
    from cnnstudio.training.export_weights import WeightsError, load_weights

    try:
        state = load_weights(weights)
    except WeightsError as error:
        raise ModelImportError(str(error)) from None
    expected = module.state_dict()
    missing = [key for key in expected if key not in state]
    extra = [key for key in state if key not in expected]
    wrong = [key for key in expected if key in state and tuple(state[key].shape) != tuple(expected[key].shape)]
    if missing or extra or wrong:
        if wrong:
            key = wrong[0]
            detail = f"{key} is {tuple(state[key].shape)} in the file but {tuple(expected[key].shape)} in the module"
        elif missing:
            detail = f"{len(missing)} missing, the first is {missing[0]}"
        else:
            detail = f"{len(extra)} not in the module, the first is {extra[0]}"
        raise ModelImportError(f"{Path(weights).name}: the weights do not fit the module ({detail})")
    module.load_state_dict(state)


def _describe_args(args: list, kwargs: dict) -> str:
    return ", ".join([json.dumps(a) for a in args] + [f"{k}={json.dumps(v)}" for k, v in kwargs.items()])


def first_line(error: BaseException) -> str:
    """An error's message as one line, for the CLI and dialogs."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
