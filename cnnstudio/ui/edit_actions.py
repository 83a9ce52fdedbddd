"""The Edit menu's work: delete, copy, paste, duplicate, append, tidy.
Each turns the current selection into one undo command on the document."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from cnnstudio.core.fragment import (copy_fragment, fragment_from_text, fragment_to_text,
                                     plan_paste)
from cnnstudio.core.layout import tidy_positions

from .canvas.node_item import ROW
from .canvas.scene import NetworkScene
from .commands import (Disconnect, MacroCommand, Move, RemoveNodes, append_after_command, make_room_below,
                       paste_command)


class EditActions:
    def __init__(self, scene: NetworkScene) -> None:
        self.scene = scene
        self.document = scene.document

    @property
    def network(self):
        return self.document.network

    def delete_selection(self) -> bool:
        nodes = self.scene.selected_node_ids()
        edges = [e for e in self.scene.selected_edges() if e[0] not in nodes and e[1] not in nodes]
        if not nodes and not edges:
            return False
        if nodes and not edges:
            return self.document.push(RemoveNodes(self.network, nodes))
        macro = MacroCommand("Delete selection")
        for source, target in edges:
            Disconnect(self.network, source, target, parent=macro)
        if nodes:
            RemoveNodes(self.network, nodes, parent=macro)
        return self.document.push(macro)

    def copy(self) -> bool:
        nodes = self.scene.selected_node_ids()
        if not nodes:
            return False
        text = fragment_to_text(copy_fragment(self.network, nodes))
        # plain text, not a QMimeData: the clipboard takes ownership of a QMimeData that Python also
        # owns, and PySide frees it twice at exit (a crash when the app quits)
        QGuiApplication.clipboard().setText(text)
        return True

    def cut(self) -> bool:
        return self.copy() and self.delete_selection()

    def paste(self) -> bool:
        fragment = fragment_from_text(QGuiApplication.clipboard().text())
        if fragment is None:
            return False
        return self._paste_fragment(fragment, "Paste")

    def duplicate(self) -> bool:
        nodes = self.scene.selected_node_ids()
        if not nodes:
            return False
        return self._paste_fragment(copy_fragment(self.network, nodes), "Duplicate")

    def _paste_fragment(self, fragment: dict, text: str) -> bool:
        planned, wires = plan_paste(self.network, fragment, offset=(40.0, 40.0))
        if not planned or not self.document.push(paste_command(self.network, planned, wires, text)):
            return False
        self.scene.select_nodes([p.node_id for p in planned])
        return True

    def append(self, type_name: str) -> str | None:
        """Add ``type_name`` after the selected block (or below everything) and wire it in."""
        selected = self.scene.selected_node_ids()
        after = selected[-1] if len(selected) == 1 else None
        if after is None and not selected:
            output = self.document.analysis.output_id
            after = output if output is not None and self.network.has_node(output) else None
        before = {n.id for n in self.network.nodes}
        position = self.scene.free_position_below(after)
        command = append_after_command(self.network, after, type_name, position)
        if after is not None:
            make_room_below(self.network, command, position[1], ROW, keep={after})
        if not self.document.push(command):
            return None
        added = next(n.id for n in self.network.nodes if n.id not in before)
        self.scene.select_nodes([added])
        return added

    def tidy(self) -> bool:
        if not len(self.network):
            return False
        first = self.network.nodes[0].position
        after = tidy_positions(self.network, origin=first)
        before = {n.id: n.position for n in self.network.nodes}
        changed = {k: v for k, v in after.items() if before[k] != v}
        if not changed:
            return False
        return self.document.push(Move(self.network, {k: before[k] for k in changed}, changed, "Tidy layout"))
