"""Copy and paste of part of a network, as plain data.

A fragment is what the clipboard carries: the chosen nodes, the wires between
them, and the group blocks that lie wholly inside the choice.  Pasting gives the
nodes and groups fresh ids and, where a name is taken, a fresh name, so a pasted
copy never clashes with the original: a duplicated ``block2`` becomes the next
free ``block<n>`` and its layers ``layer1_block2_conv1`` become
``layer1_block<n>_conv1``; other clashing layers get Keras-style names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from .groups import Group, GroupError, Groups
from .layer_names import LayerNames
from .layers import name_problem, spec_for
from .network import Network


def _groups_inside(network: Network, ids: set[str]) -> list:
    groups = network.groups
    return [g for g in groups if set(groups.descendant_nodes(g.id)) <= ids]


def selection_parent(network: Network, node_ids: Iterable[str]) -> str | None:
    """The group that holds the chosen nodes and the groups wholly inside the choice, when
    they all sit in one group; None when they sit at the top level or in several groups."""
    ids = set(node_ids)
    groups = network.groups
    inside_ids = {g.id for g in _groups_inside(network, ids)}
    tops = {groups.owner(n) for n in ids if groups.owner(n) not in inside_ids}
    tops |= {groups.get(g).parent for g in inside_ids if groups.get(g).parent not in inside_ids}
    return tops.pop() if len(tops) == 1 else None


def copy_fragment(network: Network, node_ids: Iterable[str]) -> dict[str, Any]:
    wanted = set(node_ids)
    chosen = [n for n in network.nodes if n.id in wanted]
    ids = {n.id for n in chosen}
    groups = network.groups
    inside = _groups_inside(network, ids)
    inside_ids = {g.id for g in inside}
    outer = [groups.get(g).name for g in reversed(groups.ancestors(selection_parent(network, ids)))]
    return {
        "format": "cnnstudio-fragment",
        "nodes": [n.to_dict() for n in chosen],
        "edges": [e.to_dict() for e in network.edges if e.source in ids and e.target in ids],
        "groups": [{**g.to_dict(), "parent": g.parent if g.parent in inside_ids else None} for g in inside],
        "outer": outer,  # the names of the groups around the choice, which its layer names may start with
    }


@dataclass(frozen=True)
class PlannedNode:
    node_id: str
    type: str
    params: dict[str, Any]
    name: str
    position: tuple[float, float]


@dataclass(frozen=True)
class PastePlan:
    nodes: list[PlannedNode]
    wires: list[tuple[str, str]]
    #: the network's groups once the paste is done; None when the paste touches no group
    groups: Groups | None


def plan_paste(network: Network, fragment: dict[str, Any], offset: tuple[float, float] = (40.0, 40.0),
               into: str | None = None) -> PastePlan:
    """The nodes, wires and groups to add for ``fragment``, with ids and names free in ``network``;
    the pasted blocks go into group ``into`` (None: the top level)."""
    existing = network.groups
    into_chain = [existing.get(g).name for g in reversed(existing.ancestors(into))]
    group_items = fragment.get("groups", [])
    new_group_ids: dict[str, str] = {}
    new_group_names: dict[str, str] = {}
    number = len(existing) + 1
    sibling_names: dict[str | None, set[str]] = {}
    for item in group_items:
        while f"g{number}" in existing:
            number += 1
        new_group_ids[item["id"]] = f"g{number}"
        number += 1
        parent = new_group_ids.get(item["parent"]) if item["parent"] is not None else into
        siblings = sibling_names.setdefault(parent, {existing.get(g).name for g in existing.children(parent)}
                                            if parent in existing or parent is None else set())
        new_group_names[item["id"]] = _next_free(item["name"], siblings)
        siblings.add(new_group_names[item["id"]])

    def chains(fragment_group: str | None) -> tuple[list[str], list[str]]:
        """Group names around a node before and after the paste, outermost first."""
        old, new = [], []
        by_id = {g["id"]: g for g in group_items}
        while fragment_group is not None:
            old.insert(0, by_id[fragment_group]["name"])
            new.insert(0, new_group_names[fragment_group])
            fragment_group = by_id[fragment_group]["parent"]
        return list(fragment.get("outer", [])) + old, into_chain + new

    owner = {node_id: g["id"] for g in group_items for node_id in g["nodes"]}
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
        old_chain, new_chain = chains(owner.get(item["id"]))
        old_prefix, new_prefix = "_".join(old_chain) + "_", "_".join(new_chain) + "_"
        if old_chain and new_chain and name.startswith(old_prefix):
            renamed = new_prefix + name[len(old_prefix):]
            if renamed not in names and name_problem(renamed) is None:
                name = renamed
        if not name or name in names:
            name = names.fresh(spec.name_prefix)
        names.add(name)
        x, y = item.get("position", (0.0, 0.0))
        planned.append(PlannedNode(node_id, item["type"], dict(item.get("params", {})), name,
                                   (x + offset[0], y + offset[1])))
    wires = [(new_ids[e["source"]], new_ids[e["target"]]) for e in fragment.get("edges", [])
             if e["source"] in new_ids and e["target"] in new_ids]
    if not group_items and into is None:
        return PastePlan(planned, wires, None)
    top_nodes = tuple(new_ids[n["id"]] for n in fragment.get("nodes", []) if n["id"] not in owner)
    items = [Group(g.id, g.name, g.node_ids + top_nodes, g.parent, g.kind, g.collapsed) if g.id == into else g
             for g in existing]
    items += [Group(new_group_ids[g["id"]], new_group_names[g["id"]], tuple(new_ids[n] for n in g["nodes"]),
                    new_group_ids[g["parent"]] if g["parent"] is not None else into, g.get("kind", "Group"),
                    bool(g.get("collapsed", False)))
              for g in group_items]
    return PastePlan(planned, wires, Groups(tuple(items)))


def _next_free(name: str, taken: set[str]) -> str:
    """``block2`` -> ``block3`` (the next number not taken); ``stem`` -> ``stem_2``."""
    if name not in taken:
        return name
    match = re.fullmatch(r"(.*?)(\d+)", name)
    base, number = (match.group(1), int(match.group(2)) + 1) if match else (f"{name}_", 2)
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


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
        Groups.from_list(data.get("groups", []), [item["id"] for item in data["nodes"]])
        if not all(isinstance(name, str) for name in data.get("outer", [])):
            return None
    except (KeyError, TypeError, GroupError):
        return None
    return data
