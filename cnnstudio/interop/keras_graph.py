"""The layer graph of a Keras 3 model config (``config.json``), as plain data.

A ``Sequential`` model is a list of layers; a functional one (``Functional``) lists each
layer with the tensors it was called on (``inbound_nodes``, each tensor naming the layer
that made it in ``keras_history``).  ``read_graph`` turns either into ``KerasNode``s in the
order of ``model.layers``, input first, each with the names of its inputs and the group
that holds its weights in ``model.weights.h5``.

What cannot be read as data is refused here, before anything else: a ``Lambda`` layer (it
holds Python code, never run by CNN Studio), layers from outside Keras (custom classes),
nested models, layers called more than once, and models with several inputs or outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .keras_vocabulary import weight_paths
from .model_import import ModelImportError, UnsupportedModelError

SEQUENTIAL, FUNCTIONAL = "Sequential", "Functional"
MODEL_CLASSES = {"Sequential": SEQUENTIAL, "Functional": FUNCTIONAL, "Model": FUNCTIONAL}


@dataclass
class KerasNode:
    name: str
    class_name: str
    config: dict[str, Any]
    inputs: list[str] = field(default_factory=list)
    weights_path: str | None = None  # None for a Sequential model's input, which holds no group


def read_graph(model: dict[str, Any], source: str) -> tuple[list[KerasNode], str]:
    """``(nodes in model.layers order, input first; the model's name)``."""
    kind = MODEL_CLASSES.get(model.get("class_name"))
    if kind is None:
        name = model.get("class_name", "?")
        raise ModelImportError(f"{source}: the model is a {name} (a subclassed model, whose structure is "
                               "Python code); only Sequential and functional models can be read without "
                               "running code")
    config = model.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelImportError(f"{source}: config.json has no list of layers; is this a Keras 3 model file?")
    entries = config["layers"]
    for index, entry in enumerate(entries, start=1):
        _check_entry(entry, index, len(entries), source)
    nodes = _sequential(model, entries, source) if kind == SEQUENTIAL else _functional(config, entries, source)
    return nodes, str(config.get("name") or kind.lower())


def _check_entry(entry: Any, index: int, count: int, source: str) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise ModelImportError(f"{source}: layer {index} of config.json is not a Keras layer description")
    class_name = entry["class_name"]
    name = _name(entry)
    where = f"at layer {index} of {count}"
    if class_name == "Lambda":
        raise UnsupportedModelError(name, class_name, where,
                                    "a Lambda layer holds Python code, and CNN Studio never runs code from a "
                                    "file; rebuild that step from built-in layers")
    module = entry.get("module") or ""
    if not module.startswith("keras") or class_name in ("TFOpLambda", "SlicingOpLambda"):
        raise UnsupportedModelError(name, class_name, where,
                                    f"a layer class from outside Keras ({module or 'unknown module'}) is Python "
                                    "code, which CNN Studio never runs; use Keras's built-in layers")
    if class_name in MODEL_CLASSES:
        raise UnsupportedModelError(name, class_name, where,
                                    "a model nested in a model; build the outer model from the inner model's "
                                    "layers directly")


def _name(entry: dict[str, Any]) -> str:
    return str(entry.get("name") or entry["config"].get("name") or entry["class_name"].lower())


def _sequential(model: dict[str, Any], entries: list[dict], source: str) -> list[KerasNode]:
    nodes = [KerasNode(_name(entry), entry["class_name"], entry["config"]) for entry in entries]
    if not nodes or nodes[0].class_name != "InputLayer":
        shape = _declared_input_shape(model, entries)
        if shape is None:
            raise ModelImportError(f"{source}: the Sequential model has no input shape; start it with "
                                   "keras.Input(shape=...) or build it before saving")
        taken = {node.name for node in nodes}
        name = "input_layer"
        while name in taken:
            name += "_1"
        nodes.insert(0, KerasNode(name, "InputLayer", {"batch_shape": shape, "name": name}))
    layers = nodes[1:]
    for previous, node in zip(nodes, layers):
        node.inputs = [previous.name]
    for node, path in zip(layers, weight_paths(node.class_name for node in layers)):
        node.weights_path = path
    return nodes


def _declared_input_shape(model: dict[str, Any], entries: list[dict]) -> list | None:
    """The input shape a Sequential model without an InputLayer was built with."""
    candidates = [model.get("build_config"), *(entry.get("build_config") for entry in entries[:1]),
                  *(entry["config"] for entry in entries[:1])]
    for candidate in candidates:
        if isinstance(candidate, dict):
            for key in ("input_shape", "batch_input_shape", "batch_shape"):
                if isinstance(candidate.get(key), list):
                    return candidate[key]
    return None


def _functional(config: dict[str, Any], entries: list[dict], source: str) -> list[KerasNode]:
    nodes = []
    for index, entry in enumerate(entries, start=1):
        node = KerasNode(_name(entry), entry["class_name"], entry["config"])
        calls = entry.get("inbound_nodes") or []
        if len(calls) > 1:
            raise UnsupportedModelError(node.name, node.class_name, f"at layer {index} of {len(entries)}",
                                        f"the layer is called {len(calls)} times (shared weights); CNN Studio "
                                        "gives every block its own weights")
        if calls:
            node.inputs = _call_inputs(calls[0], node, source)
        nodes.append(node)
    for node, path in zip(nodes, weight_paths(node.class_name for node in nodes)):
        node.weights_path = path
    inputs, outputs = _endpoints(config.get("input_layers")), _endpoints(config.get("output_layers"))
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelImportError(f"{source}: the model has {len(inputs)} inputs and {len(outputs)} outputs; CNN "
                               "Studio networks have one of each")
    known = {node.name for node in nodes}
    for node in nodes:
        for name in node.inputs:
            if name not in known:
                raise ModelImportError(f"{source}: layer {node.name!r} is called on {name!r}, which the model "
                                       "does not list")
    if nodes[0].name != inputs[0] or nodes[0].class_name != "InputLayer":
        raise ModelImportError(f"{source}: the model's input {inputs[0]!r} is not an InputLayer listed first")
    if outputs[0] not in known:
        raise ModelImportError(f"{source}: the model's output {outputs[0]!r} is not one of its layers")
    return nodes


def _call_inputs(call: Any, node: KerasNode, source: str) -> list[str]:
    """The names of the layers whose outputs one call of ``node`` takes, in order."""
    if isinstance(call, dict):  # Keras 3: {"args": [tensor or [tensors]], "kwargs": {...}}
        tensors: list[dict] = []
        _collect_tensors(call.get("args", []), tensors)
        histories = [tensor["config"]["keras_history"] for tensor in tensors]
    elif isinstance(call, list):  # Keras 2: [[name, node_index, tensor_index, kwargs], ...]
        histories = [item[:3] for item in call if isinstance(item, list) and len(item) >= 3]
    else:
        histories = []
    names = []
    for history in histories:
        if not (isinstance(history, list) and len(history) >= 3 and isinstance(history[0], str)):
            raise ModelImportError(f"{source}: the inputs of layer {node.name!r} cannot be read")
        if history[1] != 0 or history[2] != 0:
            raise UnsupportedModelError(node.name, node.class_name, f"called on {history[0]!r}",
                                        "it takes a second output or a second call of another layer; CNN "
                                        "Studio layers have one output and are called once")
        names.append(history[0])
    if not names:
        raise ModelImportError(f"{source}: layer {node.name!r} is called on no tensor")
    return names


def _collect_tensors(value: Any, found: list[dict]) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__" and isinstance(value.get("config"), dict):
            found.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_tensors(item, found)


def _endpoints(value: Any) -> list[str]:
    """``["inp", 0, 0]`` or ``[["inp", 0, 0], ...]`` -> layer names."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value[0]]
    if isinstance(value, list):
        return [item[0] for item in value if isinstance(item, list) and item and isinstance(item[0], str)]
    return []
