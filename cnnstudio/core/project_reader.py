"""From a parsed ``.cnnproj`` document to a ``Project``, checking everything a
hand-edited or damaged file can get wrong.

The reader walks the document top-down and stops at the first bad place with a
``ProjectError`` naming it and the fix; rules about the graph as a whole
(unique ids and names, wires, cycles) come from ``Network``'s typed refusals,
so the reader and the editor can never disagree about them.
"""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass
from typing import Any

from .groups import GroupError, Groups
from .layers import CATALOG, ParamError, ParamSpec, name_problem
from .layers.base import LayerSpec, format_number
from .layers.params import shown
from .network import Network
from .network_errors import DuplicateIdError, NameTakenError, NetworkError
from .project_format import (FORMAT_NAME, FORMAT_VERSION, MIGRATIONS, POSITION_LIMIT, Project, ProjectError)
from .project_json import json_path

TOP_KEYS = ("format", "version", "name", "description", "network", "dataset", "training", "view", "experiments")
NODE_KEYS = ("id", "type", "name", "params", "position")
EDGE_KEYS = ("source", "target")


def project_from_dict(data: Any, source: str = "<memory>") -> Project:
    """A ``Project`` from parsed JSON; ``source`` names the file in errors."""
    return _Reader(source).project(data)


@dataclass
class _CheckedNode:
    where: str
    id: str
    spec: LayerSpec
    name: str | None
    params: dict[str, Any]
    position: tuple[float, float]


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
            raise self.fail("format", f"this is not a CNN Studio project (format {_json_text(data['format'])})",
                            f'Open a .cnnproj file; its "format" is "{FORMAT_NAME}".')
        data = self.migrate(data)
        self.known_keys(data, TOP_KEYS, "", "top-level field")
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
            raise self.fail("version", f"the version must be a whole number, not {_json_text(version)}",
                            f'Set "version" to {FORMAT_VERSION} if the file follows the current format.')
        if version > FORMAT_VERSION:
            raise self.fail("version", f"was written by a newer CNN Studio (format version {shown(version)}; "
                                       f"this version reads up to {FORMAT_VERSION})",
                            "Update CNN Studio to open it.")
        while version < FORMAT_VERSION:
            step = MIGRATIONS.get(version)
            if step is None:
                raise self.fail("version", f"format version {shown(version)} is not one CNN Studio ever wrote "
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
                raise self.fail(json_path([where, key] if where else [key]), f"unknown {what} {shown(key)}",
                                _did_you_mean(key, known, "Remove it") + f" Known: {', '.join(known)}.")

    # ------------------------------------------------------------------ the graph
    def network(self, data: Any) -> Network:
        where = "network"
        if not isinstance(data, dict):
            raise self.fail(where, f"expected an object, found {_json_type(data)}",
                            'Write it as {"nodes": [...], "edges": [...]}.')
        self.known_keys(data, ("nodes", "edges", "groups"), where, "network field")
        nodes, edges = data.get("nodes"), data.get("edges", [])
        for key, value in (("nodes", nodes), ("edges", edges)):
            if not isinstance(value, list):
                raise self.fail(f"{where}.{key}", f"expected a list, found {_json_type(value)}",
                                f'Write "{key}" as a list: [...].')
        checked = [self.node(item, f"network.nodes[{i}]") for i, item in enumerate(nodes)]
        network = Network()
        try:
            network.add_nodes({"id": c.id, "type": c.spec.type_name, "name": c.name, "params": c.params,
                               "position": c.position} for c in checked)
        except NetworkError as error:
            raise self.node_refusal(error, checked) from None
        pairs = [self.edge(network, item, f"network.edges[{i}]") for i, item in enumerate(edges)]
        try:
            network.connect_all(pairs)
        except NetworkError as error:
            raise self.fail(f"network.edges[{error.index}]", str(error), error.fix) from None
        try:
            network.groups = Groups.from_list(data.get("groups", []), (n.id for n in network.nodes), "network.groups")
        except GroupError as error:
            raise self.fail(error.where, error.problem, error.fix) from None
        return network

    def node_refusal(self, error: NetworkError, checked: list[_CheckedNode]) -> ProjectError:
        where = checked[error.index].where
        if isinstance(error, DuplicateIdError):
            return self.fail(f"{where}.id", f"id {shown(error.node_id)} is already used by "
                                            f"{checked[error.first_index].where}", error.fix)
        if isinstance(error, NameTakenError):
            return self.fail(f"{where}.name", f"name {shown(error.name)} is already used by "
                                              f"{checked[error.first_index].where}", error.fix)
        return self.fail(where, str(error), error.fix)  # a rule Network has that this reader does not check

    def node(self, item: Any, where: str) -> _CheckedNode:
        if not isinstance(item, dict):
            raise self.fail(where, f"expected a node object, found {_json_type(item)}",
                            'Write each node as {"id": ..., "type": ..., "params": {...}}.')
        self.known_keys(item, NODE_KEYS, where, "node field")
        for key in ("id", "type"):
            if key not in item:
                raise self.fail(where, f'the node has no "{key}"',
                                'Add a unique "id" such as "n1".' if key == "id"
                                else 'Add a "type" with a layer type such as "Conv2D".')
            if not isinstance(item[key], str) or not item[key]:
                raise self.fail(f"{where}.{key}", f"expected non-empty text, found {_json_text(item[key])}",
                                f'Write "{key}" as a quoted, non-empty string.')
        type_name, name = item["type"], item.get("name")
        spec = CATALOG.get(type_name)
        if spec is None:
            fix = _did_you_mean(type_name, tuple(CATALOG), "Use a known layer type")
            if not fix.startswith("Did you mean"):
                fix += f" Known types: {', '.join(sorted(CATALOG))}."
            raise self.fail(f"{where}.type", f"unknown layer type {shown(type_name)}", fix)
        if name is not None:
            problem = (name_problem(name) if isinstance(name, str)
                       else f"expected text, found {_json_text(name)}")
            if problem:
                raise self.fail(f"{where}.name", problem,
                                f'Rename the layer, or remove "name" to get one like {spec.name_prefix}_1.')
        params = self.params(spec, item.get("params", {}), f"{where}.params", name or item["id"])
        position = self.position(item.get("position", [0.0, 0.0]), f"{where}.position")
        return _CheckedNode(where, item["id"], spec, name, params, position)

    def params(self, spec: LayerSpec, given: Any, where: str, label: str) -> dict[str, Any]:
        if not isinstance(given, dict):
            raise self.fail(where, f"expected an object, found {_json_type(given)}",
                            'Write "params" as {"name": value, ...}, or remove it to use the defaults.')
        known = tuple(p.name for p in spec.params)
        layer = f"layer {shown(label)} ({spec.type_name})"
        for key in given:
            if key not in known:
                raise self.fail(f"{where}.{key}", f"{layer} has no parameter {shown(key)}",
                                _did_you_mean(key, known, "Remove it")
                                + f" {spec.type_name} has: {', '.join(known) or 'no parameters'}.")
        try:
            return spec.normalize_params(given)
        except ParamError as error:
            param = spec.param(error.param)
            try:
                param.normalize(given.get(error.param, param.default))
            except ParamError:  # the value alone is wrong
                raise self.fail(f"{where}.{error.param}", f"{layer}: {error.param} {error.message}",
                                _param_fix(param)) from None
            fix = "Change the parameters so they agree, or remove them to use the defaults."
            raise self.fail(f"{where}.{error.param}", f"{layer}: {error.message}", fix) from None

    def position(self, value: Any, where: str) -> tuple[float, float]:
        fix = (f"Write the position as [x, y] with numbers between -{format_number(POSITION_LIMIT)} and "
               f"{format_number(POSITION_LIMIT)}, e.g. [120, 80], or remove it.")
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise self.fail(where, f"expected two numbers [x, y], found {_json_text(value)}", fix)
        for index, number in enumerate(value):
            if not abs(number) <= POSITION_LIMIT:  # also refuses NaN; exact for integers of any size
                raise self.fail(f"{where}[{index}]", f"{shown(number)} is not a place on the canvas", fix)
        return float(value[0]), float(value[1])

    def edge(self, network: Network, item: Any, where: str) -> tuple[str, str]:
        if not isinstance(item, dict):
            raise self.fail(where, f"expected an edge object, found {_json_type(item)}",
                            'Write each edge as {"source": "<node id>", "target": "<node id>"}.')
        self.known_keys(item, EDGE_KEYS, where, "edge field")
        for key in EDGE_KEYS:
            value = item.get(key)
            if not isinstance(value, str):
                raise self.fail(f"{where}.{key}", f"expected a node id, found {_json_text(value)}",
                                f'Set "{key}" to the "id" of a node.')
            if not network.has_node(value):
                raise self.fail(f"{where}.{key}", f"there is no node with id {shown(value)}",
                                _did_you_mean(value, tuple(n.id for n in network.nodes),
                                              "Remove this edge or correct the id"))
        return item["source"], item["target"]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    names = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _json_text(value: Any) -> str:
    """A value as the file writes it, shortened for a message."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:55] + "[...]"


def _did_you_mean(word: str, options: tuple[str, ...], otherwise: str) -> str:
    """"Did you mean 'Conv2D'? Otherwise ..." from close matches (case-insensitive)."""
    lowered = {option.lower(): option for option in options}
    matches = difflib.get_close_matches(word.lower()[:100], list(lowered), n=3, cutoff=0.6)
    if not matches:
        return f"{otherwise}."
    guess = " or ".join(repr(lowered[m]) for m in matches)
    return f"Did you mean {guess}? Otherwise {otherwise[0].lower()}{otherwise[1:]}."


def _param_fix(param: ParamSpec) -> str:
    return f"Set {param.name} to {param.expected()}, or remove it to use the default {json.dumps(param.default)}."
