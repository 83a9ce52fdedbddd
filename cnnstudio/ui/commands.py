"""Every edit is one QUndoCommand. Commands only call ``Network`` methods; the
views follow the network's change events, so undo needs no view code."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from PySide6.QtGui import QUndoCommand

from cnnstudio.core.fragment import PlannedNode
from cnnstudio.core.layout import room_below
from cnnstudio.core.network import Network, RemovedNodes


class MacroCommand(QUndoCommand):
    """Several commands as one undo step: redo runs them in order, undo in reverse.

    Qt's own way, passing ``parent=`` to a QUndoCommand, is unsafe in PySide6: that
    constructor does not give the child to its parent, so a child whose Python object
    is dropped is freed while the parent still lists it (a crash on push), and a kept
    child is freed twice when the stack deletes the parent.  So the steps live in a
    Python list here and every command below joins its ``parent`` macro that way."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.steps: list[QUndoCommand] = []

    def redo(self) -> None:
        for step in self.steps:
            step.redo()

    def undo(self) -> None:
        for step in reversed(self.steps):
            step.undo()


def _join(command: QUndoCommand, parent: MacroCommand | None) -> None:
    if parent is not None:
        parent.steps.append(command)


class AddNode(QUndoCommand):
    def __init__(self, network: Network, type_name: str, params: Mapping[str, Any] | None = None,
                 position: tuple[float, float] = (0.0, 0.0), name: str | None = None,
                 node_id: str | None = None, parent: MacroCommand | None = None) -> None:
        super().__init__(f"Add {type_name}")
        _join(self, parent)
        self._network = network
        self._args = (type_name, dict(params or {}), position, name)
        self.node_id = node_id or network.next_free_id()
        self._removed: RemovedNodes | None = None

    def redo(self) -> None:
        if self._removed is not None:
            self._network.restore(self._removed)
            return
        type_name, params, position, name = self._args
        self._network.add_node(type_name, params, name=name, position=position, node_id=self.node_id)

    def undo(self) -> None:
        self._removed = self._network.remove_nodes([self.node_id])


class RemoveNodes(QUndoCommand):
    """Removes nodes with their wires; undo puts both back exactly."""

    def __init__(self, network: Network, node_ids: Iterable[str], parent: MacroCommand | None = None) -> None:
        ids = list(node_ids)
        text = f"Delete {network.node(ids[0]).name}" if len(ids) == 1 else f"Delete {len(ids)} layers"
        super().__init__(text)
        _join(self, parent)
        self._network = network
        self._ids = ids
        self._removed: RemovedNodes | None = None

    def redo(self) -> None:
        self._removed = self._network.remove_nodes(self._ids)

    def undo(self) -> None:
        self._network.restore(self._removed)


class Connect(QUndoCommand):
    def __init__(self, network: Network, source: str, target: str, index: int | None = None,
                 parent: MacroCommand | None = None) -> None:
        super().__init__("Connect")
        _join(self, parent)
        self._network, self._source, self._target, self._index = network, source, target, index

    def redo(self) -> None:
        self._network.connect(self._source, self._target, self._index)

    def undo(self) -> None:
        self._network.disconnect(self._source, self._target)


class Disconnect(QUndoCommand):
    def __init__(self, network: Network, source: str, target: str, parent: MacroCommand | None = None) -> None:
        super().__init__("Disconnect")
        _join(self, parent)
        self._network, self._source, self._target = network, source, target
        self._index = 0

    def redo(self) -> None:
        self._index = self._network.disconnect(self._source, self._target)

    def undo(self) -> None:
        self._network.connect(self._source, self._target, self._index)


class SetParams(QUndoCommand):
    """A parameter edit; consecutive edits of the same parameter merge into one step."""

    MERGE_ID = 1001

    def __init__(self, network: Network, node_id: str, params: Mapping[str, Any],
                 parent: MacroCommand | None = None) -> None:
        node = network.node(node_id)
        super().__init__(f"Edit {node.name} {', '.join(params)}")
        _join(self, parent)
        self._network, self._node_id = network, node_id
        self._before = dict(node.params)
        self._changes = dict(params)

    def redo(self) -> None:
        self._network.set_params(self._node_id, self._changes)

    def undo(self) -> None:
        self._network.set_params(self._node_id, self._before)

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParams) or other._node_id != self._node_id \
                or set(other._changes) != set(self._changes):
            return False
        self._changes = dict(other._changes)
        return True


class Rename(QUndoCommand):
    def __init__(self, network: Network, node_id: str, name: str, parent: MacroCommand | None = None) -> None:
        super().__init__(f"Rename to {name}")
        _join(self, parent)
        self._network, self._node_id, self._name = network, node_id, name
        self._before = network.node(node_id).name

    def redo(self) -> None:
        self._network.rename(self._node_id, self._name)

    def undo(self) -> None:
        self._network.rename(self._node_id, self._before)


class Move(QUndoCommand):
    """Positions before and after a drag (or a tidy); pushed once when the gesture ends."""

    def __init__(self, network: Network, before: Mapping[str, tuple[float, float]],
                 after: Mapping[str, tuple[float, float]], text: str = "Move",
                 parent: MacroCommand | None = None) -> None:
        super().__init__(text)
        _join(self, parent)
        self._network, self._before, self._after = network, dict(before), dict(after)

    def redo(self) -> None:
        self._network.move(self._after)

    def undo(self) -> None:
        self._network.move(self._before)


def paste_command(network: Network, planned: list[PlannedNode], wires: list[tuple[str, str]],
                  text: str = "Paste") -> QUndoCommand:
    """One undo step that adds the planned nodes and wires (from ``core.fragment``)."""
    macro = MacroCommand(text)
    for item in planned:
        AddNode(network, item.type, item.params, item.position, item.name, item.node_id, parent=macro)
    for source, target in wires:
        Connect(network, source, target, parent=macro)
    return macro


def make_room_below(network: Network, macro: MacroCommand, top: float, row: float, keep: set[str]) -> None:
    """Add to ``macro`` a move of the blocks from ``top`` down (but ``keep``) one ``row`` lower:
    room for the block the macro inserts there."""
    moved = room_below(network, top, row, keep)
    if moved:
        Move(network, {node_id: network.node(node_id).position for node_id in moved}, moved, parent=macro)


def insert_on_wire_command(network: Network, source: str, target: str, type_name: str,
                           position: tuple[float, float], params: Mapping[str, Any] | None = None) -> QUndoCommand:
    """Drop a block onto a wire: source -> new -> target, as one undo step."""
    macro = MacroCommand(f"Insert {type_name}")
    # the new wire into ``target`` takes the old wire's place, so a merge keeps its input order
    index = [(e.source, e.target) for e in network.edges].index((source, target))
    Disconnect(network, source, target, parent=macro)
    add = AddNode(network, type_name, params, position, parent=macro)
    Connect(network, source, add.node_id, parent=macro)
    Connect(network, add.node_id, target, index=index, parent=macro)
    return macro


def append_after_command(network: Network, after: str | None, type_name: str,
                         position: tuple[float, float], params: Mapping[str, Any] | None = None) -> QUndoCommand:
    """Add a block and wire ``after`` into it; it takes over ``after``'s outgoing wires
    so a double-click in the palette extends a chain in place."""
    macro = MacroCommand(f"Append {type_name}")
    add = AddNode(network, type_name, params, position, parent=macro)
    if after is not None:
        followers = network.outputs_of(after)
        for target in followers:
            Disconnect(network, after, target, parent=macro)
        Connect(network, after, add.node_id, parent=macro)
        for target in followers:
            Connect(network, add.node_id, target, parent=macro)
    return macro


class SetProjectSettings(QUndoCommand):
    """Dataset or training settings changed in the training view (one of the
    project's plain-data objects); consecutive changes of the same object merge."""

    MERGE_ID = 1002

    def __init__(self, document, key: str, value: dict) -> None:
        super().__init__(f"Change {key} settings")
        self._document, self._key = document, key
        self._before = document.settings(key)
        self._after = value

    def redo(self) -> None:
        self._document.set_settings(self._key, self._after)

    def undo(self) -> None:
        self._document.set_settings(self._key, self._before)

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetProjectSettings) or other._key != self._key:
            return False
        self._after = other._after
        return True
