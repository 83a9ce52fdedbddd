"""Copy and paste of part of a network, as plain data.

A fragment is what the clipboard carries: the chosen nodes and the wires
between them.  Pasting gives the nodes fresh ids and, where a name is taken,
a fresh Keras-style name, so a pasted copy never clashes with the original.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

from .layer_names import LayerNames
from .layers import spec_for
from .network import Network


def copy_fragment(network: Network, node_ids: Iterable[str]) -> dict[str, Any]:
    chosen = [n for n in network.nodes if n.id in set(node_ids)]
    ids = {n.id for n in chosen}
    return {
        "format": "cnnstudio-fragment",
        "nodes": [n.to_dict() for n in chosen],
        "edges": [e.to_dict() for e in network.edges if e.source in ids and e.target in ids],
    }


@dataclass(frozen=True)
class PlannedNode:
    node_id: str
    type: str
    params: dict[str, Any]
    name: str
    position: tuple[float, float]


def plan_paste(network: Network, fragment: dict[str, Any], offset: tuple[float, float] = (40.0, 40.0)
               ) -> tuple[list[PlannedNode], list[tuple[str, str]]]:
    """The nodes and wires to add for ``fragment``, with ids and names free in ``network``."""
    next_number = int(network.next_free_id()[1:])
    names = LayerNames()
    for node in network.nodes:
        names.add(node.name)
    new_ids: dict[str, str] = {}
    planned: list[PlannedNode] = []
    for item in fragment.get("nodes", []):
        spec = spec_for(item["type"])
        node_id = f"n{next_number}"
        next_number += 1
        new_ids[item["id"]] = node_id
        name = item.get("name") or ""
        if not name or name in names:
            name = names.fresh(spec.name_prefix)
        names.add(name)
        x, y = item.get("position", (0.0, 0.0))
        planned.append(PlannedNode(node_id, item["type"], dict(item.get("params", {})), name,
                                   (x + offset[0], y + offset[1])))
    wires = [(new_ids[e["source"]], new_ids[e["target"]]) for e in fragment.get("edges", [])
             if e["source"] in new_ids and e["target"] in new_ids]
    return planned, wires


def fragment_to_text(fragment: dict[str, Any]) -> str:
    return json.dumps(fragment)


def fragment_from_text(text: str) -> dict[str, Any] | None:
    """The fragment in ``text``, or None when it is not one (any other clipboard content)."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("format") != "cnnstudio-fragment":
        return None
    try:
        for item in data["nodes"]:
            spec_for(item["type"])
    except (KeyError, TypeError):
        return None
    return data
