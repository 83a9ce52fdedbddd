"""The ``.cnnproj`` file: a network plus the settings around it, as versioned JSON.

This module is the only door between a project on disk and a ``Project`` in
memory.  Reading checks everything a hand-edited or damaged file can get wrong
and reports it as one ``ProjectError`` that names the file, the place in it and
the fix; it never writes to the file it reads.  Older format versions are
brought forward by ``MIGRATIONS``; newer ones are refused.  Saving writes a
temporary file next to the target, flushes it to disk and renames it over the
target, so a crash leaves either the old file or the new one, never half of
one.  The JSON Schema of the format is generated from the layer catalog, so it
cannot disagree with the loader about parameters.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .layers import CATALOG, ParamError, ParamSpec, name_problem
from .layers.base import LayerSpec
from .atomic_file import write_atomic
from .network import Network, NetworkError

FORMAT_NAME = "cnnstudio-project"
FORMAT_VERSION = 1
SCHEMA_FILE_NAME = f"cnnproj-{FORMAT_VERSION}.schema.json"
#: a project is a few kilobytes; anything this large was opened by mistake
MAX_FILE_BYTES = 64 * 1024 * 1024

#: Old format version -> a function that turns such a document into the next
#: version.  The loader applies them in a chain (v1 -> v2 -> ...), each on a copy,
#: and stamps the new version number after each step.  When version 2 arrives:
#: add ``MIGRATIONS[1] = _v1_to_v2`` and bump ``FORMAT_VERSION``.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}

_TOP_KEYS = ("format", "version", "name", "description", "network", "dataset", "training", "view", "experiments")
_NODE_KEYS = ("id", "type", "name", "params", "position")
_EDGE_KEYS = ("source", "target")


class ProjectError(Exception):
    """A project file that cannot be read or written; ``str()`` is one line:
    ``<file>: <where>: <problem>. <fix>``."""

    def __init__(self, path: str | os.PathLike[str], where: str, problem: str, fix: str) -> None:
        self.path = str(path)
        self.where = where
        self.problem = problem
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.path] + ([self.where] if self.where else []) + [self.problem.rstrip(".")]
        return " ".join(f"{': '.join(parts)}. {self.fix}".splitlines())  # one line, whatever the parts hold

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable across processes despite the custom __init__
        return type(self), (self.path, self.where, self.problem, self.fix)


@dataclass
class Project:
    """Everything a ``.cnnproj`` holds.  Node positions live in the network's nodes;
    ``dataset`` and ``training`` are owned by the data and training packages and
    stored here as plain JSON objects; ``view`` holds display settings (shape
    order, zoom...)."""

    network: Network
    name: str = ""
    description: str = ""
    dataset: dict | None = None
    training: dict | None = None
    view: dict = field(default_factory=dict)
    #: the Experiments view's sweep definition (owned by ``training.sweeps``); written only when set
    experiments: dict | None = None


# ============================================================================ writing

def project_to_dict(project: Project) -> dict[str, Any]:
    """The document as plain JSON data, in the file's key order."""
    where = "<memory>"
    for key in ("name", "description"):
        if not isinstance(getattr(project, key), str):
            raise ProjectError(where, key, f"{key} must be text, not {type(getattr(project, key)).__name__}",
                               f"Give the project a text {key}.")
    settings = {}
    for key in ("dataset", "training", "view"):
        value = getattr(project, key)
        if value is None and key != "view":
            settings[key] = None
            continue
        if not isinstance(value, dict):
            raise ProjectError(where, key, f"{key} must be a dict, not {type(value).__name__}",
                               f"Store the {key} settings as a dict of plain values.")
        settings[key] = _plain_json(value, key)
    if project.experiments is not None:
        if not isinstance(project.experiments, dict):
            raise ProjectError(where, "experiments", "experiments must be a dict, not "
                               f"{type(project.experiments).__name__}", "Store the sweep settings as a dict.")
        settings["experiments"] = _plain_json(project.experiments, "experiments")
    network = project.network.to_dict()
    bad = _non_finite(network, "network")
    if bad is not None:
        raise ProjectError(where, bad, "the value is not a finite number", "Give it an ordinary number.")
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "name": project.name,
            "description": project.description, "network": network, **settings}


def dumps(project: Project) -> str:
    """The file's text: indented, keys in a fixed order, short lists and small
    objects on one line (readable diffs), ending with a newline."""
    return format_json(project_to_dict(project), 0) + "\n"


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Write atomically (see ``atomic_file``): on any failure an existing file is untouched."""
    target = Path(path)
    folder = target.resolve().parent if target.is_symlink() else target.parent
    if not folder.is_dir():
        raise ProjectError(path, "", f"the folder {str(folder)!r} does not exist",
                           "Choose an existing folder, or create it first.")
    if target.is_dir():
        raise ProjectError(path, "", "this is a folder, not a file", "Choose a file name inside the folder.")
    data = dumps(project)  # before touching the disk: a bad value leaves nothing behind
    try:
        write_atomic(target, data)
    except OSError as error:
        raise ProjectError(path, "", f"could not save: {error.strerror or error}",
                           "Check that the folder is writable and the disk has space, then save again; "
                           "the previous file was left as it was.") from error


def _plain_json(value: Any, where: str) -> Any:
    """A deep copy of ``value`` with dict keys sorted; refuses what JSON cannot hold."""
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ProjectError("<memory>", where, f"key {key!r} is not text",
                                   "Use text keys in settings.")
        return {key: _plain_json(value[key], f"{where}.{key}") for key in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_plain_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise ProjectError("<memory>", where, f"{value} cannot be stored in JSON", "Store a finite number.")
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise ProjectError("<memory>", where, f"a {type(value).__name__} cannot be stored in a project",
                       "Store plain values: text, numbers, true/false, lists and dicts.")


def format_json(value: Any, depth: int, width: int = 100) -> str:
    if isinstance(value, (dict, list)) and value:
        one_line = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
        if _is_flat(value) and 2 * depth + len(one_line) <= width:
            return one_line
        pad, inner = "  " * depth, "  " * (depth + 1)
        if isinstance(value, dict):
            items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {format_json(v, depth + 1)}"
                     for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        return "[\n" + ",\n".join(inner + format_json(v, depth + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _is_flat(value: dict | list) -> bool:
    """Nothing nested deeper than a list of plain values."""
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(v, (dict, list)) or (isinstance(v, list) and not any(
        isinstance(x, (dict, list)) for x in v)) for v in items)


# ============================================================================ reading

def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a project file; every problem is a ``ProjectError``.  Never writes to ``path``."""
    file = Path(path)
    try:
        if file.is_dir():
            raise ProjectError(path, "", "this is a folder, not a project file",
                               "Choose a .cnnproj file inside it.")
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProjectError(path, "", f"the file is {size / 2**20:.0f} MiB, far too large for a project",
                               "Check that this is a .cnnproj file.")
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ProjectError(path, "", "the file does not exist", "Check the file name and folder.") from None
    except OSError as error:
        raise ProjectError(path, "", f"the file cannot be read: {error.strerror or error}",
                           "Check that the file exists and that you may read it.") from None
    return project_from_dict(_parse(raw, str(path)), source=str(path))


def _parse(raw: bytes, source: str) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _line_column(raw, error.start)
        raise ProjectError(source, f"line {line}, column {column}",
                           f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x})",
                           "Open a .cnnproj file, or re-save this one as UTF-8.") from None
    if not text.strip():
        raise ProjectError(source, "", "the file is empty",
                           "Restore the project from a backup; an empty file holds no network.")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
        where = _non_finite(data, "")
    except json.JSONDecodeError as error:
        truncated = not text[error.pos:].strip()
        problem = ("the file ends in the middle of the JSON (it looks truncated)" if truncated
                   else f"the file is not valid JSON ({error.msg})")
        raise ProjectError(source, f"line {error.lineno}, column {error.colno}", problem,
                           "Restore the project from a backup, or repair the JSON at that place.") from None
    except _BadJson as error:
        raise ProjectError(source, error.where, error.problem, error.fix) from None
    except RecursionError:
        raise ProjectError(source, "", "the JSON is nested too deeply to be a project",
                           "Check that this is a .cnnproj file.") from None
    if where is not None:  # Python reads NaN, Infinity and 1e999; JSON has no such numbers
        raise ProjectError(source, where or "top level", "the value is not a finite number (NaN or infinity)",
                           "Replace it with an ordinary number.")
    return data


class _BadJson(ValueError):
    def __init__(self, where: str, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.where, self.problem, self.fix = where, problem, fix


def _non_finite(value: Any, where: str) -> str | None:
    """The JSON path of the first NaN or infinity in ``value``, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else where
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _non_finite(item, f"{where}[{key}]" if isinstance(key, int) else _join(where, key))
        if found is not None:
            return found
    return None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _BadJson(f"key {key!r}", f"the key {key!r} appears twice in one object",
                           "Keep one of them; JSON readers would silently drop the other.")
        result[key] = value
    return result


def _line_column(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


@dataclass
class _CheckedNode:
    where: str
    id: str
    spec: LayerSpec
    name: str | None
    params: dict[str, Any]
    position: tuple[float, float]


def project_from_dict(data: Any, source: str = "<memory>") -> Project:
    """A ``Project`` from parsed JSON; ``source`` names the file in errors."""
    return _Reader(source).project(data)


class _Reader:
    """Checks one document top-down, so each error names the first bad place."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str, fix: str) -> ProjectError:
        return ProjectError(self.source, where, problem, fix)

    # ------------------------------------------------------------------ the document
    def project(self, data: Any) -> Project:
        if not isinstance(data, dict):
            raise self.fail("top level", f"expected a JSON object, found {_json_type(data)}",
                            "Check that this is a .cnnproj file; it must start with '{'.")
        if "format" not in data:
            raise self.fail("format", 'the "format" field is missing',
                            f'Check that this is a CNN Studio project; add "format": "{FORMAT_NAME}".')
        if data["format"] != FORMAT_NAME:
            found = json.dumps(data["format"])
            raise self.fail("format", f"this is not a CNN Studio project (format {found})",
                            f'Open a .cnnproj file; its "format" is "{FORMAT_NAME}".')
        data = self.migrate(data)
        self.known_keys(data, _TOP_KEYS, "", "top-level field")
        name = self.text(data, "name", "")
        description = self.text(data, "description", "")
        dataset = self.settings(data, "dataset", None)
        training = self.settings(data, "training", None)
        view = self.settings(data, "view", {}) or {}
        if "network" not in data:
            raise self.fail("network", 'the "network" field is missing',
                            'Add "network": {"nodes": [], "edges": []}.')
        network = self.network(data["network"])
        experiments = self.settings(data, "experiments", None)
        return Project(network, name, description, dataset, training, view, experiments)

    def migrate(self, data: dict) -> dict:
        version = data.get("version")
        if "version" not in data:
            raise self.fail("version", 'the "version" field is missing',
                            f'Add "version": {FORMAT_VERSION} if the file follows the current format.')
        if not isinstance(version, int) or isinstance(version, bool):
            raise self.fail("version", f"the version must be a whole number, not {json.dumps(version)}",
                            f'Set "version" to {FORMAT_VERSION} if the file follows the current format.')
        if version > FORMAT_VERSION:
            raise self.fail("version", f"was written by a newer CNN Studio (format version {version}; "
                                       f"this version reads up to {FORMAT_VERSION})",
                            "Update CNN Studio to open it.")
        while version < FORMAT_VERSION:
            step = MIGRATIONS.get(version)
            if step is None:
                raise self.fail("version", f"format version {version} is not one CNN Studio ever wrote "
                                           f"(versions start at 1)",
                                f'Set "version" to {FORMAT_VERSION} if the file follows the current format.')
            try:
                data = step(copy.deepcopy(data))
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
                raise self.fail("version", f"the file could not be upgraded from format version {version} "
                                           f"({type(error).__name__}: {error})",
                                "Repair the file by hand or restore it from a backup.") from None
            version += 1
            data["version"] = version
        return data

    def text(self, data: dict, key: str, default: str) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, found {_json_type(value)}",
                            f'Write "{key}" as a quoted string.')
        return value

    def settings(self, data: dict, key: str, default: dict | None) -> dict | None:
        value = data.get(key, default)
        if value is not None and not isinstance(value, dict):
            raise self.fail(key, f"expected an object or null, found {_json_type(value)}",
                            f'Write "{key}" as {{...}}, or remove it.')
        return value

    def known_keys(self, data: dict, known: tuple[str, ...], where: str, what: str) -> None:
        for key in data:
            if key not in known:
                raise self.fail(_join(where, key), f"unknown {what} {key!r}",
                                _did_you_mean(key, known, "Remove it") + f" Known: {', '.join(known)}.")

    # ------------------------------------------------------------------ the graph
    def network(self, data: Any) -> Network:
        where = "network"
        if not isinstance(data, dict):
            raise self.fail(where, f"expected an object, found {_json_type(data)}",
                            'Write it as {"nodes": [...], "edges": [...]}.')
        self.known_keys(data, ("nodes", "edges"), where, "network field")
        nodes, edges = data.get("nodes"), data.get("edges", [])
        for key, value in (("nodes", nodes), ("edges", edges)):
            if not isinstance(value, list):
                raise self.fail(_join(where, key), f"expected a list, found {_json_type(value)}",
                                f'Write "{key}" as a list: [...].')
        checked = [self.node(item, f"network.nodes[{i}]") for i, item in enumerate(nodes)]
        self.unique(checked, "id")
        self.unique([c for c in checked if c.name is not None], "name")
        network = Network()
        taken = {c.name for c in checked if c.name is not None}
        for c in checked:
            name = c.name or _free_name(c.spec.name_prefix, taken)  # named ones first: no clash later
            taken.add(name)
            try:
                network.add_node(c.spec.type_name, c.params, name=name, position=c.position, node_id=c.id)
            except NetworkError as error:  # a rule Network learned that this reader does not check yet
                raise self.fail(c.where, str(error), "Correct this node.") from None
        for index, item in enumerate(edges):
            self.edge(network, item, f"network.edges[{index}]")
        return network

    def node(self, item: Any, where: str) -> _CheckedNode:
        if not isinstance(item, dict):
            raise self.fail(where, f"expected a node object, found {_json_type(item)}",
                            'Write each node as {"id": ..., "type": ..., "params": {...}}.')
        self.known_keys(item, _NODE_KEYS, where, "node field")
        for key in ("id", "type"):
            if key not in item:
                raise self.fail(where, f'the node has no "{key}"',
                                'Add a unique "id" such as "n1".' if key == "id"
                                else 'Add a "type" with a layer type such as "Conv2D".')
            if not isinstance(item[key], str) or not item[key]:
                raise self.fail(_join(where, key), f"expected non-empty text, found {json.dumps(item[key])}",
                                f'Write "{key}" as a quoted, non-empty string.')
        type_name, name = item["type"], item.get("name")
        spec = CATALOG.get(type_name)
        if spec is None:
            fix = _did_you_mean(type_name, tuple(CATALOG), "Use a known layer type")
            if not fix.startswith("Did you mean"):
                fix += f" Known types: {', '.join(sorted(CATALOG))}."
            raise self.fail(_join(where, "type"), f"unknown layer type {type_name!r}", fix)
        if name is not None:
            problem = (name_problem(name) if isinstance(name, str)
                       else f"expected text, found {json.dumps(name)}")
            if problem:
                raise self.fail(_join(where, "name"), problem,
                                f'Rename the layer, or remove "name" to get one like {spec.name_prefix}_1.')
        params = self.params(spec, item.get("params", {}), _join(where, "params"), name or item["id"])
        position = self.position(item.get("position", [0.0, 0.0]), _join(where, "position"))
        return _CheckedNode(where, item["id"], spec, name, params, position)

    def params(self, spec: LayerSpec, given: Any, where: str, label: str) -> dict[str, Any]:
        if not isinstance(given, dict):
            raise self.fail(where, f"expected an object, found {_json_type(given)}",
                            'Write "params" as {"name": value, ...}, or remove it to use the defaults.')
        known = tuple(p.name for p in spec.params)
        layer = f"layer {label!r} ({spec.type_name})"
        for key, value in given.items():
            if key not in known:
                raise self.fail(_join(where, key), f"{layer} has no parameter {key!r}",
                                _did_you_mean(key, known, "Remove it")
                                + f" {spec.type_name} has: {', '.join(known) or 'no parameters'}.")
            param = spec.param(key)
            try:
                param.normalize(value)
            except ParamError as error:
                raise self.fail(_join(where, key), f"{layer}: {key} {error.message}",
                                _param_fix(param)) from None
        try:
            return spec.normalize_params(given)
        except ParamError as error:  # rules that involve several parameters
            fix = "Change the parameters so they agree, or remove them to use the defaults."
            raise self.fail(_join(where, error.param), f"{layer}: {error.message}", fix) from None

    def position(self, value: Any, where: str) -> tuple[float, float]:
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in value)):
            raise self.fail(where, f"expected two numbers [x, y], found {json.dumps(value)[:60]}",
                            "Write the position as [x, y], e.g. [120, 80], or remove it.")
        return float(value[0]), float(value[1])

    def unique(self, checked: list[_CheckedNode], key: str) -> None:
        first: dict[str, str] = {}
        for c in checked:
            value = getattr(c, key)
            if value in first:
                raise self.fail(_join(c.where, key), f"{key} {value!r} is already used by {first[value]}",
                                f"Give every node a different {key}.")
            first[value] = c.where

    def edge(self, network: Network, item: Any, where: str) -> None:
        if not isinstance(item, dict):
            raise self.fail(where, f"expected an edge object, found {_json_type(item)}",
                            'Write each edge as {"source": "<node id>", "target": "<node id>"}.')
        self.known_keys(item, _EDGE_KEYS, where, "edge field")
        for key in _EDGE_KEYS:
            value = item.get(key)
            if not isinstance(value, str):
                raise self.fail(_join(where, key), f"expected a node id, found {json.dumps(value)}",
                                f'Set "{key}" to the "id" of a node.')
            if not network.has_node(value):
                raise self.fail(_join(where, key), f"there is no node with id {value!r}",
                                _did_you_mean(value, tuple(n.id for n in network.nodes),
                                              "Remove this edge or correct the id"))
        try:
            network.connect(item["source"], item["target"])
        except NetworkError as error:
            fix = ("Remove one of the edges of the loop; a network flows one way." if "cycle" in str(error)
                   else "Remove this edge; a layer cannot feed itself." if "itself" in str(error)
                   else "Remove or correct this edge.")
            raise self.fail(where, str(error), fix) from None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    names = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _did_you_mean(word: str, options: tuple[str, ...], otherwise: str) -> str:
    """"Did you mean 'Conv2D'? Otherwise ..." from close matches (case-insensitive)."""
    lowered = {option.lower(): option for option in options}
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=3, cutoff=0.6)
    if not matches:
        return f"{otherwise}."
    guess = " or ".join(repr(lowered[m]) for m in matches)
    return f"Did you mean {guess}? Otherwise {otherwise[0].lower()}{otherwise[1:]}."


def _param_fix(param: ParamSpec) -> str:
    low = None if param.minimum is None else _number(param.minimum)
    high = None if param.maximum is None else _number(param.maximum)
    span = f" from {low} to {high}" if low is not None and high is not None else ""
    wanted = {
        "int": f"a whole number{span}",
        "float": f"a number{span}",
        "bool": "true or false",
        "choice": "one of " + ", ".join(f'"{c}"' for c in param.choices),
        "pair": f"a whole number{span} or a pair [height, width] of them",
        "shape": f"a list of 1 to 3 whole numbers{span}",
    }[param.kind]
    if param.optional:
        wanted += " (or null)"
    return f"Set {param.name} to {wanted}, or remove it to use the default {json.dumps(param.default)}."


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _free_name(prefix: str, taken: set[str]) -> str:
    number = 1
    while f"{prefix}_{number}" in taken:
        number += 1
    return f"{prefix}_{number}"
