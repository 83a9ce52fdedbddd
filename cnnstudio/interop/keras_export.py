"""A network as a readable Keras 3 script, with its trained weights in a ``.weights.h5`` file.

``export_keras(network, weights, "model.py")`` writes the script that ``keras_plan`` plans:
``keras.Sequential([...])`` for a chain, the functional API (one line per layer, the layer's
name as the variable) for branches and merges, with CNN Studio's layer names and Keras's
channels-last shapes.  With weights it also writes ``model.weights.h5`` beside the script,
converted from PyTorch's layout (``keras_weights``) and laid out as Keras's own
``model.save_weights`` does, and the script loads it, so Keras predicts what the studio does.

Writing the code needs neither torch nor keras; the weights need torch (to read them) and h5py.
"""

from __future__ import annotations

import builtins
import json
import keyword
import os
import warnings
from pathlib import Path
from typing import Any

from cnnstudio.core.analysis import Analysis
from cnnstudio.core.atomic_file import write_atomic
from cnnstudio.core.network import Network
from cnnstudio.training.export_errors import ExportNote

from .keras_plan import Argument, KerasExportError, KerasLayer, KerasPlan, plan_keras
from .keras_vocabulary import weight_paths
from .keras_weights import to_keras

__all__ = ["KerasExportError", "export_keras", "generate_keras_code", "keras_weights_path", "write_keras_weights"]

INDENT = "    "
LINE_LIMIT = 100
#: names the script itself uses, and Python's own; a layer variable named like one gets a trailing underscore
SCRIPT_NAMES = frozenset({"keras", "layers", "model", "Path", "WEIGHTS", *dir(builtins)})


def keras_weights_path(script_path: str | os.PathLike[str]) -> Path:
    """``model.py`` -> ``model.weights.h5`` beside it (Keras wants the ``.weights.h5`` ending)."""
    path = Path(script_path)
    return path.with_name(f"{path.stem}.weights.h5")


def export_keras(network: Network, weights: Any, output_path: str | os.PathLike[str], *,
                 title: str | None = None, analysis: Analysis | None = None) -> Path:
    """Write the Keras script of ``network`` to ``output_path``; with ``weights`` (a file, a
    state_dict or a module) also its ``.weights.h5`` beside it (``keras_weights_path``; an
    existing file of that name is replaced, as ``export_code`` does with its weights).
    Returns the script's path."""
    target = Path(output_path)
    if not target.parent.is_dir():
        raise ValueError(f"{target}: the folder {str(target.parent)!r} does not exist; create it first")
    if target.is_dir():
        raise ValueError(f"{target}: this is a folder; give a file name inside it")
    plan = plan_keras(network, analysis, title=title)
    for note in plan.notes:
        warnings.warn(note, ExportNote, stacklevel=2)
    weights_file = keras_weights_path(target) if weights is not None else None
    source = generate_keras_code(plan, title=title, weights_file=weights_file.name if weights_file else None)
    if weights_file is not None:
        from cnnstudio.training.export import model_with_weights
        from cnnstudio.training.export_weights import plain_state_dict

        state = {key: value.numpy() for key, value in plain_state_dict(model_with_weights(network, weights)).items()}
        write_keras_weights(plan, state, weights_file)
    write_atomic(target, source)
    return target


def write_keras_weights(plan: KerasPlan, state: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """The studio's ``state`` (NumPy arrays by ``state_dict`` key) as a Keras ``.weights.h5`` file
    for ``plan``'s model, written atomically."""
    from cnnstudio.training.export_weights import replace_with

    h5py = _h5py()
    layers = plan.model_layers()

    def write(temp: str) -> None:
        with h5py.File(temp, "w") as file:
            for layer, group_path in zip(layers, weight_paths(layer.class_name for layer in layers)):
                group = file.create_group(group_path).create_group("vars")
                group.attrs["name"] = layer.name
                if layer.weights is not None:
                    for index, value in enumerate(to_keras(layer.weights, state)):
                        group.create_dataset(str(index), data=value)
            file.create_group("vars").attrs["name"] = plan.name

    return replace_with(path, write)


def _h5py():
    try:
        import h5py
    except ImportError:
        raise KerasExportError("Keras weights files need the h5py package: pip install h5py") from None
    return h5py


# ---------------------------------------------------------------------- code

def generate_keras_code(plan: KerasPlan, *, title: str | None = None, weights_file: str | None = None) -> str:
    """The Keras 3 source of ``plan`` as a script that defines ``model``."""
    variables = _variable_names(plan)
    body = _sequential(plan) if plan.sequential else _functional(plan, variables)
    parts = [_docstring(plan, title), _imports(weights_file), body]
    if weights_file:
        parts.append(f'# Trained weights from CNN Studio, beside this file\n'
                     f'WEIGHTS = Path(__file__).with_name("{weights_file}")\nmodel.load_weights(WEIGHTS)')
    parts.append('if __name__ == "__main__":\n' + INDENT + "model.summary()")
    return "\n\n".join(parts) + "\n"


def _docstring(plan: KerasPlan, title: str | None) -> str:
    head = "A Keras 3 model generated by CNN Studio."
    if title and title.strip():
        clean = " ".join(title.split()).replace("\\", "/").replace('"', "'")
        head = f"{clean}: a Keras 3 model generated by CNN Studio."
    axes = {1: "(features,)", 2: "(length, channels)", 3: "(height, width, channels)"}
    shape = plan.input.output_shape
    total = plan.trainable_params + plan.non_trainable_params
    return "\n".join([
        f'"""{head}',
        "",
        f"Input: {_literal(shape)} per sample, channels last as Keras wants: {axes.get(len(shape), '')}.",
        f"Output: {_literal(plan.output.output_shape)} per sample.",
        f"Parameters: {total:,} ({plan.trainable_params:,} trainable, {plan.non_trainable_params:,} non-trainable).",
        "",
        "Layer names are the studio's. Runs on any Keras 3 backend (TensorFlow, JAX or PyTorch);",
        "run this file to print model.summary().",
        '"""',
    ])


def _imports(weights_file: str | None) -> str:
    lines = ["from pathlib import Path", ""] if weights_file else []
    return "\n".join(lines + ["import keras", "from keras import layers"])


def _sequential(plan: KerasPlan) -> str:
    lines = ["model = keras.Sequential(["]
    for layer in plan.layers:
        head, arguments = _constructor(layer)
        lines += _call_lines(INDENT, head, arguments, "),")
    lines.append(f"], name={_literal(plan.name)})")
    return "\n".join(lines)


def _functional(plan: KerasPlan, variables: dict[str, str]) -> str:
    lines = []
    for layer in plan.layers:
        head, arguments = _constructor(layer)
        sources = [variables[name] for name in layer.inputs]
        call = "" if layer.is_input else "(" + (sources[0] if len(sources) == 1 else "[" + ", ".join(sources) + "]") + ")"
        lines += _call_lines("", f"{variables[layer.name]} = {head}", arguments, ")" + call)
    lines += _call_lines("", "model = keras.Model(", [f"inputs={variables[plan.input.name]}",
                                                     f"outputs={variables[plan.output.name]}",
                                                     f"name={_literal(plan.name)}"], ")")
    return "\n".join(lines)


def _constructor(layer: KerasLayer) -> tuple[str, list[str]]:
    """``("layers.Conv2D(", ["32", "(3, 3)", 'name="conv2d_1"'])``: the call's head and arguments."""
    if layer.is_input:
        return "keras.Input(", [f"shape={_literal(layer.output_shape)}", f"name={_literal(layer.name)}"]
    arguments: list[Argument] = [*layer.arguments, ("name", layer.name)]
    return (f"layers.{layer.class_name}(",
            [_literal(value) if key is None else f"{key}={_literal(value)}" for key, value in arguments])


def _call_lines(indent: str, head: str, arguments: list[str], tail: str) -> list[str]:
    """One line when it fits in ``LINE_LIMIT``, else the arguments wrapped under the opening parenthesis."""
    single = f"{indent}{head}{', '.join(arguments)}{tail}"
    if len(single) <= LINE_LIMIT:
        return [single]
    hanging = " " * (len(indent) + len(head))
    lines, current = [], f"{indent}{head}"
    for index, argument in enumerate(arguments):
        piece = argument + (tail if index == len(arguments) - 1 else ",")
        if current.strip() and not current.endswith("(") and len(current) + 1 + len(piece) > LINE_LIMIT:
            lines.append(current)
            current = hanging + piece
        else:
            current += ("" if current.endswith("(") else " ") + piece
    return lines + [current]


def _variable_names(plan: KerasPlan) -> dict[str, str]:
    names = {}
    for layer in plan.layers:
        name = layer.name
        while name in SCRIPT_NAMES or keyword.iskeyword(name) or name in names.values():
            name += "_"
        names[layer.name] = name
    return names


def _literal(value: Any) -> str:
    """Python source of a plain value, strings in double quotes: ``(3, 3)``, ``"same"``, ``0.5``."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (tuple, list)):
        items = [_literal(item) for item in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    return repr(value)
