"""Group blocks: named, nestable sets of layers that the canvas can show as one block.

Groups are a view over the network's nodes and never part of what is computed:
the analysis, the builder, the trainer and the exporters see the same nodes and
wires with or without them.  Only two things read them: the canvas (which block
stands for which nodes) and the names the analysis gives nodes, their path
through the groups (``layer2/block1/conv1``).

A ``Groups`` value is immutable: every edit (group, ungroup, rename, expand)
makes a new one, and ``Network.set_groups`` swaps it in, so an undo step only
has to keep the value from before.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator, Mapping

DEFAULT_KIND = "Group"
NAME_MAX = 80
PATH_SEPARATOR = "/"
_KEYS = ("id", "name", "kind", "parent", "nodes", "collapsed")


class GroupError(ValueError):
    """A group structure that cannot be: ``where`` (e.g. ``groups[2].parent``), the problem, the fix."""

    def __init__(self, where: str, problem: str, fix: str) -> None:
        super().__init__(f"{where}: {problem}. {fix}" if where else f"{problem}. {fix}")
        self.where, self.problem, self.fix = where, problem, fix


@dataclass(frozen=True)
class Group:
    """``node_ids`` are the layers directly inside; nested groups name this one as ``parent``."""

    id: str
    name: str
    node_ids: tuple[str, ...]
    parent: str | None = None
    kind: str = DEFAULT_KIND
    collapsed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "parent": self.parent,
                "nodes": list(self.node_ids), "collapsed": self.collapsed}


@dataclass(frozen=True)
class Groups:
    """All groups of a network, in their list order (parents before children is not required)."""

    items: tuple[Group, ...] = ()
    _by_id: dict[str, Group] = field(default_factory=dict, init=False, repr=False, compare=False)
    _owner: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _children: dict[str | None, list[str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for group in self.items:
            self._by_id[group.id] = group
            self._children.setdefault(group.parent, []).append(group.id)
            for node_id in group.node_ids:
                self._owner[node_id] = group.id

    # ------------------------------------------------------------------ reading
    def __iter__(self) -> Iterator[Group]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, group_id: object) -> bool:
        return group_id in self._by_id

    def get(self, group_id: str) -> Group:
        try:
            return self._by_id[group_id]
        except KeyError:
            raise GroupError("", f"there is no group with id {group_id!r}", "Choose an existing group.") from None

    def owner(self, node_id: str) -> str | None:
        """The group ``node_id`` sits directly in, or None."""
        return self._owner.get(node_id)

    def children(self, group_id: str | None) -> list[str]:
        """Groups directly inside ``group_id`` (None: the top level), in list order."""
        return list(self._children.get(group_id, ()))

    def ancestors(self, group_id: str | None) -> list[str]:
        """``group_id`` and the groups around it, innermost first."""
        chain = []
        while group_id is not None:
            chain.append(group_id)
            group_id = self._by_id[group_id].parent
        return chain

    def chain(self, node_id: str) -> list[str]:
        """The groups around a node, innermost first."""
        return self.ancestors(self._owner.get(node_id))

    def descendant_nodes(self, group_id: str) -> list[str]:
        """Every node inside ``group_id``, nested groups included."""
        found = list(self._by_id[group_id].node_ids)
        for child in self.descendant_groups(group_id):
            found += self._by_id[child].node_ids
        return found

    def descendant_groups(self, group_id: str) -> list[str]:
        """Every group inside ``group_id``, depth first (without recursion: nesting may be deep)."""
        found: list[str] = []
        stack = list(reversed(self.children(group_id)))
        while stack:
            child = stack.pop()
            found.append(child)
            stack.extend(reversed(self.children(child)))
        return found

    def hidden_in(self, node_id: str) -> str | None:
        """The outermost collapsed group around ``node_id`` (the block that shows it), or None."""
        shown_by = None
        for group_id in self.chain(node_id):
            if self._by_id[group_id].collapsed:
                shown_by = group_id
        return shown_by

    def group_hidden_in(self, group_id: str) -> str | None:
        """The outermost collapsed group strictly around ``group_id``, or None."""
        shown_by = None
        for outer in self.ancestors(self._by_id[group_id].parent):
            if self._by_id[outer].collapsed:
                shown_by = outer
        return shown_by

    def next_id(self) -> str:
        number = len(self.items) + 1
        while f"g{number}" in self._by_id:
            number += 1
        return f"g{number}"

    def to_list(self) -> list[dict[str, Any]]:
        return [group.to_dict() for group in self.items]

    # ------------------------------------------------------------------ edits: each returns a new value
    def replaced(self, group: Group) -> "Groups":
        return Groups(tuple(group if g.id == group.id else g for g in self.items))

    def with_collapsed(self, group_id: str, collapsed: bool) -> "Groups":
        return self.replaced(replace(self.get(group_id), collapsed=collapsed))

    def renamed(self, group_id: str, name: str) -> "Groups":
        return self.replaced(replace(self.get(group_id), name=check_name(name)))

    def grouped(self, name: str, node_ids: Iterable[str], group_ids: Iterable[str] = (), *,
                kind: str = DEFAULT_KIND, group_id: str | None = None, collapsed: bool = False) -> "Groups":
        """A new group around ``node_ids`` and ``group_ids``, which must all sit in the same group
        (or all at the top level); the new group takes their place there."""
        nodes, groups = list(dict.fromkeys(node_ids)), list(dict.fromkeys(group_ids))
        if not nodes and not groups:
            raise GroupError("", "nothing is selected to group", "Select the blocks to group first.")
        parents = {self._owner.get(n) for n in nodes} | {self.get(g).parent for g in groups}
        if len(parents) != 1:
            raise GroupError("", "the selected blocks sit in different groups",
                             "Select blocks from one group (or from the top level) only.")
        parent = parents.pop()
        new_id = group_id or self.next_id()
        if new_id in self._by_id:
            raise GroupError("", f"a group with id {new_id!r} already exists", "Use a new id.")
        moved, chosen = set(nodes), set(groups)
        items = []
        for group in self.items:
            if group.id in chosen:
                group = replace(group, parent=new_id)
            if group.id == parent:
                group = replace(group, node_ids=tuple(n for n in group.node_ids if n not in moved))
            items.append(group)
        items.append(Group(new_id, check_name(name), tuple(nodes), parent, check_kind(kind), collapsed))
        return Groups(tuple(items))

    def ungrouped(self, group_id: str) -> "Groups":
        """Remove a group; what it held goes to the group around it."""
        gone = self.get(group_id)
        items = []
        for group in self.items:
            if group.id == gone.id:
                continue
            if group.parent == gone.id:
                group = replace(group, parent=gone.parent)
            if group.id == gone.parent:
                group = replace(group, node_ids=group.node_ids + gone.node_ids)
            items.append(group)
        return Groups(tuple(items))

    def without_nodes(self, node_ids: Iterable[str]) -> "Groups":
        """The groups once ``node_ids`` are deleted: groups left holding nothing go too."""
        doomed = set(node_ids)
        if not doomed & set(self._owner):
            return self
        groups = Groups(tuple(replace(g, node_ids=tuple(n for n in g.node_ids if n not in doomed))
                              for g in self.items))
        while True:
            empty = [g.id for g in groups.items if not g.node_ids and not groups.children(g.id)]
            if not empty:
                return groups
            groups = Groups(tuple(g for g in groups.items if g.id not in empty))

    # ------------------------------------------------------------------ reading plain data
    @classmethod
    def from_list(cls, items: Any, node_ids: Iterable[str], where: str = "groups") -> "Groups":
        """Groups from plain data (a file, the clipboard); ``GroupError`` names the first bad place."""
        if not isinstance(items, list):
            raise GroupError(where, f"expected a list, found {type(items).__name__}", 'Write "groups" as [...].')
        known_nodes = set(node_ids)
        groups: list[Group] = []
        seen_ids: dict[str, str] = {}
        placed: dict[str, str] = {}
        for index, item in enumerate(items):
            here = f"{where}[{index}]"
            group = _group_from_dict(item, here)
            if group.id in seen_ids:
                raise GroupError(f"{here}.id", f"id {group.id!r} is already used by {seen_ids[group.id]}",
                                 "Give every group a different id.")
            seen_ids[group.id] = here
            for position, node_id in enumerate(group.node_ids):
                if node_id not in known_nodes:
                    raise GroupError(f"{here}.nodes[{position}]", f"there is no node with id {node_id!r}",
                                     "Remove it from the group, or correct the id.")
                if node_id in placed:
                    raise GroupError(f"{here}.nodes[{position}]", f"node {node_id!r} is already in {placed[node_id]}",
                                     "A layer sits directly in one group only; remove it from one of them.")
                placed[node_id] = here
            groups.append(group)
        for index, group in enumerate(groups):
            if group.parent is not None and group.parent not in seen_ids:
                raise GroupError(f"{where}[{index}].parent", f"there is no group with id {group.parent!r}",
                                 "Set parent to the id of another group, or to null.")
        result = cls(tuple(groups))
        for index, group in enumerate(groups):
            seen: set[str] = set()
            current: str | None = group.id
            while current is not None:
                if current in seen:
                    raise GroupError(f"{where}[{index}].parent", f"group {group.id!r} ends up inside itself",
                                     "Break the loop of parents; one group must sit at the top level.")
                seen.add(current)
                current = result._by_id[current].parent
            if not group.node_ids and not result.children(group.id):
                raise GroupError(f"{where}[{index}].nodes", f"group {group.name!r} holds no layers",
                                 "Put layers in it, or remove the group.")
        return result


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise GroupError("name", "a group needs a name", "Give it a name such as 'block1'.")
    name = name.strip()
    if PATH_SEPARATOR in name:
        raise GroupError("name", f"{name!r} contains '{PATH_SEPARATOR}', which separates groups in paths",
                         "Use another character, such as '_'.")
    if len(name) > NAME_MAX or not name.isprintable():
        raise GroupError("name", f"a group name must be printable text of at most {NAME_MAX} characters",
                         "Choose a shorter name.")
    return name


def check_kind(kind: Any) -> str:
    if not isinstance(kind, str) or len(kind) > NAME_MAX or not kind.isprintable():
        raise GroupError("kind", f"the kind must be text of at most {NAME_MAX} characters",
                         f"Describe the block briefly, e.g. 'Residual block', or use '{DEFAULT_KIND}'.")
    return kind.strip() or DEFAULT_KIND


def _group_from_dict(item: Any, where: str) -> Group:
    if not isinstance(item, dict):
        raise GroupError(where, "expected a group object", 'Write each group as {"id": ..., "name": ..., "nodes": [...]}.')
    for key in item:
        if key not in _KEYS:
            raise GroupError(f"{where}.{key}", f"unknown group field {key!r}", f"Remove it. Known: {', '.join(_KEYS)}.")
    group_id = item.get("id")
    if not isinstance(group_id, str) or not group_id:
        raise GroupError(f"{where}.id", "a group needs a non-empty text id", 'Add an "id" such as "g1".')
    try:
        name, kind = check_name(item.get("name")), check_kind(item.get("kind", DEFAULT_KIND))
    except GroupError as error:
        raise GroupError(f"{where}.{error.where}", error.problem, error.fix) from None
    parent = item.get("parent")
    if parent is not None and (not isinstance(parent, str) or not parent):
        raise GroupError(f"{where}.parent", "parent must be a group id or null", "Set it to another group's id or null.")
    nodes = item.get("nodes", [])
    if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
        raise GroupError(f"{where}.nodes", "expected a list of node ids", 'Write "nodes" as ["n1", "n2", ...].')
    collapsed = item.get("collapsed", False)
    if not isinstance(collapsed, bool):
        raise GroupError(f"{where}.collapsed", "expected true or false", 'Set "collapsed" to true or false.')
    return Group(group_id, name, tuple(nodes), parent, kind, collapsed)


def node_paths(names: Mapping[str, str], groups: Groups) -> dict[str, str]:
    """``node id -> path`` such as ``layer2/block1/conv1``: the group names around a node, then
    its name.  A name that starts with its groups' names (``layer2_block1_conv1``, as templates
    name layers) drops that prefix in the path, unless the rest is another layer's name, so two
    layers never share a path."""
    if not len(groups):
        return dict(names)
    taken = set(names.values())
    paths = {}
    for node_id, name in names.items():
        chain = [groups.get(g).name for g in reversed(groups.chain(node_id))]
        if not chain:
            paths[node_id] = name
            continue
        prefix = "_".join(chain) + "_"
        local = name[len(prefix):] if name.startswith(prefix) else ""
        paths[node_id] = PATH_SEPARATOR.join([*chain, local if local and local not in taken else name])
    return paths
