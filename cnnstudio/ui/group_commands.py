"""The undo steps of group blocks: group, ungroup, rename, and open or close one in place.

Each is built from the core's pure pieces (``core.groups`` for the structure,
``core.group_layout`` for the moves that make or give back room) as one macro of a
``Move`` and a ``SetGroups``, so undo puts back positions and structure exactly."""

from __future__ import annotations

from typing import Iterable

from PySide6.QtGui import QUndoCommand

from cnnstudio.core.group_layout import collapse_moves, expand_moves
from cnnstudio.core.groups import DEFAULT_KIND, Groups
from cnnstudio.core.network import Network

from .commands import MacroCommand, Move, SetGroups


def _move(network: Network, moves: dict, macro: MacroCommand) -> None:
    if moves:
        Move(network, {n: network.node(n).position for n in moves}, moves, parent=macro)


def toggle_group_command(network: Network, group_id: str) -> QUndoCommand:
    """Open a collapsed group in place, or close an open one."""
    group = network.groups.get(group_id)
    opening = group.collapsed
    macro = MacroCommand(f"{'Expand' if opening else 'Collapse'} {group.name}")
    _move(network, expand_moves(network, group_id) if opening else collapse_moves(network, group_id), macro)
    SetGroups(network, network.groups.with_collapsed(group_id, not opening), macro.text(), parent=macro)
    return macro


def free_group_name(groups: Groups, base: str = "group") -> str:
    taken = {g.name for g in groups}
    number = 1
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


def group_command(network: Network, node_ids: Iterable[str], group_ids: Iterable[str] = (),
                  name: str | None = None, kind: str = DEFAULT_KIND) -> tuple[QUndoCommand, str]:
    """Group blocks into a new, open group, making room for its frame; returns the command and
    the new group's id.  ``GroupError`` when the blocks sit in different groups."""
    name = name or free_group_name(network.groups)
    grouped = network.groups.grouped(name, node_ids, group_ids, kind=kind, collapsed=True)
    group_id = grouped.items[-1].id
    macro = MacroCommand(f"Group {name}")
    _move(network, expand_moves(network, group_id, grouped), macro)
    SetGroups(network, grouped.with_collapsed(group_id, False), macro.text(), parent=macro)
    return macro, group_id


def ungroup_command(network: Network, group_id: str) -> QUndoCommand:
    """Remove a group (its layers stay, in the group around it); a closed one opens first,
    so its layers get their room back."""
    group = network.groups.get(group_id)
    macro = MacroCommand(f"Ungroup {group.name}")
    if group.collapsed:
        _move(network, expand_moves(network, group_id), macro)
    SetGroups(network, network.groups.ungrouped(group_id), macro.text(), parent=macro)
    return macro


def rename_group_command(network: Network, group_id: str, name: str) -> QUndoCommand:
    return SetGroups(network, network.groups.renamed(group_id, name), f"Rename group to {name.strip()}")
