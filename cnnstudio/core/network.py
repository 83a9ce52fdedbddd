"""The network document: a directed acyclic graph of layer nodes.

It holds what the user drew (layer types, parameters, names, canvas
positions, wires) and nothing computed: shapes and counts come from
``core.analysis``.  Every edit goes through a method here, is validated
against the layer catalog, and announces itself on ``changed`` so the editor
and its undo stack can follow.
"""

from __future__ import annotations

import copy
import heapq
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .events import Event
from .groups import GroupError, Groups
from .layers import ParamError, name_problem, spec_for


class NetworkError(ValueError):
    """An edit that would make the document invalid (cycle, unknown node, bad name...)."""


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any]
    name: str
    position: tuple[float, float] = (0.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        """The nodes and wires: everything that is computed (group blocks travel as ``groups.to_list()``)."""
        return {"id": self.id, "type": self.type, "name": self.name,
                "params": copy.deepcopy(self.params), "position": [self.position[0], self.position[1]]}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target}


@dataclass(frozen=True)
class Change:
    """What an edit did, for observers: ``kind`` and the node ids involved."""

    kind: str  # node_added, node_removed, edge_added, edge_removed, params_changed, renamed, moved, reset,
    #            groups_changed
    node_ids: tuple[str, ...] = ()


@dataclass
class RemovedNodes:
    """Everything ``remove_nodes`` took out, so ``restore`` can put it back exactly."""

    nodes: list[tuple[int, Node]] = field(default_factory=list)
    edges: list[tuple[int, Edge]] = field(default_factory=list)
    groups: Groups | None = None  # the groups before the removal, which may have emptied some


class Network:
    """The editable graph. Nodes keep insertion order; edges keep list order,
    which is the order of a node's inputs (it matters for Concatenate)."""

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._edges: list[Edge] = []
        self._next_id = 1
        self.changed = Event()
        #: group blocks: a view over the nodes (``core.groups``), never part of what is computed
        self.groups = Groups()

    # ------------------------------------------------------------------ reading
    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise NetworkError(f"there is no node with id {node_id!r}") from None

    def has_node(self, node_id: str) -> bool:
        return node_id in self._nodes

    def node_by_name(self, name: str) -> Node | None:
        return next((n for n in self._nodes.values() if n.name == name), None)

    def inputs_of(self, node_id: str) -> list[str]:
        return [e.source for e in self._edges if e.target == node_id]

    def outputs_of(self, node_id: str) -> list[str]:
        return [e.target for e in self._edges if e.source == node_id]

    def __len__(self) -> int:
        return len(self._nodes)

    def adjacency(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """``(inputs, outputs)`` of every node, built in one pass over the wires."""
        inputs: dict[str, list[str]] = {node_id: [] for node_id in self._nodes}
        outputs: dict[str, list[str]] = {node_id: [] for node_id in self._nodes}
        for edge in self._edges:
            inputs[edge.target].append(edge.source)
            outputs[edge.source].append(edge.target)
        return inputs, outputs

    def topological_order(self) -> list[str]:
        """Node ids so that every node comes after its inputs; ties keep insertion order."""
        inputs, outputs = self.adjacency()
        position = {node_id: i for i, node_id in enumerate(self._nodes)}
        indegree = {node_id: len(sources) for node_id, sources in inputs.items()}
        ready = [position[n] for n, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        ids = list(self._nodes)
        order: list[str] = []
        while ready:
            current = ids[heapq.heappop(ready)]
            order.append(current)
            for target in outputs[current]:
                indegree[target] -= 1
                if indegree[target] == 0:
                    heapq.heappush(ready, position[target])
        return order

    # ------------------------------------------------------------------ editing
    def add_node(self, type_name: str, params: Mapping[str, Any] | None = None, *, name: str | None = None,
                 position: tuple[float, float] = (0.0, 0.0), node_id: str | None = None) -> Node:
        """Add a layer; parameters are completed with defaults and checked."""
        spec = self._spec(type_name)
        values = self._checked_params(spec, params)
        if node_id is None:
            node_id = self._new_id()
        elif node_id in self._nodes:
            raise NetworkError(f"a node with id {node_id!r} already exists")
        name = name if name is not None else self.unique_name(spec.name_prefix)
        self.check_name(name, node_id)
        node = Node(node_id, type_name, values, name, (float(position[0]), float(position[1])))
        self._nodes[node_id] = node
        self._bump_id(node_id)
        self.changed.emit(Change("node_added", (node_id,)))
        return node

    def remove_nodes(self, node_ids: Iterable[str]) -> RemovedNodes:
        """Remove nodes and every wire touching them; returns what ``restore`` needs."""
        doomed = set(node_ids)
        for node_id in doomed:
            self.node(node_id)
        removed = RemovedNodes()
        for index, node in enumerate(self._nodes.values()):
            if node.id in doomed:
                removed.nodes.append((index, node))
        for index, edge in enumerate(self._edges):
            if edge.source in doomed or edge.target in doomed:
                removed.edges.append((index, edge))
        self._edges = [e for e in self._edges if e.source not in doomed and e.target not in doomed]
        for node_id in doomed:
            del self._nodes[node_id]
        removed.groups, self.groups = self.groups, self.groups.without_nodes(doomed)
        self.changed.emit(Change("node_removed", tuple(sorted(doomed))))
        return removed

    def restore(self, removed: RemovedNodes) -> None:
        """Put back what ``remove_nodes`` returned, at the same places."""
        items = list(self._nodes.items())
        for index, node in removed.nodes:
            if node.id in self._nodes:
                raise NetworkError(f"cannot restore {node.name!r}: its id {node.id!r} is taken")
            items.insert(index, (node.id, node))
        self._nodes = dict(items)
        for index, edge in removed.edges:
            self._edges.insert(index, edge)
        if removed.groups is not None:
            self.groups = removed.groups
        self.changed.emit(Change("node_added", tuple(node.id for _, node in removed.nodes)))

    def connect(self, source: str, target: str, index: int | None = None) -> Edge:
        """Wire ``source``'s output into ``target``; refuses cycles and duplicates."""
        self.check_connection(source, target)
        edge = Edge(source, target)
        if index is None:
            self._edges.append(edge)
        else:
            self._edges.insert(index, edge)
        self.changed.emit(Change("edge_added", (source, target)))
        return edge

    def check_connection(self, source: str, target: str) -> None:
        """Raise ``NetworkError`` saying why ``source -> target`` cannot be wired."""
        src, dst = self.node(source), self.node(target)
        if source == target:
            raise NetworkError(f"{src.name} cannot be connected to itself")
        if Edge(source, target) in self._edges:
            raise NetworkError(f"{src.name} is already connected to {dst.name}")
        if spec_for(dst.type).max_inputs == 0:
            raise NetworkError(f"{dst.name} is an {dst.type} layer and takes no inputs")
        if self._reaches(target, source):
            raise NetworkError(f"connecting {src.name} to {dst.name} would make a cycle "
                               f"({dst.name} already feeds {src.name})")

    def disconnect(self, source: str, target: str) -> int:
        """Remove a wire; returns its list index so undo can reinsert it there."""
        edge = Edge(source, target)
        try:
            index = self._edges.index(edge)
        except ValueError:
            raise NetworkError(f"{self.node(source).name} is not connected to {self.node(target).name}") from None
        del self._edges[index]
        self.changed.emit(Change("edge_removed", (source, target)))
        return index

    def set_params(self, node_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Update some parameters; returns the previous full parameter dict."""
        node = self.node(node_id)
        merged = {**node.params, **params}
        values = self._checked_params(spec_for(node.type), merged, node.name)
        previous = node.params
        node.params = values
        self.changed.emit(Change("params_changed", (node_id,)))
        return previous

    def rename(self, node_id: str, name: str) -> str:
        node = self.node(node_id)
        if name != node.name:
            self.check_name(name, node_id)
        previous, node.name = node.name, name
        self.changed.emit(Change("renamed", (node_id,)))
        return previous

    def move(self, positions: Mapping[str, tuple[float, float]]) -> None:
        for node_id, (x, y) in positions.items():
            self.node(node_id).position = (float(x), float(y))
        self.changed.emit(Change("moved", tuple(positions)))

    def set_groups(self, groups: Groups) -> Groups:
        """Replace the group blocks (checked against the nodes); returns the previous ones."""
        try:
            checked = Groups.from_list(groups.to_list(), self._nodes)
        except GroupError as error:
            raise NetworkError(str(error)) from None
        previous, self.groups = self.groups, checked
        self.changed.emit(Change("groups_changed"))
        return previous

    def clear(self) -> None:
        self._nodes.clear()
        self._edges.clear()
        self.groups = Groups()
        self._next_id = 1
        self.changed.emit(Change("reset"))

    # ------------------------------------------------------------------ names and ids
    def unique_name(self, prefix: str) -> str:
        """``conv2d_1``, ``conv2d_2``...: the lowest free number, Keras style."""
        taken = {n.name for n in self._nodes.values()}
        number = 1
        while f"{prefix}_{number}" in taken:
            number += 1
        return f"{prefix}_{number}"

    def next_free_id(self) -> str:
        """The id the next ``add_node`` would choose; commands use it to replay an edit exactly."""
        return self._new_id()

    def _new_id(self) -> str:
        while f"n{self._next_id}" in self._nodes:
            self._next_id += 1
        return f"n{self._next_id}"

    def _bump_id(self, node_id: str) -> None:
        if node_id.startswith("n") and node_id[1:].isdigit():
            self._next_id = max(self._next_id, int(node_id[1:]) + 1)

    def check_name(self, name: str, node_id: str | None = None) -> None:
        """Raise ``NetworkError`` if ``name`` cannot name ``node_id`` (or a new node)."""
        problem = name_problem(name)
        if problem:
            raise NetworkError(problem)
        owner = self.node_by_name(name)
        if owner is not None and owner.id != node_id:
            raise NetworkError(f"another layer is already named {name!r}; layer names must be unique")

    @staticmethod
    def _spec(type_name: str):
        try:
            return spec_for(type_name)
        except KeyError as error:
            raise NetworkError(error.args[0]) from None

    @staticmethod
    def _checked_params(spec, params: Mapping[str, Any] | None, name: str = "") -> dict[str, Any]:
        try:
            return spec.normalize_params(params)
        except ParamError as error:
            where = f"{name}: " if name else f"{spec.type_name}: "
            raise NetworkError(where + str(error)) from error

    def _reaches(self, start: str, goal: str) -> bool:
        _, outputs = self.adjacency()
        stack, seen = [start], set()
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(outputs[current])
        return False

    # ------------------------------------------------------------------ copying and files
    def to_dict(self) -> dict[str, Any]:
        """The nodes and wires: everything that is computed (group blocks travel as ``groups.to_list()``)."""
        return {"nodes": [n.to_dict() for n in self._nodes.values()],
                "edges": [e.to_dict() for e in self._edges]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Network":
        """Rebuild a network; raises ``NetworkError`` naming the first bad entry."""
        network = cls()
        for index, item in enumerate(data.get("nodes", [])):
            try:
                position = tuple(item.get("position", (0.0, 0.0)))
                network.add_node(item["type"], item.get("params", {}), name=item.get("name"),
                                 position=(position[0], position[1]), node_id=item["id"])
            except NetworkError as error:
                raise NetworkError(f"nodes[{index}]: {error}") from None
        for index, item in enumerate(data.get("edges", [])):
            try:
                network.connect(item["source"], item["target"])
            except NetworkError as error:
                raise NetworkError(f"edges[{index}]: {error}") from None
        return network

    def copy(self) -> "Network":
        """An independent copy, group blocks included."""
        network = Network.from_dict(self.to_dict())
        network.groups = self.groups
        return network

    def same_as(self, other: "Network") -> bool:
        """Equal documents: same nodes (ids, types, params, names, positions), wires in order and groups."""
        return self.to_dict() == other.to_dict() and self.groups == other.groups


#: vertical distance between blocks that ``sequential`` stacks
CHAIN_SPACING = 110.0


def sequential(layers: Iterable[tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], str]]) -> Network:
    """A chain of layers, like ``keras.Sequential``: ``[("Input", {"shape": [1, 28, 28]}),
    ("Conv2D", {"filters": 32}), ...]``; an optional third item names the layer."""
    network = Network()
    previous: Node | None = None
    for index, layer in enumerate(layers):
        type_name, params = layer[0], layer[1]
        name = layer[2] if len(layer) > 2 else None
        node = network.add_node(type_name, params, name=name, position=(0.0, index * CHAIN_SPACING))
        if previous is not None:
            network.connect(previous.id, node.id)
        previous = node
    return network
