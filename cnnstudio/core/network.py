"""The network document: a directed acyclic graph of layer nodes.

It holds what the user drew (layer types, parameters, names, canvas
positions, wires) and nothing computed: shapes and counts come from
``core.analysis``.  Every edit goes through a method here, is validated
against the layer catalog, and announces itself on ``changed`` so the editor
and its undo stack can follow.  Refusals are typed (``network_errors``).

Edits stay cheap on large graphs: names, wires and each node's successors are
indexed, so one edit costs what it touches, and the bulk edits a file or a
paste needs (``add_nodes``, ``connect_all``) check the whole graph for cycles
once, in linear time.
"""

from __future__ import annotations

import copy
import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .events import Event
from .layer_names import LayerNames
from .layers import ParamError, name_problem, spec_for
from .network_errors import (CycleError, DuplicateEdgeError, DuplicateIdError, InvalidNameError,
                             InvalidParamsError, NameTakenError, NetworkError, NotConnectedError, SelfLoopError,
                             TakesNoInputsError, UnknownLayerTypeError, UnknownNodeError)

__all__ = ["Change", "CycleError", "Edge", "Network", "NetworkError", "Node", "RemovedNodes", "find_cycle",
           "sequential"]

#: digits of an ``nK`` id that move the id counter; longer ids are kept as they are
_MAX_ID_DIGITS = 18


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any]
    name: str
    position: tuple[float, float] = (0.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
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

    kind: str  # node_added, node_removed, edge_added, edge_removed, params_changed, renamed, moved, reset
    node_ids: tuple[str, ...] = ()


@dataclass
class RemovedNodes:
    """Everything ``remove_nodes`` took out, so ``restore`` can put it back exactly."""

    nodes: list[tuple[int, Node]] = field(default_factory=list)
    edges: list[tuple[int, Edge]] = field(default_factory=list)


@dataclass(frozen=True)
class _PlannedNode:
    spec: Any
    params: dict[str, Any]
    name: str | None
    position: tuple[float, float]
    node_id: str | None


class Network:
    """The editable graph. Nodes keep insertion order; edges keep list order,
    which is the order of a node's inputs (it matters for Concatenate)."""

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._edges: list[Edge] = []
        self._edge_set: set[Edge] = set()
        self._successors: dict[str, dict[str, None]] = {}  # an ordered set per node
        self._names = LayerNames()
        self._next_id = 1
        self.changed = Event()

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
            raise UnknownNodeError(node_id) from None

    def has_node(self, node_id: str) -> bool:
        return node_id in self._nodes

    def node_by_name(self, name: str) -> Node | None:
        owner = self._names.owner(name)
        return None if owner is None else self._nodes[owner]

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

    # ------------------------------------------------------------------ adding nodes
    def add_node(self, type_name: str, params: Mapping[str, Any] | None = None, *, name: str | None = None,
                 position: tuple[float, float] = (0.0, 0.0), node_id: str | None = None) -> Node:
        """Add a layer; parameters are completed with defaults and checked."""
        try:
            (node,) = self.add_nodes([{"type": type_name, "params": params, "name": name, "position": position,
                                       "id": node_id}])
        except NetworkError as error:
            error.index = None
            raise
        return node

    def add_nodes(self, items: Iterable[Mapping[str, Any]]) -> list[Node]:
        """Add many layers at once (a file, a copy); ``items`` look like ``Node.to_dict()``,
        with ``id``, ``name``, ``params`` and ``position`` optional.

        Everything is checked before anything is added; a refusal's ``index`` names the
        item.  A missing name never takes one that a later item gives explicitly."""
        ids: dict[str, int] = {}
        names: dict[str, int] = {}
        planned = []
        for index, item in enumerate(items):
            try:
                planned.append(self._plan_node(item, index, ids, names))
            except NetworkError as error:
                raise error.at(index) from None
        for node_id in ids:
            self._bump_id(node_id)
        node_ids = [plan.node_id if plan.node_id is not None else self._take_new_id() for plan in planned]
        for name, index in names.items():
            self._names.add(name, node_ids[index])
        added = []
        for plan, node_id in zip(planned, node_ids):
            name = plan.name
            if name is None:
                name = self._names.fresh(plan.spec.name_prefix)
                self._names.add(name, node_id)
            node = Node(node_id, plan.spec.type_name, plan.params, name, plan.position)
            self._nodes[node_id] = node
            self._successors[node_id] = {}
            added.append(node)
            self.changed.emit(Change("node_added", (node_id,)))
        return added

    def _plan_node(self, item: Mapping[str, Any], index: int, ids: dict[str, int],
                   names: dict[str, int]) -> _PlannedNode:
        spec = self._spec(item["type"])
        name, node_id = item.get("name"), item.get("id")
        values = self._checked_params(spec, item.get("params"), name or "")
        if node_id is not None:
            if node_id in self._nodes or node_id in ids:
                raise DuplicateIdError(node_id, ids.get(node_id))
            ids[node_id] = index
        if name is not None:
            problem = name_problem(name)
            if problem:
                raise InvalidNameError(name, problem)
            if name in self._names or name in names:
                raise NameTakenError(name, self._names.owner(name), names.get(name))
            names[name] = index
        position = item.get("position", (0.0, 0.0))
        return _PlannedNode(spec, values, name, (float(position[0]), float(position[1])), node_id)

    # ------------------------------------------------------------------ removing nodes
    def remove_nodes(self, node_ids: Iterable[str]) -> RemovedNodes:
        """Remove nodes and every wire touching them; returns what ``restore`` needs."""
        doomed = set(node_ids)
        for node_id in doomed:
            self.node(node_id)
        removed = RemovedNodes()
        for index, node in enumerate(self._nodes.values()):
            if node.id in doomed:
                removed.nodes.append((index, node))
        kept = []
        for index, edge in enumerate(self._edges):
            if edge.source in doomed or edge.target in doomed:
                removed.edges.append((index, edge))
                self._unindex_edge(edge)
            else:
                kept.append(edge)
        self._edges = kept
        for node_id in doomed:
            self._names.remove(self._nodes.pop(node_id).name)
            del self._successors[node_id]
        self.changed.emit(Change("node_removed", tuple(sorted(doomed))))
        return removed

    def restore(self, removed: RemovedNodes) -> None:
        """Put back what ``remove_nodes`` returned, at the same places."""
        for _, node in removed.nodes:
            if node.id in self._nodes:
                raise DuplicateIdError(node.id)
            if node.name in self._names:
                raise NameTakenError(node.name, self._names.owner(node.name))
        items = list(self._nodes.items())
        for index, node in removed.nodes:
            items.insert(index, (node.id, node))
            self._names.add(node.name, node.id)
            self._successors[node.id] = {}
        self._nodes = dict(items)
        for index, edge in removed.edges:
            self._edges.insert(index, edge)
            self._index_edge(edge)
        self.changed.emit(Change("node_added", tuple(node.id for _, node in removed.nodes)))

    # ------------------------------------------------------------------ wires
    def connect(self, source: str, target: str, index: int | None = None) -> Edge:
        """Wire ``source``'s output into ``target``; refuses cycles and duplicates.
        The cycle check walks only what ``target`` already feeds."""
        edge = self._checked_edge(source, target)
        loop = self._path(target, source)
        if loop is not None:
            raise self._cycle(loop)
        if index is None:
            self._edges.append(edge)
        else:
            self._edges.insert(index, edge)
        self._index_edge(edge)
        self.changed.emit(Change("edge_added", (source, target)))
        return edge

    def connect_all(self, pairs: Iterable[tuple[str, str]]) -> list[Edge]:
        """Wire many edges at once (a file, a copy), appended in order.

        Each is checked as ``connect`` checks it, but the cycle check runs once over the
        whole graph, so the time is linear in its size.  Nothing is added when one is
        refused; the error's ``index`` names it (for a cycle: the last listed edge of it)."""
        new: dict[Edge, int] = {}
        for index, (source, target) in enumerate(pairs):
            try:
                edge = self._checked_edge(source, target, new)
            except NetworkError as error:
                raise error.at(index) from None
            new[edge] = index
        loop = find_cycle(self._nodes, itertools.chain(self._edges, new))
        if loop is not None:
            edges_of_loop = [Edge(a, b) for a, b in zip(loop, loop[1:] + loop[:1])]
            closing = max(range(len(loop)), key=lambda i: new.get(edges_of_loop[i], -1))
            loop = loop[closing + 1:] + loop[:closing + 1]  # from the closing edge's target round to its source
            raise self._cycle(loop).at(new[edges_of_loop[closing]])
        for edge in new:
            self._edges.append(edge)
            self._index_edge(edge)
            self.changed.emit(Change("edge_added", (edge.source, edge.target)))
        return list(new)

    def check_connection(self, source: str, target: str) -> None:
        """Raise a ``NetworkError`` saying why ``source -> target`` cannot be wired."""
        self._checked_edge(source, target)
        loop = self._path(target, source)
        if loop is not None:
            raise self._cycle(loop)

    def disconnect(self, source: str, target: str) -> int:
        """Remove a wire; returns its list index so undo can reinsert it there."""
        edge = Edge(source, target)
        if edge not in self._edge_set:
            raise NotConnectedError(source, target, self.node(source).name, self.node(target).name)
        index = self._edges.index(edge)
        del self._edges[index]
        self._unindex_edge(edge)
        self.changed.emit(Change("edge_removed", (source, target)))
        return index

    def _checked_edge(self, source: str, target: str, pending: Mapping[Edge, int] = {}) -> Edge:
        """The edge, after every check but the cycle check."""
        src, dst = self.node(source), self.node(target)
        if source == target:
            raise SelfLoopError(source, src.name)
        edge = Edge(source, target)
        if edge in self._edge_set or edge in pending:
            raise DuplicateEdgeError(source, target, src.name, dst.name)
        if spec_for(dst.type).max_inputs == 0:
            raise TakesNoInputsError(target, dst.name, dst.type)
        return edge

    def _path(self, start: str, goal: str) -> list[str] | None:
        """Node ids of a path ``start -> ... -> goal`` along the wires, or None."""
        came_from: dict[str, str | None] = {start: None}
        stack = [start]
        while stack:
            current = stack.pop()
            if current == goal:
                path = []
                step: str | None = current
                while step is not None:
                    path.append(step)
                    step = came_from[step]
                return path[::-1]
            for following in self._successors[current]:
                if following not in came_from:
                    came_from[following] = current
                    stack.append(following)
        return None

    def _cycle(self, loop: list[str]) -> CycleError:
        """The error for a wire from ``loop[-1]`` back to ``loop[0]``."""
        return CycleError(loop[-1], loop[0], loop, [self._nodes[n].name for n in loop])

    def _index_edge(self, edge: Edge) -> None:
        self._edge_set.add(edge)
        self._successors[edge.source][edge.target] = None

    def _unindex_edge(self, edge: Edge) -> None:
        self._edge_set.discard(edge)
        self._successors[edge.source].pop(edge.target, None)

    # ------------------------------------------------------------------ other edits
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
            self._names.remove(node.name)
            self._names.add(name, node_id)
        previous, node.name = node.name, name
        self.changed.emit(Change("renamed", (node_id,)))
        return previous

    def move(self, positions: Mapping[str, tuple[float, float]]) -> None:
        for node_id, (x, y) in positions.items():
            self.node(node_id).position = (float(x), float(y))
        self.changed.emit(Change("moved", tuple(positions)))

    def clear(self) -> None:
        self._nodes.clear()
        self._edges.clear()
        self._edge_set.clear()
        self._successors.clear()
        self._names.clear()
        self._next_id = 1
        self.changed.emit(Change("reset"))

    # ------------------------------------------------------------------ names and ids
    def unique_name(self, prefix: str) -> str:
        """``conv2d_1``, ``conv2d_2``...: the lowest free number, Keras style."""
        return self._names.fresh(prefix)

    def next_free_id(self) -> str:
        """The id the next ``add_node`` would choose; commands use it to replay an edit exactly."""
        return self._new_id()

    def _new_id(self) -> str:
        while f"n{self._next_id}" in self._nodes:
            self._next_id += 1
        return f"n{self._next_id}"

    def _take_new_id(self) -> str:
        node_id = self._new_id()
        self._next_id += 1
        return node_id

    def _bump_id(self, node_id: str) -> None:
        digits = node_id[1:]
        if node_id.startswith("n") and digits.isascii() and digits.isdigit() and len(digits) <= _MAX_ID_DIGITS:
            self._next_id = max(self._next_id, int(digits) + 1)

    def check_name(self, name: str, node_id: str | None = None) -> None:
        """Raise a ``NetworkError`` if ``name`` cannot name ``node_id`` (or a new node)."""
        problem = name_problem(name)
        if problem:
            raise InvalidNameError(name, problem)
        owner = self._names.owner(name)
        if name in self._names and owner != node_id:
            raise NameTakenError(name, owner)

    @staticmethod
    def _spec(type_name: str):
        try:
            return spec_for(type_name)
        except KeyError as error:
            raise UnknownLayerTypeError(type_name, error.args[0]) from None

    @staticmethod
    def _checked_params(spec, params: Mapping[str, Any] | None, name: str = "") -> dict[str, Any]:
        try:
            return spec.normalize_params(params)
        except ParamError as error:
            raise InvalidParamsError(name or spec.type_name, error.param, error.message) from error

    # ------------------------------------------------------------------ copying and files
    def to_dict(self) -> dict[str, Any]:
        return {"nodes": [n.to_dict() for n in self._nodes.values()],
                "edges": [e.to_dict() for e in self._edges]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Network":
        """Rebuild a network; raises a ``NetworkError`` whose ``index`` names the first bad
        node (or, if the nodes are fine, the first bad edge)."""
        network = cls()
        network.add_nodes(data.get("nodes", []))
        network.connect_all((item["source"], item["target"]) for item in data.get("edges", []))
        return network

    def copy(self) -> "Network":
        return Network.from_dict(self.to_dict())

    def same_as(self, other: "Network") -> bool:
        """Equal documents: same nodes (ids, types, params, names, positions) and wires in order."""
        return self.to_dict() == other.to_dict()


def find_cycle(nodes: Iterable[str], edges: Iterable[Edge]) -> list[str] | None:
    """One cycle of the graph as node ids in flow order (the last feeds the first), or None.

    Linear time: Kahn's algorithm orders what it can; every node it cannot order has
    an unordered input, so walking back through those must come round to a repeat."""
    inputs: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    outputs: dict[str, list[str]] = {node_id: [] for node_id in inputs}
    for edge in edges:
        inputs[edge.target].append(edge.source)
        outputs[edge.source].append(edge.target)
    waiting = {node_id: len(sources) for node_id, sources in inputs.items()}
    ready = [node_id for node_id, count in waiting.items() if count == 0]
    while ready:
        for target in outputs[ready.pop()]:
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    stuck = next((node_id for node_id, count in waiting.items() if count > 0), None)
    if stuck is None:
        return None
    walk: dict[str, int] = {}
    while stuck not in walk:
        walk[stuck] = len(walk)
        stuck = next(source for source in inputs[stuck] if waiting[source] > 0)
    backwards = list(walk)[walk[stuck]:]
    return backwards[::-1]


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
