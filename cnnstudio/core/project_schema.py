"""The JSON Schema of ``.cnnproj`` files, generated from the layer catalog so it
never drifts from what ``core.project`` accepts (a test compares the shipped
file with ``json_schema()``)."""

from __future__ import annotations

import keyword
import os
from typing import Any

from .atomic_file import write_atomic
from .groups import DEFAULT_KIND, NAME_MAX
from .layers import CATALOG
from .layers.base import RESERVED_NAMES
from .project import FORMAT_NAME, FORMAT_VERSION, POSITION_LIMIT, format_json


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of format version ``FORMAT_VERSION``, from the catalog."""
    types = sorted(CATALOG)
    reserved = sorted(set(keyword.kwlist) | RESERVED_NAMES)
    node_rules = [{"if": {"properties": {"type": {"const": t}}, "required": ["type"]},
                   "then": {"properties": {"params": {"$ref": f"#/$defs/params_{t}"}}}} for t in types]
    params_defs = {f"params_{t}": {
        "type": "object", "additionalProperties": False, "description": f"Parameters of {t}; omitted ones "
        "take their defaults.",
        "properties": {p.name: {**p.json_schema(), "default": p.default} for p in CATALOG[t].params}}
        for t in types}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "CNN Studio project",
        "description": f"A .cnnproj file, format version {FORMAT_VERSION}. Generated from the layer catalog "
                       "by cnnstudio.core.project.json_schema(); do not edit by hand.",
        "type": "object",
        "required": ["format", "version", "network"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT_NAME},
            "version": {"const": FORMAT_VERSION},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "network": {"$ref": "#/$defs/network"},
            "dataset": {"type": ["object", "null"],
                        "description": "Dataset settings (owned by cnnstudio.data)."},
            "training": {"type": ["object", "null"],
                         "description": "Training settings (owned by cnnstudio.training)."},
            "view": {"type": "object", "description": "Display settings such as shape order and zoom."},
            "experiments": {"type": ["object", "null"],
                            "description": "A sweep's search space, objective and budget (owned by "
                                           "cnnstudio.training.sweeps)."},
        },
        "$defs": {
            "network": {
                "type": "object", "required": ["nodes"], "additionalProperties": False,
                "properties": {"nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                               "edges": {"type": "array", "items": {"$ref": "#/$defs/edge"}},
                               "groups": {"type": "array", "items": {"$ref": "#/$defs/group"},
                                          "description": "Group blocks: a view over the nodes that never "
                                                         "changes what is computed (added in version 2)."}},
            },
            "node": {
                "type": "object", "required": ["id", "type"], "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "type": {"enum": types},
                    "name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$",
                             "not": {"enum": reserved}},
                    "params": {"type": "object"},
                    "position": {"type": "array", "minItems": 2, "maxItems": 2,
                                 "items": {"type": "number", "minimum": -POSITION_LIMIT, "maximum": POSITION_LIMIT}},
                },
                "allOf": node_rules,
            },
            "group": {
                "type": "object", "required": ["id", "name"], "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX, "pattern": "^[^/]*$",
                             "description": "Shown on the block and in node paths such as layer2/block1/conv1."},
                    "kind": {"type": "string", "maxLength": NAME_MAX, "default": DEFAULT_KIND,
                             "description": "What the block is, e.g. 'Residual block'."},
                    "parent": {"type": ["string", "null"], "default": None,
                               "description": "The id of the group around this one; null at the top level."},
                    "nodes": {"type": "array", "items": {"type": "string"}, "default": [],
                              "description": "Ids of the nodes directly inside; each node sits in one group "
                                             "at most."},
                    "collapsed": {"type": "boolean", "default": False,
                                  "description": "Shown as one block (true) or as a frame around its content."},
                },
            },
            "edge": {
                "type": "object", "required": ["source", "target"], "additionalProperties": False,
                "properties": {"source": {"type": "string"}, "target": {"type": "string"}},
            },
            **params_defs,
        },
    }


def write_schema(path: str | os.PathLike[str]) -> None:
    """Write ``json_schema()`` to ``path`` (``resources/schema/cnnproj-<version>.schema.json``)."""
    write_atomic(path, format_json(json_schema(), 0) + "\n")
